/**
 * The model method as one step: normalised grey -> tiled inference -> instances, at native resolution.
 * When the sidecar states the particle diameters the model segments well (diameterRangePx) and the particles
 * found at native resolution are typically outside that range, the image is resampled so they fall inside,
 * inferred again, and the probability maps are resampled back, so labels always come out at the input's size.
 * This second pass (as Cellpose sizes its input) costs nothing when the first pass is already in range.
 */
import type { GreyF32, LabelImage } from '../raster';
import { resizeBilinear } from '../resize';
import type { InferenceBackend, ModelSidecar } from './model';
import { instancesFromProbabilities } from './instances';
import { runTiled } from './tiles';

export interface ModelSegmentOptions {
  split: boolean;
  watershed: boolean;
  speckPx: number;
  blocked?: Uint8Array;
  signal?: AbortSignal;
  /** Progress of inference, 0..1 per pass. */
  onTile?: (fraction: number) => void;
  /** Called when inference is over and instances are being built. */
  onInstances?: () => void;
}

export interface ModelSegmentResult {
  labels: LabelImage;
  /** Scale the model ran at (1 = native resolution). */
  scale: number;
  warnings: string[];
}

/** Fewer particles than this give no reliable typical size, so no resampling is attempted. */
const MIN_PARTICLES_FOR_SCALE = 5;
/** Largest resampled image (pixels): upsampling a big image must not blow the memory budget. */
const MAX_SCALED_PIXELS = 64e6;

/**
 * `image` hands over the normalised image: called once for the first pass, and again only if a resampled
 * second pass is needed (the caller may then recompute it). The step keeps no reference of its own while it
 * builds instances, so on a large image the normalised copy is gone before the label buffers are allocated.
 */
export async function segmentWithModel(
  image: () => GreyF32,
  sidecar: ModelSidecar,
  backend: InferenceBackend,
  opts: ModelSegmentOptions,
): Promise<ModelSegmentResult> {
  const warnings: string[] = [];
  let norm: GreyF32 | null = image();
  const { width: W, height: H } = norm;
  const fgName = sidecar.outputs.find((o) => o.kind === 'foreground')?.name;
  if (!fgName) throw new Error(`model sidecar "${sidecar.name}" declares no foreground output`);
  const bName = sidecar.outputs.find((o) => o.kind === 'boundary')?.name ?? null;
  if (opts.split && !bName && !opts.watershed)
    warnings.push('the model has no boundary output: touching particles are split by the distance watershed');
  const peak = sidecar.thresholds.distancePeak;
  const dName =
    peak !== undefined ? (sidecar.outputs.find((o) => o.kind === 'distance')?.name ?? null) : null;
  if (peak !== undefined && !dName)
    warnings.push('the model sidecar sets a distance peak but the model has no distance output: not applied');
  const wanted = [fgName, ...(bName ? [bName] : []), ...(dName ? [dName] : [])];
  const tileOpts = {
    tileSize: sidecar.tile.size,
    overlap: sidecar.tile.overlap,
    multiple: sidecar.input.multiple,
    outputs: wanted,
    signal: opts.signal,
    onTile: (done: number, total: number) => opts.onTile?.(done / total),
  };
  const toLabels = (
    fg: Float32Array,
    bnd: Float32Array | null,
    dist: Float32Array | null,
    s = 1,
  ): LabelImage =>
    instancesFromProbabilities(fg, bnd, W, H, {
      distance: dist,
      minDistancePeak: dist ? (s > 1 ? (sidecar.thresholds.distancePeakUpsampled ?? peak) : peak) : undefined,
      distancePeakDiameterPx: sidecar.thresholds.distancePeakDiameterPx,
      mergeThreshold: sidecar.thresholds.merge,
      fragmentShare: sidecar.thresholds.fragmentShare,
      absorbCentreless: sidecar.thresholds.absorbCentreless,
      inferenceScale: s,
      foregroundThreshold: sidecar.thresholds.foreground,
      boundaryThreshold: sidecar.thresholds.boundary,
      split: opts.split,
      watershed: opts.watershed || (opts.split && !bName),
      speckPx: opts.speckPx,
      blocked: opts.blocked,
    });

  let maps: Record<string, Float32Array> | null = await runTiled(backend, norm, tileOpts);
  norm = null;
  opts.onInstances?.();
  let labels = toLabels(maps[fgName], bName ? maps[bName] : null, dName ? maps[dName] : null);
  maps = null;

  const range = sidecar.diameterRangePx;
  const scale = range ? chooseScale(labels, range, W * H, sidecar.resampleTargetPx, sidecar.maxUpscale) : 1;
  if (scale === 1) return { labels, scale, warnings };

  const sw = Math.max(1, Math.round(W * scale));
  const sh = Math.max(1, Math.round(H * scale));
  const typical = typicalDiameter(labels);
  let scaled: GreyF32 | null = resizeBilinear(image(), sw, sh);
  let scaledMaps: Record<string, Float32Array> | null = await runTiled(backend, scaled, tileOpts);
  scaled = null;
  opts.onInstances?.();
  const back = (m: Record<string, Float32Array>, name: string | null): Float32Array | null =>
    name ? resizeBilinear({ width: sw, height: sh, data: m[name] }, W, H).data : null;
  const fg = back(scaledMaps, fgName) as Float32Array;
  const bnd = back(scaledMaps, bName);
  const dist = back(scaledMaps, dName);
  scaledMaps = null; // the resampled-size maps go before the label buffers are allocated
  labels = toLabels(fg, bnd, dist, scale);
  warnings.push(
    `particles are about ${typical.toFixed(1)} px across, outside the ${range![0]}-${range![1]} px the model ` +
      `segments best: inference ran at ${scale.toFixed(2)}x scale`,
  );
  return { labels, scale, warnings };
}

/**
 * Median equivalent-circle diameter of the labelled particles (px), and the diameter below which half of the
 * particle area lies (which a few large particles dominate however many small blobs of ground texture were
 * found beside them); NaN when there are none. One pass over the labels for both.
 */
function particleSizes(labels: LabelImage): { median: number; areaMedian: number } {
  const area = new Int32Array(labels.count + 1);
  const d = labels.data;
  for (let i = 0; i < d.length; i++) area[d[i]]++;
  const ecd: number[] = [];
  let total = 0;
  for (let l = 1; l <= labels.count; l++)
    if (area[l] > 0) {
      ecd.push(2 * Math.sqrt(area[l] / Math.PI));
      total += area[l];
    }
  if (!ecd.length) return { median: NaN, areaMedian: NaN };
  ecd.sort((a, b) => a - b);
  let below = 0;
  let areaMedian = ecd[ecd.length - 1];
  for (const e of ecd) {
    below += (Math.PI * e * e) / 4;
    if (below >= total / 2) {
      areaMedian = e;
      break;
    }
  }
  return { median: ecd[ecd.length >> 1], areaMedian };
}

/** Median equivalent-circle diameter (px), or with `byArea` the area-weighted one; NaN when there are none. */
export function typicalDiameter(labels: LabelImage, byArea = false): number {
  const sizes = particleSizes(labels);
  return byArea ? sizes.areaMedian : sizes.median;
}

/**
 * Scale that brings the typical diameter inside `range` (to `smallTarget`, by default twice the lower bound,
 * when too small; to two thirds of the upper bound when too large), or 1 when it already is inside or cannot
 * be estimated. Upsampling stops at `maxUp`.
 */
export function chooseScale(
  labels: LabelImage,
  range: [number, number],
  pixels: number,
  smallTarget = 2 * range[0],
  maxUp = 4,
): number {
  if (labels.count < MIN_PARTICLES_FOR_SCALE) return 1;
  const { median: typical, areaMedian } = particleSizes(labels);
  if (!(typical > 0)) return 1;
  let s: number;
  if (typical < range[0]) {
    // Upsample only when most of the particle area is small too: not for a few large particles among specks.
    if (areaMedian >= range[0]) return 1;
    s = Math.min(Math.max(smallTarget, range[0]), range[1]) / typical;
  } else if (typical > range[1]) s = (range[1] * 2) / 3 / typical;
  else return 1;
  s = Math.min(maxUp, Math.max(1 / 8, s));
  if (s > 1 && pixels * s * s > MAX_SCALED_PIXELS) s = Math.max(1, Math.sqrt(MAX_SCALED_PIXELS / pixels));
  return Math.abs(s - 1) < 0.05 ? 1 : s;
}
