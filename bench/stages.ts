/**
 * The non-network steps of the pipeline on the 1024x768 bench image, each timed alone (median of many runs,
 * wall and CPU): decode, grey, normalise (with the contrast filter's bytes), calibrate, the contrast filter, labelling,
 * measuring, the worker's preview and the exports. A finer view than bench/pipeline.ts's stages, stable enough
 * on a shared machine to hold one change against another. The model maps come from one native (or WASM) pass.
 *
 *   npx tsx bench/stages.ts [--runs 15]
 */
import { analyzeImage } from '../src/core/pipeline';
import { decodeImage } from '../src/core/decode/index';
import { stretchAndQuantise, toGrey } from '../src/core/normalise';
import { calibrate } from '../src/core/calibrate/index';
import { dropOppositeContrast } from '../src/core/segment/contrast-filter';
import { labelComponents } from '../src/core/label';
import { measureParticles } from '../src/core/measure';
import { particlesCsv, summaryCsv } from '../src/core/export/csv';
import { encodeLabelPng } from '../src/core/export/label-png';
import { encodeOverlayPng } from '../src/core/export/overlay';
import { DEFAULT_OPTIONS } from '../src/core/types';
import { DEFAULT_MODEL_PATH, loadModel } from '../src/cli/load-model';
import { previewFromGrey } from '../src/worker/preview';
import { benchImage } from './pipeline';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 15);

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r1 = (v: number): number => Math.round(v * 10) / 10;
const cpu = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

function time(name: string, fn: () => unknown): { stage: string; ms: number; cpuMs: number } {
  fn(); // warm-up
  const wall: number[] = [];
  const cpus: number[] = [];
  for (let k = 0; k < runs; k++) {
    const c0 = cpu();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    cpus.push(cpu() - c0);
  }
  return { stage: name, ms: r1(median(wall)), cpuMs: r1(median(cpus)) };
}

const bytes = benchImage();
const { model } = await loadModel(DEFAULT_MODEL_PATH, 'auto', 2);
const opts = { ...DEFAULT_OPTIONS, banner: 'auto' as const };
const a = await analyzeImage({ name: 'bench.png', bytes }, opts, model);
await model.backend.dispose();
const decoded = decodeImage(bytes, 'bench.png');
const grey = toGrey(decoded.raster);
const { low, high } = model.sidecar.input.normalisation;
const norm = stretchAndQuantise(grey, low, high, undefined, false).norm;
const q = stretchAndQuantise(grey, low, high, undefined, true).bytes as Uint8ClampedArray;
const mask = { width: a.width, height: a.height, data: new Uint8Array(a.labels.data.length) };
for (let i = 0; i < mask.data.length; i++) mask.data[i] = a.labels.data[i] > 0 ? 1 : 0;
const share = model.sidecar.thresholds.contrastShare ?? 0.6;

const results = [
  time('decode', () => decodeImage(bytes, 'bench.png')),
  time('grey', () => toGrey(decoded.raster)),
  time('normalise', () => stretchAndQuantise(grey, low, high, undefined, true)),
  time('calibrate', () => calibrate({ decoded, grey, options: { banner: 'auto', pixelSizeOverride: null } })),
  time('contrast-filter', () => dropOppositeContrast({ ...a.labels, data: a.labels.data.slice() }, q, share)),
  time('label', () => labelComponents(mask, 8)),
  time('measure', () =>
    measureParticles(a.labels, { minAreaPx: opts.minAreaPx, excludeEdges: opts.excludeEdges }),
  ),
  time('preview', () => previewFromGrey(grey)),
  time('export-csv', () => [particlesCsv([a]), summaryCsv([a])]),
  time('export-label-png', () => encodeLabelPng(a.labels, a.particles)),
  time('export-overlay-png', () => encodeOverlayPng(norm, a.labels, a.particles, { mode: 'outline' })),
];
for (const r of results)
  console.log(JSON.stringify({ bench: 'stages', width: a.width, height: a.height, runs, ...r }));
