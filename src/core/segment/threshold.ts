/**
 * The classical method: global threshold (Otsu's, or the user's) on the normalised grey image, polarity
 * detected or given, specks removed, holes filled, touching particles optionally split by a distance watershed.
 * An alternative for clean images and a baseline for the model, never a silent replacement for it.
 */
import type { GreyF32, LabelImage } from '../raster';
import { labelComponents, relabelInPlace } from '../label';
import { fillHolesPerLabel, removeSpecks } from './cleanup';
import { distanceWatershed } from './watershed';

export interface ThresholdOptions {
  /** Threshold on the normalised grey (0..1), or null for Otsu. */
  threshold: number | null;
  /** Particles darker than the ground (bright-field TEM); null = detect. */
  darkParticles: boolean | null;
  /** Split touching particles with a distance-transform watershed. */
  split: boolean;
  /** Particles smaller than this (pixels) are dropped as noise before anything else. */
  speckPx?: number;
  /** Gaussian smoothing sigma (pixels) before thresholding, against pixel noise; 0 = none. */
  smoothSigma?: number;
  /** Pixels to ignore (1 = excluded, e.g. the info banner): never particles, not in the histogram. */
  blocked?: Uint8Array;
}

export interface ThresholdResult {
  labels: LabelImage;
  threshold: number;
  darkParticles: boolean;
  warnings: string[];
}

const BINS = 256;

export function thresholdSegment(grey: GreyF32, opts: ThresholdOptions): ThresholdResult {
  const { width: W, height: H } = grey;
  const n = W * H;
  const blocked = opts.blocked;
  const warnings: string[] = [];
  const sigma = opts.smoothSigma ?? 1;
  const g = sigma > 0 ? gaussianBlur(grey.data, W, H, sigma) : grey.data;

  const t = opts.threshold ?? otsuThreshold(g, blocked);
  let dark = opts.darkParticles;
  if (dark === null) dark = detectDarkParticles(g, W, H, t, blocked);

  const mask = new Uint8Array(n);
  let fgCount = 0;
  for (let i = 0; i < n; i++) {
    if (blocked && blocked[i]) continue;
    const v = g[i];
    const on = dark ? v < t : v > t;
    if (on) {
      mask[i] = 1;
      fgCount++;
    }
  }
  if (fgCount === 0) warnings.push('threshold found no particles (uniform image or threshold out of range)');

  // Specks go first so they neither seed the watershed nor get counted.
  const comps = labelComponents({ width: W, height: H, data: mask }, 8);
  removeSpecks(comps, opts.speckPx ?? 0);
  // Fill holes for the distance map only: a bright spot inside a dark particle must not split it.
  const filled = new Int32Array(n);
  for (let i = 0; i < n; i++) filled[i] = comps.data[i] !== 0 ? 1 : 0;
  const filledImg: LabelImage = { width: W, height: H, data: filled, count: 1 };
  fillHolesPerLabel(filledImg, blocked);
  for (let i = 0; i < n; i++) mask[i] = filled[i] ? 1 : 0;

  let labels = opts.split
    ? distanceWatershed(mask, W, H)
    : labelComponents({ width: W, height: H, data: mask }, 8);
  // Re-open the filled pixels, then refill only holes enclosed by a single particle: the gap between three
  // touching particles is background, not part of any of them.
  const ld = labels.data;
  for (let i = 0; i < n; i++) if (ld[i] !== 0 && comps.data[i] === 0) ld[i] = 0;
  fillHolesPerLabel(labels, blocked);
  labels = relabelInPlace(labels);
  return { labels, threshold: t, darkParticles: dark, warnings };
}

/** Otsu's threshold over a 256-bin histogram of [0, 1] values (pixels in `blocked` ignored). */
export function otsuThreshold(data: Float32Array, blocked?: Uint8Array): number {
  const hist = new Float64Array(BINS);
  let total = 0;
  for (let i = 0; i < data.length; i++) {
    if (blocked && blocked[i]) continue;
    let b = Math.floor(data[i] * BINS);
    if (!(b >= 0)) b = 0;
    else if (b >= BINS) b = BINS - 1;
    hist[b]++;
    total++;
  }
  if (total === 0) return 0.5;
  let sumAll = 0;
  for (let b = 0; b < BINS; b++) sumAll += b * hist[b];
  let w0 = 0;
  let sum0 = 0;
  let best = -1;
  let bestK = -1;
  for (let k = 0; k < BINS - 1; k++) {
    w0 += hist[k];
    sum0 += k * hist[k];
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = sum0 / w0;
    const m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      bestK = k;
    }
  }
  // Single-valued image: any threshold gives one phase; put it above everything so nothing is foreground.
  if (bestK < 0) return 1;
  return (bestK + 1) / BINS;
}

/**
 * Particles are the minority phase; when the phases are nearly balanced (dense packings), the phase that
 * owns most of the image border is taken as background.
 */
function detectDarkParticles(
  g: Float32Array,
  W: number,
  H: number,
  t: number,
  blocked?: Uint8Array,
): boolean {
  let bright = 0;
  let valid = 0;
  for (let i = 0; i < g.length; i++) {
    if (blocked && blocked[i]) continue;
    valid++;
    if (g[i] > t) bright++;
  }
  const frac = valid ? bright / valid : 0.5;
  if (Math.abs(frac - 0.5) >= 0.1) return frac > 0.5;
  let bBright = 0;
  let bValid = 0;
  const edge = (i: number): void => {
    if (blocked && blocked[i]) return;
    bValid++;
    if (g[i] > t) bBright++;
  };
  for (let x = 0; x < W; x++) {
    edge(x);
    edge((H - 1) * W + x);
  }
  for (let y = 1; y < H - 1; y++) {
    edge(y * W);
    edge(y * W + W - 1);
  }
  return bValid ? bBright / bValid > 0.5 : frac > 0.5;
}

/** Separable Gaussian blur with mirrored borders; radius 3 sigma. */
export function gaussianBlur(src: Float32Array, W: number, H: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  const tmp = new Float32Array(W * H);
  const out = new Float32Array(W * H);
  const line = new Float32Array(W + 2 * r);
  // Horizontal pass through a mirrored copy of the row.
  for (let y = 0; y < H; y++) {
    const off = y * W;
    for (let x = -r; x < W + r; x++) line[x + r] = src[off + mirror(x, W)];
    for (let x = 0; x < W; x++) {
      let acc = 0;
      for (let j = 0; j <= 2 * r; j++) acc += k[j] * line[x + j];
      tmp[off + x] = acc;
    }
  }
  // Vertical pass row by row (whole rows times a weight), which walks memory in order.
  for (let y = 0; y < H; y++) {
    const off = y * W;
    for (let j = 0; j <= 2 * r; j++) {
      const kj = k[j];
      const so = mirror(y + j - r, H) * W;
      for (let x = 0; x < W; x++) out[off + x] += kj * tmp[so + x];
    }
  }
  return out;
}

function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}
