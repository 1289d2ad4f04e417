/** Frozen copy of src/core/calibrate/banner.ts before issue 21 (row flatness), for bench/real-banner.ts to compare against. */
/**
 * Detects the info banner (data bar) that SEMs burn into the bottom, or sometimes the top, of the image.
 *
 * Cue: a banner is drawn digitally, so along a row almost every pair of horizontal neighbours is equal (flat
 * background, flat boxes, text strokes only break it at their edges), while micrograph rows carry detector noise
 * and texture. The band must reach the image edge, be taller than a text line and at most 35% of the height, and
 * the micrograph rows just beyond it must be clearly less flat. Anything short of that returns no band: a missed
 * banner can be set by hand, a false one would silently drop particles.
 */
import type { GreyF32 } from '../src/core/raster';
import type { ExcludedBand } from '../src/core/types';

export interface BannerOptions {
  /** Values are integers (8/16-bit source): equal neighbours are exactly equal up to JPEG ringing. */
  integerValued?: boolean;
}

/** Per-row fraction of horizontal neighbour pairs that are flat within `tol`. */
export function rowFlatness(g: GreyF32, tol: number): Float32Array {
  const { width: W, height: H, data } = g;
  const out = new Float32Array(H);
  if (W < 2) return out;
  for (let y = 0; y < H; y++) {
    let n = 0;
    const o = y * W;
    for (let x = 1; x < W; x++) {
      const d = data[o + x]! - data[o + x - 1]!;
      if (d <= tol && d >= -tol) n++;
    }
    out[y] = n / (W - 1);
  }
  return out;
}

/** Robust spread: median absolute horizontal difference over a sample of middle rows. */
function medianAbsDiff(g: GreyF32): number {
  const { width: W, height: H, data } = g;
  const y0 = Math.floor(H * 0.3);
  const y1 = Math.max(y0 + 1, Math.floor(H * 0.7));
  const step = Math.max(1, Math.floor((y1 - y0) / 64));
  const vals: number[] = [];
  for (let y = y0; y < y1; y += step) {
    const o = y * W;
    const xs = Math.max(1, Math.floor(W / 256));
    for (let x = 1; x < W; x += xs) vals.push(Math.abs(data[o + x]! - data[o + x - 1]!));
  }
  if (vals.length === 0) return 0;
  vals.sort((a, b) => a - b);
  return vals[vals.length >> 1]!;
}

function valueRange(g: GreyF32): number {
  let lo = Infinity;
  let hi = -Infinity;
  const d = g.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi > lo ? hi - lo : 0;
}

const ROW_MIN = 0.45;
const ROW_FLAT = 0.5;
const BAND_MEAN_FLAT = 0.65;
const ABOVE_MAX_FLAT = 0.45;
const MIN_CONTRAST = 0.3;
const MAX_BAND_FRACTION = 0.35;

/**
 * Returns the banner band(s) found at the bottom and/or top edge (rows [y0, y1), reason 'banner'); empty when none.
 */
export function detectBanner(g: GreyF32, opts: BannerOptions = {}): ExcludedBand[] {
  const { width: W, height: H } = g;
  if (W < 32 || H < 32) return [];
  const range = valueRange(g);
  if (range === 0) return [];
  const mad = medianAbsDiff(g);
  const quantum = opts.integerValued ? 1 : 0;
  // Tolerance: above rounding/JPEG ringing, well below the micrograph's own pixel-to-pixel variation.
  const tol = Math.max(quantum * 0.5, Math.min(range * 0.006, mad * 0.25));
  const flat = rowFlatness(g, tol);
  const out: ExcludedBand[] = [];
  const bottom = growBand(bannerScore(g, flat, -1, range), H, -1);
  if (bottom) out.push({ y0: bottom.start, y1: H, reason: 'banner' });
  const top = growBand(bannerScore(g, flat, +1, range), H, +1);
  if (top && (!bottom || top.end < bottom.start)) out.push({ y0: 0, y1: top.end, reason: 'banner' });
  return out;
}

/**
 * Per-row banner score: flatness, or (for JPEG-compressed banners with dense text, whose flatness drops) the
 * fraction of pixels at the banner's background level. That level is the mode of the edge rows and must sit near
 * the image's black or white end: banners are black, white or dark grey, while a micrograph's own background is
 * rarely clipped.
 */
export function bannerScore(g: GreyF32, flat: Float32Array, dir: 1 | -1, range: number): Float32Array {
  const { width: W, height: H, data } = g;
  const score = Float32Array.from(flat);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const BINS = 64;
  const hist = new Uint32Array(BINS);
  const bin = (v: number): number => Math.min(BINS - 1, Math.floor(((v - lo) / range) * BINS));
  for (let k = 0; k < 4; k++) {
    const y = dir < 0 ? H - 1 - k : k;
    for (let x = 0; x < W; x++) hist[bin(data[y * W + x]!)]!++;
  }
  let mb = 0;
  for (let b = 1; b < BINS; b++) if (hist[b]! > hist[mb]!) mb = b;
  if (hist[mb]! < 4 * W * 0.5) return score;
  // The exact level: mean of the edge pixels in the modal bin.
  let sum = 0;
  let n = 0;
  for (let k = 0; k < 4; k++) {
    const y = dir < 0 ? H - 1 - k : k;
    for (let x = 0; x < W; x++) {
      const v = data[y * W + x]!;
      if (bin(v) === mb) {
        sum += v;
        n++;
      }
    }
  }
  const level = sum / n;
  if (level - lo > 0.15 * range && hi - level > 0.15 * range) return score;
  const tolM = 0.03 * range;
  for (let y = 0; y < H; y++) {
    if (flat[y]! < 0.3) continue;
    let m = 0;
    for (let x = 0; x < W; x++) if (Math.abs(data[y * W + x]! - level) <= tolM) m++;
    const f = m / W;
    if (f > score[y]!) score[y] = f;
  }
  return score;
}

/**
 * Finds the band at the bottom (dir -1) or top (dir +1) edge: among heights whose rows are all banner-like, the one with the sharpest step in score to the micrograph
 * beyond it. Returns [start, end) rows when it passes the banner tests.
 */
function growBand(score: Float32Array, H: number, dir: 1 | -1): { start: number; end: number } | null {
  const maxRows = Math.floor(H * MAX_BAND_FRACTION);
  const row = (i: number): number => score[dir < 0 ? H - 1 - i : i]!;
  let best: { n: number; contrast: number } | null = null;
  let sum = 0;
  for (let n = 1; n <= maxRows && n < H - 4; n++) {
    const v = row(n - 1);
    sum += v;
    // Dense text lines lower a row's score; a row below ROW_MIN is micrograph, so the band cannot reach past it.
    if (v < ROW_MIN) break;
    if (n < 8 || v < ROW_FLAT) continue;
    const mean = sum / n;
    if (mean < BAND_MEAN_FLAT) continue;
    const k = Math.min(12, H - n);
    let above = 0;
    for (let i = 0; i < k; i++) above += row(n + i);
    above /= k;
    // The step right at the boundary must be sharp too: the first micrograph row is clearly less flat.
    if (above > ABOVE_MAX_FLAT || mean - above < MIN_CONTRAST || v - row(n) < 0.15) continue;
    const contrast = mean - above;
    if (!best || contrast > best.contrast) best = { n, contrast };
  }
  if (!best) return null;
  return dir < 0 ? { start: H - best.n, end: H } : { start: 0, end: best.n };
}
