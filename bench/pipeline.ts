/**
 * Bench (b): the whole pipeline (decode -> calibrate -> normalise -> tiles/inference -> instances -> measure)
 * on a 1024x768 synthetic micrograph with the bundled model, onnxruntime-web WASM with 1 and 2 threads, and
 * onnxruntime-node as a native anchor, and the "thorough" option (four mirrored views) on WASM 2 threads. Each configuration runs in its own process, because the WASM thread
 * count is fixed when the runtime first initialises. Median of several runs after a warm-up; also the
 * median time per stage, so the network's share and the rest are visible separately.
 *
 *   npx tsx bench/pipeline.ts                 all configurations, one JSON line each
 *   npx tsx bench/pipeline.ts --one wasm 2    one configuration in this process (--thorough: four views)
 *   --model PATH (default models/saemi-unet.json), --runs N (default 5)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encode as encodePng } from 'fast-png';
import { analyzeImage } from '../src/core/pipeline';
import { generateSynthetic } from '../src/core/synth/index';
import { DEFAULT_OPTIONS } from '../src/core/types';
import type { BackendChoice } from '../src/cli/args';
import { DEFAULT_MODEL_PATH, loadModel } from '../src/cli/load-model';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WIDTH = 1024;
const HEIGHT = 768;

export interface PipelineBenchResult {
  bench: 'pipeline';
  backend: string;
  threads: number;
  /** The model averaged over four mirrored views (AnalysisOptions.thorough). */
  thorough: boolean;
  width: number;
  height: number;
  ms: number;
  megapixelsPerSecond: number;
  /** Median ms per stage (decode, calibrate, segment = tiles + inference, instances, measure). */
  stages: Record<string, number>;
  /** Median over runs of everything but inference (wall clock, and CPU time of those stages). */
  nonNetworkMs: number;
  nonNetworkCpuMs: number;
  particles: number;
  runs: number;
  model: string;
  /** The weights file's precision (the base file, fp32, unless --precision). */
  precision?: string;
  skipped?: string;
}

/** A TEM-like 1024x768 field of ~20-px particles (deterministic), PNG-encoded as a user would give it. */
export function benchImage(): Uint8Array {
  const r = generateSynthetic({
    seed: 11,
    width: WIDTH,
    height: HEIGHT,
    modality: 'tem',
    medianDiameter: 22,
    banner: false,
    jpeg: false,
  });
  const img = r.image;
  if (img.channels !== 1 || img.bitDepth === 32) throw new Error('bench image: expected 8/16-bit grey');
  return encodePng({
    width: WIDTH,
    height: HEIGHT,
    data: img.data as Uint8Array | Uint16Array,
    depth: img.bitDepth,
    channels: 1,
  });
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r1 = (v: number): number => Math.round(v * 10) / 10;

export async function runOne(
  backend: BackendChoice,
  threads: number,
  modelPath: string,
  runs: number,
  thorough = false,
): Promise<PipelineBenchResult> {
  const { model, files } = await loadModel(modelPath, backend, threads);
  const bytes = benchImage();
  const totals: number[] = [];
  const nonNetwork: number[] = [];
  const nonNetworkCpu: number[] = [];
  const stageRuns: Record<string, number[]> = {};
  let particles = 0;
  const cpuNow = (): number => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  try {
    for (let k = 0; k <= runs; k++) {
      const times: Record<string, number> = {};
      const cpu: Record<string, number> = {};
      let stage = '';
      let last = performance.now();
      let lastCpu = cpuNow();
      const t0 = last;
      const a = await analyzeImage(
        { name: 'bench.png', bytes },
        { ...DEFAULT_OPTIONS, banner: 'auto', thorough },
        model,
        {
          onProgress: (s) => {
            if (s === stage) return;
            const t = performance.now();
            const c = cpuNow();
            if (stage) {
              times[stage] = t - last;
              cpu[stage] = c - lastCpu;
            }
            last = t;
            lastCpu = c;
            stage = s;
          },
        },
      );
      const total = performance.now() - t0;
      particles = a.particles.filter((p) => p.excluded === null).length;
      if (k === 0) continue; // warm-up: JIT, WASM compile, first-shape kernels
      totals.push(total);
      nonNetwork.push(total - (times.segment ?? 0));
      // CPU time of the stages outside inference (main thread only then): a load-independent view.
      nonNetworkCpu.push(Object.entries(cpu).reduce((sum, [st, v]) => sum + (st === 'segment' ? 0 : v), 0));
      for (const [st, v] of Object.entries(times)) (stageRuns[st] ??= []).push(v);
    }
  } finally {
    await model.backend.dispose();
  }
  const ms = median(totals);
  const stages = Object.fromEntries(Object.entries(stageRuns).map(([s, v]) => [s, r1(median(v))]));
  return {
    bench: 'pipeline',
    backend: model.backend.name,
    threads,
    thorough,
    width: WIDTH,
    height: HEIGHT,
    ms: r1(ms),
    megapixelsPerSecond: r1((WIDTH * HEIGHT) / 1e6 / (ms / 1000)),
    stages,
    nonNetworkMs: r1(median(nonNetwork)),
    nonNetworkCpuMs: r1(median(nonNetworkCpu)),
    particles,
    runs,
    model: `${files.sidecar.name} ${files.sidecar.version}`,
    precision: files.precision,
  };
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Every configuration, each in a child process; returns one result (or skip note) per configuration. */
export function run(argv: string[] = []): object[] {
  const modelPath = argValue(argv, '--model') ?? DEFAULT_MODEL_PATH;
  if (!existsSync(modelPath)) return [{ bench: 'pipeline', skipped: `no model at ${modelPath}` }];
  const runs = argValue(argv, '--runs') ?? '5';
  const configs: Array<[BackendChoice, number, boolean]> = [
    ['wasm', 1, false],
    ['wasm', 2, false],
    ['native', 2, false],
    ['wasm', 2, true],
  ];
  const out: object[] = [];
  for (const [backend, threads, thorough] of configs) {
    const r = spawnSync(
      process.execPath,
      [
        path.join(HERE, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        path.join(HERE, 'pipeline.ts'),
        '--one',
        backend,
        String(threads),
        '--model',
        modelPath,
        '--runs',
        runs,
        ...(thorough ? ['--thorough'] : []),
      ],
      { encoding: 'utf8', timeout: 600_000 },
    );
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      out.push(JSON.parse(line) as object);
    } catch {
      out.push({
        bench: 'pipeline',
        backend,
        threads,
        thorough,
        skipped: (r.stderr || 'no output').trim().split('\n').pop(),
      });
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const one = argv.indexOf('--one');
  if (one >= 0) {
    const modelPath = argValue(argv, '--model') ?? DEFAULT_MODEL_PATH;
    const res = await runOne(
      argv[one + 1] as BackendChoice,
      Number(argv[one + 2]),
      modelPath,
      Number(argValue(argv, '--runs') ?? 5),
      argv.includes('--thorough'),
    );
    console.log(JSON.stringify(res));
    process.exit(0);
  } else {
    for (const r of run(argv)) console.log(JSON.stringify(r));
  }
}
