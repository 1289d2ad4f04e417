/**
 * The network alone, fp32 against its int8 QDQ export (models/train/quantise.py), on the 1024x768 bench image
 * normalised as the pipeline does: both sessions open in one process and run interleaved (fp32, int8, fp32, ...)
 * so that load from other jobs falls on both alike; medians of the runs after a warm-up of each. Also how far
 * int8's outputs are from fp32's there (largest difference, share of pixels whose foreground > 0.5 flips).
 *
 *   npx tsx bench/int8.ts FP32.onnx INT8.onnx [MORE.onnx ...] [--runs 9]   wasm 1, wasm 2, native 2, a process each
 *   npx tsx bench/int8.ts FP32.onnx INT8.onnx ... --one wasm 2              one configuration in this process
 * One JSON line per configuration and int8 file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '../src/core/decode/index';
import { percentileStretch, toGrey } from '../src/core/normalise';
import type { ModelSidecar } from '../src/core/segment/model';
import type { OrtModuleLike, OrtSessionLike } from '../src/core/segment/ort-backend';
import { benchImage } from './pipeline';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

async function one(files: string[], backend: string, threads: number, runs: number): Promise<object[]> {
  const nativeName: string = 'onnxruntime-node';
  const ort = (
    backend === 'native' ? await import(nativeName) : await import('onnxruntime-web')
  ) as OrtModuleLike & {
    default?: OrtModuleLike;
  };
  const o: OrtModuleLike = ort.InferenceSession ? ort : (ort.default as OrtModuleLike);
  const opts: Record<string, unknown> = { graphOptimizationLevel: 'all' };
  if (backend === 'native') {
    opts.executionProviders = ['cpu'];
    opts.intraOpNumThreads = threads;
  } else {
    opts.executionProviders = ['wasm'];
    if (o.env.wasm) o.env.wasm.numThreads = threads;
  }
  const sessions: OrtSessionLike[] = [];
  for (const f of files)
    sessions.push(await o.InferenceSession.create(new Uint8Array(readFileSync(f)), opts));
  const img = decodeImage(benchImage(), 'bench.png').raster;
  const norm = percentileStretch(toGrey(img), 1, 99.5);
  const feeds = { image: new o.Tensor('float32', norm.data, [1, 1, img.height, img.width]) };
  const outs: Array<Record<string, Float32Array>> = [];
  for (const s of sessions) {
    const r = await s.run(feeds); // warm-up; its outputs are compared below
    outs.push(
      Object.fromEntries(Object.entries(r).map(([k, t]) => [k, new Float32Array(t.data as Float32Array)])),
    );
  }
  const times: number[][] = files.map(() => []);
  for (let k = 0; k < runs; k++)
    for (let m = 0; m < files.length; m++) {
      const t0 = performance.now();
      await sessions[m].run(feeds);
      times[m].push(performance.now() - t0);
    }
  for (const s of sessions) await s.release();
  const f = median(times[0]);
  return files.slice(1).map((file, j) => {
    const m = j + 1;
    const maxDiff: Record<string, number> = {};
    for (const name of Object.keys(outs[0])) {
      let d = 0;
      for (let i = 0; i < outs[0][name].length; i++)
        d = Math.max(d, Math.abs(outs[0][name][i] - outs[m][name][i]));
      maxDiff[name] = r3(d);
    }
    const fa = outs[0].foreground;
    const fb = outs[m].foreground;
    let flips = 0;
    for (let i = 0; i < fa.length; i++) if (fa[i] > 0.5 !== fb[i] > 0.5) flips++;
    const q = median(times[m]);
    return {
      bench: 'int8',
      model: path.basename(file),
      backend,
      threads,
      input: `${img.width}x${img.height}`,
      fp32Ms: Math.round(f),
      int8Ms: Math.round(q),
      speedup: Math.round((f / q) * 100) / 100,
      fp32RunsMs: times[0].map(Math.round),
      int8RunsMs: times[m].map(Math.round),
      maxDiff,
      foregroundFlips: r3(flips / fa.length),
      runs,
    };
  });
}

/** Each configuration (wasm 1 and 2 threads, native 2) in its own process; one JSON object per line. */
export function runAll(files: string[], runs: number): object[] {
  const out: object[] = [];
  for (const [b, t] of [
    ['wasm', 1],
    ['wasm', 2],
    ['native', 2],
  ] as const) {
    const r = spawnSync(
      process.execPath,
      [
        path.join(HERE, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        path.join(HERE, 'int8.ts'),
        ...files,
        '--one',
        b,
        String(t),
        '--runs',
        String(runs),
      ],
      { encoding: 'utf8', timeout: 900_000 },
    );
    const lines = r.stdout.trim();
    if (lines) for (const l of lines.split('\n')) out.push(JSON.parse(l) as object);
    else out.push({ bench: 'int8', backend: b, threads: t, skipped: r.stderr.trim().split('\n').pop() });
  }
  return out;
}

/**
 * For `npm run bench`: the sidecar's base (fp32) file against each of its variants (models/saemi-unet.json's
 * int8 file), network only; --model PATH names another sidecar, --runs N (default 5).
 */
export function runVariants(argv: string[] = []): object[] {
  const i = argv.indexOf('--model');
  const sidecarPath = i >= 0 ? argv[i + 1] : path.join(HERE, '..', 'models', 'saemi-unet.json');
  const j = argv.indexOf('--runs');
  const runs = j >= 0 ? Number(argv[j + 1]) : 5;
  if (!existsSync(sidecarPath)) return [{ bench: 'int8', skipped: `no model at ${sidecarPath}` }];
  const s = JSON.parse(readFileSync(sidecarPath, 'utf8')) as ModelSidecar;
  const dir = path.dirname(sidecarPath);
  const variants = (s.variants ?? []).map((v) => path.join(dir, v.file)).filter((f) => existsSync(f));
  if (!variants.length)
    return [{ bench: 'int8', skipped: `${sidecarPath} lists no variant file that is there` }];
  return runAll([path.join(dir, s.file), ...variants], runs);
}

// Run directly (npx tsx bench/int8.ts ...), not when run.ts imports it.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const val = (n: string, d: string): string => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
  const files: string[] = [];
  for (const a of argv) {
    if (a.startsWith('--')) break;
    files.push(a);
  }
  const runs = Number(val('--runs', '9'));
  if (argv.includes('--one')) {
    const i = argv.indexOf('--one');
    for (const o of await one(files, argv[i + 1], Number(argv[i + 2]), runs)) console.log(JSON.stringify(o));
  } else {
    for (const o of runAll(files, runs)) console.log(JSON.stringify(o));
  }
}
