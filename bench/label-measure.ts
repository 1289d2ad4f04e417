/**
 * Benchmark: connected-component labelling + per-particle measurement of a 4096x4096 mask holding about
 * 20k particles (discs and ellipses of 4-13 px radius on a jittered grid, deterministic). Prints one JSON
 * line; target (issue 2) <= 150 ms on one core.
 */
import { pathToFileURL } from 'node:url';
import { labelComponents } from '../src/core/label';
import { measureParticles } from '../src/core/measure';
import type { Mask } from '../src/core/raster';

/** Small deterministic PRNG (mulberry32) so every run measures the same mask. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeParticleMask(size = 4096, cell = 29, seed = 1): Mask {
  const data = new Uint8Array(size * size);
  const rand = rng(seed);
  const cells = Math.floor(size / cell);
  for (let cy = 0; cy < cells; cy++) {
    for (let cx = 0; cx < cells; cx++) {
      const a = 4 + rand() * 9;
      const b = a * (0.6 + rand() * 0.4);
      const th = rand() * Math.PI;
      const ccx = cx * cell + cell / 2 + (rand() - 0.5) * 4;
      const ccy = cy * cell + cell / 2 + (rand() - 0.5) * 4;
      const c = Math.cos(th);
      const s = Math.sin(th);
      const r = Math.ceil(a) + 1;
      for (let y = Math.max(0, Math.floor(ccy - r)); y <= Math.min(size - 1, Math.ceil(ccy + r)); y++) {
        for (let x = Math.max(0, Math.floor(ccx - r)); x <= Math.min(size - 1, Math.ceil(ccx + r)); x++) {
          const dx = x + 0.5 - ccx;
          const dy = y + 0.5 - ccy;
          const u = (dx * c + dy * s) / a;
          const v = (-dx * s + dy * c) / b;
          if (u * u + v * v <= 1) data[y * size + x] = 1;
        }
      }
    }
  }
  return { width: size, height: size, data };
}

export interface LabelMeasureResult {
  bench: 'label-measure';
  ms: number;
  /** Process CPU time (user + system) for the same section: steadier than wall time on a busy machine. */
  cpuMs: number;
  labelMs: number;
  measureMs: number;
  megapixelsPerSecond: number;
  particles: number;
  width: number;
  height: number;
}

export function run(opts: { repeats?: number; size?: number } = {}): LabelMeasureResult {
  const repeats = opts.repeats ?? 5;
  const size = opts.size ?? 4096;
  const mask = makeParticleMask(size);
  // Warm-up: lets the JIT settle on the typed-array loops.
  for (let i = 0; i < 2; i++)
    measureParticles(labelComponents(mask, 8), { minAreaPx: 10, excludeEdges: true });
  const total: number[] = [];
  const tl: number[] = [];
  const tm: number[] = [];
  const tc: number[] = [];
  let particles = 0;
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const labels = labelComponents(mask, 8);
    const t1 = performance.now();
    const list = measureParticles(labels, { minAreaPx: 10, excludeEdges: true });
    const t2 = performance.now();
    const c = process.cpuUsage(c0);
    tc.push((c.user + c.system) / 1000);
    particles = list.length;
    tl.push(t1 - t0);
    tm.push(t2 - t1);
    total.push(t2 - t0);
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const ms = med(total);
  return {
    bench: 'label-measure',
    ms: Math.round(ms * 10) / 10,
    cpuMs: Math.round(med(tc) * 10) / 10,
    labelMs: Math.round(med(tl) * 10) / 10,
    measureMs: Math.round(med(tm) * 10) / 10,
    megapixelsPerSecond: Math.round(((size * size) / 1e6 / (ms / 1000)) * 10) / 10,
    particles,
    width: size,
    height: size,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(run()));
}
