/**
 * Static calibration for the int8 export (models/train/quantise.py): runs training images (never a hold-out)
 * through the real pipeline (decode, calibrate, the model's percentile normalisation, the scale the model runs
 * at, tiles) with a backend that runs the augmented model (quantise.py augment: every quantised activation is
 * an extra output) in onnxruntime-node, and records each activation's range per inference.
 *
 *   npx tsx models/train/calibrate-int8.ts WORK/augmented.onnx WORK/stats.json [--data ../shared/data] [--n 32]
 *
 * Images: evenly spaced picks from split.json's EMPS and msa 'train' ids and star_split.json's semseg_sem
 * 'train' ids (half EMPS, a quarter each of the others). stats.json: per tensor min, max and the largest per-run
 * 99.9 / 99.99 percentiles (of a strided sample), so quantise.py build can choose MinMax or a clipped range.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { analyzeImage } from '../../src/core/pipeline';
import type { InferenceBackend, ModelSidecar } from '../../src/core/segment/model';
import { DEFAULT_OPTIONS } from '../../src/core/types';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');

interface Split {
  emps: { train: string[]; val: string[] };
  msa: { train: string[]; val: string[] };
}
interface StarSplit {
  semseg_sem: { train: string[]; val: string[] };
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const evenly = <T>(a: T[], n: number): T[] =>
  a.length <= n ? a : Array.from({ length: n }, (_, k) => a[Math.floor(((k + 0.5) * a.length) / n)]);

interface Acc {
  min: number;
  max: number;
  p999: number;
  p9999: number;
  runs: number;
}

function observe(acc: Acc, d: Float32Array): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // Percentiles of a strided sample (up to ~400 k values): enough for 1e-4 tails, cheap on the big tensors.
  const step = Math.max(1, Math.floor(d.length / 400_000));
  const s = new Float32Array(Math.ceil(d.length / step));
  for (let i = 0, k = 0; i < d.length; i += step) s[k++] = d[i];
  s.sort();
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
  acc.min = Math.min(acc.min, lo);
  acc.max = Math.max(acc.max, hi);
  acc.p999 = Math.max(acc.p999, q(0.999));
  acc.p9999 = Math.max(acc.p9999, q(0.9999));
  acc.runs++;
}

async function main(): Promise<void> {
  const [augPath, outPath] = process.argv.slice(2);
  const data = path.resolve(arg('--data', path.join(ROOT, '..', 'shared', 'data')));
  const n = Number(arg('--n', '32'));
  const tensors = (JSON.parse(readFileSync(augPath.replace(/\.onnx$/, '.json'), 'utf8')) as { tensors: string[] })
    .tensors;
  const sidecar = JSON.parse(readFileSync(path.join(ROOT, 'models', 'saemi-unet.json'), 'utf8')) as ModelSidecar;
  const split = JSON.parse(readFileSync(path.join(HERE, 'split.json'), 'utf8')) as Split;
  const star = JSON.parse(readFileSync(path.join(HERE, 'star_split.json'), 'utf8')) as StarSplit;
  const picks: Array<[string, string]> = [
    ...evenly(split.emps.train, Math.round(n / 2)).map((id): [string, string] => ['emps_train', id]),
    ...evenly(split.msa.train, Math.round(n / 4)).map((id): [string, string] => ['msa_tem_train', id]),
    ...evenly(star.semseg_sem.train, n - Math.round(n / 2) - Math.round(n / 4)).map((id): [string, string] => [
      'semseg_sem',
      id,
    ]),
  ];
  const held = new Set([...split.emps.val, ...split.msa.val, ...star.semseg_sem.val]);
  const session = await ort.InferenceSession.create(augPath, { intraOpNumThreads: 2 });
  const acc: Record<string, Acc> = {};
  for (const t of tensors) acc[t] = { min: Infinity, max: -Infinity, p999: -Infinity, p9999: -Infinity, runs: 0 };
  const backend: InferenceBackend = {
    name: 'calibration',
    async run(input, height, width) {
      observe(acc[tensors[0]], input);
      const res = await session.run({ [sidecar.input.name]: new ort.Tensor('float32', input, [1, 1, height, width]) });
      for (const t of tensors.slice(1)) observe(acc[t], res[t].data as Float32Array);
      const out: Record<string, Float32Array> = {};
      for (const o of sidecar.outputs) out[o.name] = new Float32Array(res[o.name].data as Float32Array);
      return out;
    },
    async dispose() {
      await session.release();
    },
  };
  const used: string[] = [];
  for (const [dir, id] of picks) {
    if (held.has(id)) throw new Error(`${id} is a hold-out image`);
    const file = readdirSync(path.join(data, dir, 'images')).find((f) => path.parse(f).name === id);
    if (!file) throw new Error(`no image ${id} in ${dir}`);
    const bytes = new Uint8Array(readFileSync(path.join(data, dir, 'images', file)));
    await analyzeImage({ name: file, bytes }, { ...DEFAULT_OPTIONS }, { sidecar, backend });
    used.push(`${dir}/${file}`);
    process.stderr.write(`${used.length}/${picks.length} ${dir}/${file}\n`);
  }
  await backend.dispose();
  writeFileSync(outPath, JSON.stringify({ images: used, tensors: acc }, null, 1) + '\n');
}

await main();
