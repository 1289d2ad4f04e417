/**
 * The model method as one step: normalised grey -> tiled inference -> instances, at native resolution.
 * When the sidecar states the particle diameters the model segments well (diameterRangePx) and the first pass
 * says the particles are typically outside that range (small ones read from the maps' outline band, large ones
 * from the instances: see chooseScale), the image is resampled so they fall inside,
 * inferred again, and the probability maps are resampled back, so labels always come out at the input's size.
 * This second pass (as Cellpose sizes its input) costs nothing when the first pass is already in range.
 * When the first pass cannot vouch for the size (it saw almost nothing, or mostly ground texture), a probe at
 * twice the scale on the crop whose grey levels vary most reads the band again and may raise the scale (see
 * needsProbe, probeWindow).
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
  /** Why that scale, in a few words for the analysis trace. */
  decision: string;
  warnings: string[];
}

/** The trace's words for a first pass kept at native scale. */
export function nativeDecision(count: number, median: number, range: [number, number] | undefined): string {
  if (!range) return 'native scale (the model states no size range)';
  if (count === 0) return 'native scale (no particles to size)';
  const inRange = median >= range[0] && median <= range[1];
  return (
    `native scale: ${count} particles, median ${median.toFixed(1)} px` +
    (inRange ? `, within ${range[0]}-${range[1]} px` : ', too few or too mixed to resample for')
  );
}

/** Fewer particles than this give no reliable typical size, so no resampling is attempted. */
const MIN_PARTICLES_FOR_SCALE = 5;
/** Largest resampled image (pixels): upsampling a big image must not blow the memory budget. */
const MAX_SCALED_PIXELS = 64e6;
/** Upscale cap when the sidecar sets none (chooseScale's default). */
const MAX_UPSCALE = 4;

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
  const distanceSplit = sidecar.thresholds.distanceSplit ?? 0;
  const splitUpsampled = sidecar.thresholds.distanceSplitUpsampled ?? distanceSplit;
  const needsDistance = peak !== undefined || (opts.split && Math.max(distanceSplit, splitUpsampled) > 0);
  const dName = needsDistance ? (sidecar.outputs.find((o) => o.kind === 'distance')?.name ?? null) : null;
  if (needsDistance && !dName)
    warnings.push(
      'the model sidecar sets a distance peak or split but the model has no distance output: not applied',
    );
  const range = sidecar.diameterRangePx;
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
      distanceSplit: s > 1 ? splitUpsampled : distanceSplit,
      distancePeakDiameterPx: sidecar.thresholds.distancePeakDiameterPx,
      mergeThreshold: sidecar.thresholds.merge,
      mergeThresholdComparable: s > 1 ? sidecar.thresholds.mergeUpsampled : undefined,
      fragmentShare: sidecar.thresholds.fragmentShare,
      absorbCentreless: sidecar.thresholds.absorbCentreless,
      inferenceScale: s,
      foregroundThreshold: sidecar.thresholds.foreground,
      // sidecarProblem makes sure it is set whenever there is a boundary map to read it on
      boundaryThreshold: sidecar.thresholds.boundary ?? 1,
      split: opts.split,
      watershed: opts.watershed || (opts.split && !bName),
      speckPx: opts.speckPx,
      blocked: opts.blocked,
    });

  // Kept for the probe pass (see needsProbe): a small copy, so the full normalised image can go now.
  const probeCrop = range && bName ? crop(norm, probeWindow(norm, PROBE_SIDE, opts.blocked)) : null;
  let maps: Record<string, Float32Array> | null = await runTiled(backend, norm, tileOpts);
  norm = null;
  opts.onInstances?.();
  let labels = toLabels(maps[fgName], bName ? maps[bName] : null, dName ? maps[dName] : null);
  // Enough foreground for a few particles at the lower bound: less says nothing about their size.
  const minForeground = range ? (MIN_PARTICLES_FOR_SCALE * Math.PI * range[0] * range[0]) / 4 : 0;
  const band =
    range && bName
      ? bandDiameter(maps[fgName], maps[bName], sidecar.thresholds.foreground, BAND_THRESHOLD, minForeground)
      : NaN;
  maps = null;
  const sizes = particleSizes(labels);
  if (!range)
    return { labels, scale: 1, decision: nativeDecision(sizes.count, sizes.median, range), warnings };

  const ev = { ...sizes, bandDiameter: band };
  const target = sidecar.resampleTargetPx;
  let scale = chooseScale(ev, range, W * H, target, sidecar.maxUpscale);
  let typical = scale > 1 && band > 0 ? band : sizes.median;
  let why = scale > 1 && band > 0 ? 'read from the boundary band' : 'median of the first pass';
  // The probe can only raise the scale, so it is not run once the cap is reached.
  if (probeCrop && bName && scale < (sidecar.maxUpscale ?? MAX_UPSCALE) && needsProbe(ev, range)) {
    const up = resizeBilinear(probeCrop, probeCrop.width * PROBE_SCALE, probeCrop.height * PROBE_SCALE);
    const pm = await runTiled(backend, up, { ...tileOpts, onTile: undefined });
    const probe =
      bandDiameter(
        pm[fgName],
        pm[bName],
        sidecar.thresholds.foreground,
        BAND_THRESHOLD,
        minForeground * PROBE_SCALE * PROBE_SCALE,
      ) / PROBE_SCALE;
    if (probe < PROBE_SMALL_SHARE * range[0]) {
      const probed = chooseScale(
        { count: 0, median: NaN, areaMedian: NaN, bandDiameter: probe },
        range,
        W * H,
        target,
        sidecar.maxUpscale,
      );
      if (probed > scale) {
        scale = probed;
        typical = probe;
        why = `read at ${PROBE_SCALE}x on the busiest ${PROBE_SIDE} px window`;
      }
    }
  }
  if (scale === 1)
    return { labels, scale, decision: nativeDecision(sizes.count, sizes.median, range), warnings };

  const sw = Math.max(1, Math.round(W * scale));
  const sh = Math.max(1, Math.round(H * scale));
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
    `particles are about ${typical.toFixed(1)} px across, outside the ${range[0]}-${range[1]} px the model ` +
      `segments best: inference ran at ${scale.toFixed(2)}x scale`,
  );
  const decision = `${scale.toFixed(2)}x scale: particles about ${typical.toFixed(1)} px (${why}), outside ${range[0]}-${range[1]} px`;
  return { labels, scale, decision, warnings };
}

/**
 * Median equivalent-circle diameter of the labelled particles (px), and the diameter below which half of the
 * particle area lies (which a few large particles dominate however many small blobs of ground texture were
 * found beside them); NaN when there are none. One pass over the labels for both.
 */
export function particleSizes(labels: LabelImage): { count: number; median: number; areaMedian: number } {
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
  if (!ecd.length) return { count: 0, median: NaN, areaMedian: NaN };
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
  return { count: ecd.length, median: ecd[ecd.length >> 1], areaMedian };
}

/**
 * How far inside each outline the model's boundary band reaches (px) once thresholded at BAND_THRESHOLD.
 * Calibrated on the synthetic hold-out (the estimate below against the true median diameter, 4-30 px
 * particles); training draws a 2 px band straddling each outline, the soft prediction thresholded at 0.3 is
 * wider.
 */
const BAND_INSIDE_PX = 2;
/**
 * The boundary probability the band is read at: the calibration's, not the instance step's threshold, which
 * is tuned for seeds and moves the band's width with it (1.7.0's 0.4 read packed 5 px particles as 12 px or
 * more, so they were not upsampled and two images of 2000 such particles came out empty).
 */
const BAND_THRESHOLD = 0.3;

/**
 * Particle diameter (px) read from the probability maps instead of the instances: a disc of diameter D whose
 * outline band reaches b px inside keeps ((D - 2b) / D)^2 of its foreground as interior, so D = 2b / (1 - sqrt
 * of the interior share). It needs no seeds, so it holds where the instance step fails: on crowded particles of a
 * few pixels the band covers almost all the foreground, few centres survive, and the instances found are
 * clumps that look large. Contact lines count as band too, which only makes touching particles read smaller.
 * NaN when the foreground has fewer than `minForeground` pixels or the band marks none of it (no evidence).
 */
export function bandDiameter(
  fg: Float32Array,
  boundary: Float32Array,
  fgThreshold: number,
  boundaryThreshold: number,
  minForeground: number,
): number {
  let fore = 0;
  let inner = 0;
  for (let i = 0; i < fg.length; i++)
    if (fg[i] >= fgThreshold) {
      fore++;
      if (boundary[i] < boundaryThreshold) inner++;
    }
  if (fore < Math.max(1, minForeground) || inner === fore) return NaN;
  return (2 * BAND_INSIDE_PX) / (1 - Math.sqrt(inner / fore));
}

/** Side (native px) of the crop the probe pass looks at (see probeWindow), and the scale it runs at. */
const PROBE_SIDE = 256;
const PROBE_SCALE = 2;
/**
 * The probe calls the particles small only below this share of the lower bound: it sees one crop, and a
 * textured ground read at twice its size can pass for small particles, so only a clear verdict counts.
 */
const PROBE_SMALL_SHARE = 0.6;

/**
 * Whether the first pass leaves the particles' size open: it did not find enough particles of at least the lower
 * bound to vouch for their size. That is what dense, faint particles of a few pixels look like at native
 * scale: the model sees almost none of them (no band to read), or mostly the ground's texture, whose clumps
 * read as ordinary particles or widen the band (1.8.0's weights read 2286 faint 4 px particles as 11.7 px, so
 * upsampled them only 1.4x). Then a probe at twice the scale reads the band again, and the smaller reading
 * sets the scale (the larger of the two scales).
 */
export function needsProbe(ev: SizeEvidence, range: [number, number]): boolean {
  return !(ev.count >= MIN_PARTICLES_FOR_SCALE && ev.median >= range[0]);
}

/** A window of an image: left, top, width, height (px). */
export interface Window {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Side (px) of the blocks probeWindow scores. */
const PROBE_BLOCK = 32;

/**
 * The `side` x `side` window (all of a smaller side) whose grey levels vary most, on a grid of PROBE_BLOCK px,
 * nearest the centre among equals. Particles are where the image varies: a centre crop of an image whose
 * small particles lie off-centre saw only ground, read no band, and the particles were never upsampled.
 * Variance is summed per block around each block's own mean, so uneven illumination adds little; pixels
 * under the info banner (`blocked`) do not count, as its lettering would win.
 */
export function probeWindow(g: GreyF32, side: number, blocked?: Uint8Array): Window {
  const { width: W, height: H, data } = g;
  const w = Math.min(side, W);
  const h = Math.min(side, H);
  const bx = Math.ceil(W / PROBE_BLOCK);
  const by = Math.ceil(H / PROBE_BLOCK);
  const sum = new Float64Array(bx * by);
  const sq = new Float64Array(bx * by);
  const cnt = new Float64Array(bx * by);
  for (let y = 0; y < H; y++) {
    const row = ((y / PROBE_BLOCK) | 0) * bx;
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (blocked && blocked[i]) continue;
      const b = row + ((x / PROBE_BLOCK) | 0);
      const v = data[i];
      sum[b] += v;
      sq[b] += v * v;
      cnt[b]++;
    }
  }
  // per block: the sum of squared deviations from its own mean
  const score = new Float64Array(bx * by);
  for (let b = 0; b < score.length; b++) if (cnt[b] > 0) score[b] = sq[b] - (sum[b] * sum[b]) / cnt[b];
  const kx = Math.ceil(w / PROBE_BLOCK);
  const ky = Math.ceil(h / PROBE_BLOCK);
  const cx = (W - w) / 2;
  const cy = (H - h) / 2;
  let best = { x: Math.round(cx), y: Math.round(cy), w, h };
  let bestScore = -1;
  let bestOff = Infinity;
  for (let j = 0; j + ky <= by || j === 0; j++)
    for (let i = 0; i + kx <= bx || i === 0; i++) {
      let s = 0;
      for (let jj = j; jj < Math.min(by, j + ky); jj++)
        for (let ii = i; ii < Math.min(bx, i + kx); ii++) s += score[jj * bx + ii];
      const x = Math.min(i * PROBE_BLOCK, W - w);
      const y = Math.min(j * PROBE_BLOCK, H - h);
      const off = Math.abs(x - cx) + Math.abs(y - cy);
      // relative margin: float sums of equal content differ in their last bits
      if (s > bestScore * (1 + 1e-9) || (s >= bestScore * (1 - 1e-9) && off < bestOff)) {
        best = { x, y, w, h };
        bestScore = s;
        bestOff = off;
      }
    }
  return best;
}

/** The window `r` of `g`, copied. */
function crop(g: GreyF32, r: Window): GreyF32 {
  const data = new Float32Array(r.w * r.h);
  for (let y = 0; y < r.h; y++) {
    const o = (r.y + y) * g.width + r.x;
    data.set(g.data.subarray(o, o + r.w), y * r.w);
  }
  return { width: r.w, height: r.h, data };
}

/**
 * Enough particles found with a median this many times the lower bound overrule a band that calls them small:
 * particles with textured interiors (or on a textured ground) grow band inside, and upsampling turned their
 * texture into hundreds of false particles. The margin is wide because crowded small particles found as clumps
 * look ordinary-sized (on the synthetic hold-out: up to 1.1x the bound for particles of 8 px).
 */
const OVERRULE_BAND = 1.5;

/** What the first pass says about the particles' size. */
export interface SizeEvidence {
  /** Particles found. */
  count: number;
  /** Their median equivalent-circle diameter (px), NaN when none. */
  median: number;
  /** The diameter below which half of their area lies (px), NaN when none. */
  areaMedian: number;
  /** bandDiameter of the maps, NaN when the model has no boundary output or the foreground is too small. */
  bandDiameter: number;
}

/**
 * Scale that brings the typical diameter inside `range`, or 1 when it already is inside or cannot be
 * estimated. Small particles are judged by the band diameter when there is one and enough instances well inside
 * the range do not overrule it (else by the instances' median, and only when most of the particle area is small
 * too, so a few large particles among specks of ground texture do not trigger it) and brought to `smallTarget`
 * (by default twice the lower bound), upsampling at most `maxUp`; large ones by the instances' median, brought
 * to two thirds of the upper bound.
 */
export function chooseScale(
  ev: SizeEvidence,
  range: [number, number],
  pixels: number,
  smallTarget = 2 * range[0],
  maxUp = MAX_UPSCALE,
): number {
  const enough = ev.count >= MIN_PARTICLES_FOR_SCALE && ev.median > 0;
  const hasBand = !Number.isNaN(ev.bandDiameter) && !(enough && ev.median >= OVERRULE_BAND * range[0]);
  const small = hasBand ? ev.bandDiameter : enough && ev.areaMedian < range[0] ? ev.median : Infinity;
  let s: number;
  if (small < range[0]) s = Math.min(Math.max(smallTarget, range[0]), range[1]) / small;
  else if (enough && ev.median > range[1]) s = (range[1] * 2) / 3 / ev.median;
  else return 1;
  s = Math.min(maxUp, Math.max(1 / 8, s));
  if (s > 1 && pixels * s * s > MAX_SCALED_PIXELS) s = Math.max(1, Math.sqrt(MAX_SCALED_PIXELS / pixels));
  return Math.abs(s - 1) < 0.05 ? 1 : s;
}
