/**
 * Bench (c): an 8192x8192 micrograph through the whole pipeline (tiled inference at native resolution,
 * instances, measurement) with peak memory. Runs in its own process so the peak resident set
 * (process.resourceUsage().maxRSS) belongs to this analysis alone; target < 2 GB.
 *
 *   npx tsx bench/tiling.ts [--backend auto|native|wasm] [--threads N] [--size 8192] [--model PATH]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyzeImage } from '../src/core/pipeline';
import { DEFAULT_OPTIONS } from '../src/core/types';
import type { BackendChoice } from '../src/cli/args';
import { DEFAULT_MODEL_PATH, loadModel } from '../src/cli/load-model';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * Uncompressed 8-bit grey TIFF of dark discs (radius 6-16 px) on a noisy bright ground, built directly so the
 * bench does not spend minutes encoding. Deterministic.
 */
export function bigTiff(size: number): Uint8Array {
  const header = 8;
  const nTags = 9;
  const ifd = 2 + nTags * 12 + 4;
  const off = header + ifd;
  const bytes = new Uint8Array(off + size * size);
  const dv = new DataView(bytes.buffer);
  dv.setUint16(0, 0x4949);
  dv.setUint16(2, 42, true);
  dv.setUint32(4, 8, true);
  dv.setUint16(8, nTags, true);
  const tags: Array<[number, number, number]> = [
    [256, 4, size],
    [257, 4, size],
    [258, 3, 8],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, off],
    [277, 3, 1],
    [278, 4, size],
    [279, 4, size * size],
  ];
  tags.forEach(([tag, type, v], k) => {
    const o = 10 + k * 12;
    dv.setUint16(o, tag, true);
    dv.setUint16(o + 2, type, true);
    dv.setUint32(o + 4, 1, true);
    if (type === 3) dv.setUint16(o + 8, v, true);
    else dv.setUint32(o + 8, v, true);
  });
  const px = bytes.subarray(off);
  let s = 12345;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  for (let i = 0; i < px.length; i++) px[i] = 190 + ((rnd() * 24) | 0);
  const cell = 48;
  for (let cy = cell / 2; cy < size; cy += cell)
    for (let cx = cell / 2; cx < size; cx += cell) {
      const r = 6 + rnd() * 10;
      const x0 = cx + (rnd() - 0.5) * 12;
      const y0 = cy + (rnd() - 0.5) * 12;
      for (let y = Math.max(0, Math.floor(y0 - r)); y <= Math.min(size - 1, Math.ceil(y0 + r)); y++)
        for (let x = Math.max(0, Math.floor(x0 - r)); x <= Math.min(size - 1, Math.ceil(x0 + r)); x++)
          if ((x - x0) ** 2 + (y - y0) ** 2 <= r * r) px[y * size + x] = 50 + ((rnd() * 24) | 0);
    }
  return bytes;
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function runHere(argv: string[]): Promise<object> {
  const size = Number(argValue(argv, '--size') ?? 8192);
  const modelPath = argValue(argv, '--model') ?? DEFAULT_MODEL_PATH;
  const backend = (argValue(argv, '--backend') ?? 'auto') as BackendChoice;
  const threads = Number(argValue(argv, '--threads') ?? 2);
  if (!existsSync(modelPath)) return { bench: 'tiling', skipped: `no model at ${modelPath}` };
  const { model, files } = await loadModel(modelPath, backend, threads);
  const bytes = bigTiff(size);
  const rssBefore = process.memoryUsage().rss;
  // Sampled between tiles (the main thread is free then); maxRSS below is the true peak.
  let maxArrayBuffers = 0;
  let maxHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    if (m.arrayBuffers > maxArrayBuffers) maxArrayBuffers = m.arrayBuffers;
    if (m.heapUsed > maxHeap) maxHeap = m.heapUsed;
  };
  const timer = setInterval(sample, 50);
  let tiles = 0;
  const t0 = performance.now();
  const a = await analyzeImage({ name: 'big.tif', bytes }, { ...DEFAULT_OPTIONS, banner: 'off' }, model, {
    onProgress: (s) => {
      if (s === 'segment') tiles++;
      sample();
    },
  });
  const ms = performance.now() - t0;
  sample();
  clearInterval(timer);
  await model.backend.dispose();
  const mb = (b: number): number => Math.round(b / 1048576);
  return {
    bench: 'tiling',
    backend: model.backend.name,
    threads,
    width: size,
    height: size,
    ms: Math.round(ms),
    megapixelsPerSecond: Math.round(((size * size) / 1e6 / (ms / 1000)) * 100) / 100,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    rssBeforeMB: mb(rssBefore),
    maxArrayBuffersMB: mb(maxArrayBuffers),
    maxHeapUsedMB: mb(maxHeap),
    tiles: tiles - 1,
    particles: a.particles.filter((p) => p.excluded === null).length,
    model: `${files.sidecar.name} ${files.sidecar.version}`,
  };
}

/** Runs the bench in a fresh process (so the peak RSS is its own) and returns its JSON line. */
export function run(argv: string[] = []): object {
  const r = spawnSync(
    process.execPath,
    [
      '--max-old-space-size=4096',
      path.join(HERE, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      path.join(HERE, 'tiling.ts'),
      '--here',
      ...argv,
    ],
    { encoding: 'utf8', timeout: 1_800_000 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as object;
  } catch {
    return { bench: 'tiling', skipped: (r.stderr || 'no output').trim().split('\n').pop() };
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  if (argv.includes('--here')) {
    console.log(JSON.stringify(await runHere(argv)));
    process.exit(0);
  } else {
    console.log(JSON.stringify(run(argv)));
  }
}
