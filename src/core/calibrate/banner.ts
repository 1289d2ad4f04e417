/**
 * Detects the info banner (data bar) that SEMs and TEMs burn into the bottom, or sometimes the top, of the image.
 *
 * Cue: a banner is drawn, not imaged. Its background is one level (black, white or a grey) that covers most of
 * every banner row, text and boxes included, while the micrograph next to it has few pixels at that level. Rows
 * of the band are those mostly at that level, plus thin uniform rows of another level (separator rules, box
 * edges, padding). The band ends where that stops, and the micrograph rows just beyond must hold little of the
 * level: a step, not a gradual change, so a dark or saturated micrograph background that reaches the edge is not
 * taken for a banner. JPEG ringing and resampling are absorbed by a tolerance measured on the band's own pixels.
 * Anything short of that returns no band: a missed banner can be set by hand, a false one would silently drop
 * particles.
 */
import type { GreyF32 } from '../raster';
import type { ExcludedBand } from '../types';

export interface BannerOptions {
  /** Values are integers (8/16-bit source): the tolerance is never below one grey level. */
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

/** Largest band, as a fraction of the height. */
const MAX_BAND_FRACTION = 0.35;
/** Fewest rows a band may have (a one-line data bar on a 512-row figure is about 12). */
const MIN_ROWS = 6;
/** A row belongs to the band when at least this fraction of it is at the band level... */
const ROW_COVER = 0.35;
/** ... or this fraction within the loose tolerance (JPEG-smeared text) with ROW_COVER_MIN at the tight one. */
const ROW_COVER_LOOSE = 0.6;
const ROW_COVER_MIN = 0.2;
/** ... or when this fraction of it sits at its own single level (a rule, a box edge, padding). */
const RULE_UNIFORM = 0.7;
/** Rules are thin: more uniform rows than this in a row are micrograph (a smooth background). */
const MAX_RULE_ROWS = 4;
/** A rule at the band's inner edge differs from the micrograph beyond by this fraction of the range. */
const RULE_CONTRAST = 0.05;
/** Rows of dense or JPEG-smeared text keep at least this much of the level (loose tolerance). */
const WEAK_COVER = 0.1;
/** At most this many such weak rows in a row inside the band. */
const MAX_WEAK_ROWS = 6;
/** Smeared edge rows are only judged when band and micrograph means differ by this fraction of the range. */
const SMEAR_CONTRAST = 0.15;
/** A JPEG-smeared rule: a row whose mean is this far from the next three (which agree within STEADY). */
const OUTLIER_ROW = 0.1;
const STEADY = 0.03;
/** Rows looked at beyond the band. */
const BEYOND_ROWS = 8;
/** The micrograph rows just beyond the band may hold at most this fraction at the band level. */
const BEYOND_MAX_COVER = 0.1;
/** The band's last row at the level must hold this much more of it than the rows beyond. */
const EDGE_STEP = 0.3;
/** Mean coverage of the band's rows. */
const BAND_MIN_COVER = 0.45;
/** The level must be present across the width: in each of this many column blocks... */
const BLOCKS = 8;
/** ... on at least this fraction of the block's band pixels (a label box in a corner is not a banner). */
const BLOCK_MIN_COVER = 0.1;

export interface BandCandidate {
  /** Rows from the edge. */
  rows: number;
  level: number;
  tol: number;
  /** Mean fraction at the level in the rows beyond, and in the band. */
  beyond: number;
  bandCover: number;
}

/**
 * Returns the banner band(s) found at the bottom and/or top edge (rows [y0, y1), reason 'banner'); empty when none.
 */
export function detectBanner(g: GreyF32, opts: BannerOptions = {}): ExcludedBand[] {
  const { width: W, height: H, data } = g;
  if (W < 32 || H < 32) return [];
  const range = new Float64Array([Infinity, -Infinity]);
  for (let y = 0; y < H; y++) rowRange(data, y * W, W, range);
  const lo = range[0]!;
  const hi = range[1]!;
  if (!(hi > lo)) return [];
  const quantum = opts.integerValued ? 1 : 0;
  const out: ExcludedBand[] = [];
  const bottom = edgeBand(g, -1, lo, hi, quantum);
  if (bottom) out.push({ y0: H - bottom.rows, y1: H, reason: 'banner' });
  const top = edgeBand(g, 1, lo, hi, quantum);
  if (top && (!bottom || top.rows < H - bottom.rows)) out.push({ y0: 0, y1: top.rows, reason: 'banner' });
  return out;
}

export interface EdgeProfile {
  level: number;
  tol: number;
  /** Per row from the edge: fraction at the band level (tight and loose tolerance). */
  cover: Float32Array;
  coverLoose: Float32Array;
  /** Fraction of the row at its own most common level, and that level (computed on first use: most rows are
   * settled by their cover alone). */
  uniform(i: number): number;
  rowLevel(i: number): number;
  rowMean: Float32Array;
  /** Pixels at the level per row and column block (row-major, BLOCKS per row). */
  blockCount: Uint32Array;
}

/*
 * Per-row helpers: small functions called once per row, so the engine optimises them early; the first image a
 * page analyses would otherwise be scanned in unoptimised code.
 */

/** Widens range [lo, hi] by the values of row data[o, o + W). */
function rowRange(data: ArrayLike<number>, o: number, W: number, range: Float64Array): void {
  let lo = range[0]!;
  let hi = range[1]!;
  for (let x = 0; x < W; x++) {
    const v = data[o + x]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  range[0] = lo;
  range[1] = hi;
}

/** Pixels of row data[o, o + W) within tol and tolLoose of level (the former also per column block, at
 * blockCount[bo + block[x]]) and the row's sum, into acc. */
function rowCover(
  data: ArrayLike<number>,
  o: number,
  W: number,
  level: number,
  tol: number,
  tolLoose: number,
  block: Uint8Array,
  blockCount: Uint32Array,
  bo: number,
  acc: Float64Array,
): void {
  let c = 0;
  let cl = 0;
  let ms = 0;
  for (let x = 0; x < W; x++) {
    const v = data[o + x]!;
    const d = Math.abs(v - level);
    if (d <= tol) {
      c++;
      blockCount[bo + block[x]!]!++;
    }
    if (d <= tolLoose) cl++;
    ms += v;
  }
  acc[0] = c;
  acc[1] = cl;
  acc[2] = ms;
}

/** Row profile of the bottom (dir -1) or top (dir +1) edge region. */
export function edgeProfile(
  g: GreyF32,
  dir: 1 | -1,
  lo: number,
  hi: number,
  quantum: number,
): EdgeProfile | null {
  const { width: W, height: H, data } = g;
  const range = hi - lo;
  const maxRows = Math.floor(H * MAX_BAND_FRACTION);
  const rowAt = (i: number): number => (dir < 0 ? H - 1 - i : i);

  // The band level: the most common value of the outer rows (a thin banner still dominates them).
  const K = Math.min(maxRows, Math.max(8, Math.round(H * 0.04)));
  const BINS = 256;
  const hist = new Uint32Array(BINS);
  const bin = (v: number): number => Math.min(BINS - 1, Math.floor(((v - lo) / range) * BINS));
  for (let i = 0; i < K; i++) {
    const o = rowAt(i) * W;
    for (let x = 0; x < W; x++) hist[bin(data[o + x]!)]!++;
  }
  let mb = 0;
  for (let b = 1; b < BINS; b++) if (hist[b]! > hist[mb]!) mb = b;
  // Refine: mean of the pixels in the modal bin and its neighbours, then their spread around it.
  const wide = 0.06 * range;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < K; i++) {
    const o = rowAt(i) * W;
    for (let x = 0; x < W; x++) {
      const v = data[o + x]!;
      const b = bin(v);
      if (b >= mb - 1 && b <= mb + 1) {
        sum += v;
        n++;
      }
    }
  }
  if (n < W) return null;
  const level = sum / n;
  let dev = 0;
  let m = 0;
  for (let i = 0; i < K; i++) {
    const o = rowAt(i) * W;
    for (let x = 0; x < W; x++) {
      const d = Math.abs(data[o + x]! - level);
      if (d <= wide) {
        dev += d;
        m++;
      }
    }
  }
  const spread = dev / m;
  // Tight: the band's own spread (exact digital levels, or JPEG noise); loose: JPEG ringing next to text.
  const tol = Math.min(wide, Math.max(quantum, 0.004 * range, 3 * spread));
  const tolLoose = Math.max(tol, wide);

  const limit = Math.min(H, maxRows + 12);
  const cover = new Float32Array(limit);
  const coverLoose = new Float32Array(limit);
  const uniformRow = new Float32Array(limit).fill(-1);
  const levelRow = new Float32Array(limit);
  const rowMean = new Float32Array(limit);
  const blockCount = new Uint32Array(limit * BLOCKS);
  const block = new Uint8Array(W);
  for (let x = 0; x < W; x++) block[x] = Math.floor((x * BLOCKS) / W);
  const acc = new Float64Array(3);
  for (let i = 0; i < limit; i++) {
    rowCover(data, rowAt(i) * W, W, level, tol, tolLoose, block, blockCount, i * BLOCKS, acc);
    cover[i] = acc[0]! / W;
    coverLoose[i] = acc[1]! / W;
    rowMean[i] = acc[2]! / W;
  }
  const rh = new Uint32Array(BINS);
  const tolU = Math.max(tol, 0.03 * range);
  const rowStats = (i: number): void => {
    const o = rowAt(i) * W;
    rh.fill(0);
    for (let x = 0; x < W; x++) rh[bin(data[o + x]!)]!++;
    let rb = 0;
    for (let b = 1; b < BINS; b++) if (rh[b]! > rh[rb]!) rb = b;
    const centre = lo + ((rb + 0.5) / BINS) * range;
    let u = 0;
    for (let x = 0; x < W; x++) if (Math.abs(data[o + x]! - centre) <= tolU) u++;
    uniformRow[i] = u / W;
    levelRow[i] = centre;
  };
  const uniform = (i: number): number => {
    if (uniformRow[i]! < 0) rowStats(i);
    return uniformRow[i]!;
  };
  const rowLevel = (i: number): number => {
    if (uniformRow[i]! < 0) rowStats(i);
    return levelRow[i]!;
  };
  return { level, tol, cover, coverLoose, uniform, rowLevel, rowMean, blockCount };
}

/** The band at the bottom (dir -1) or top (dir +1) edge, or null. */
export function edgeBand(
  g: GreyF32,
  dir: 1 | -1,
  lo: number,
  hi: number,
  quantum: number,
): BandCandidate | null {
  const { width: W, height: H } = g;
  const range = hi - lo;
  const maxRows = Math.floor(H * MAX_BAND_FRACTION);
  const p = edgeProfile(g, dir, lo, hi, quantum);
  if (!p) return null;
  const { level, tol, cover, coverLoose, uniform } = p;
  const limit = cover.length;

  // Scan inward. Rows at the band level (B), thin uniform rules (R) and weak rows of dense or JPEG-smeared text
  // (W) continue it; two rows with almost none of the level (X) end it. The band is the first stretch whose next
  // rows (past one smeared edge row) hold almost none of the level, with a clear step down to them.
  let lastB = -1;
  let ruleRun = 0;
  let xRun = 0;
  let sum = 0;
  for (let i = 0; i < maxRows; i++) {
    const c = cover[i]!;
    sum += c;
    let strong = false;
    if (atLevel(p, i)) {
      lastB = i;
      ruleRun = 0;
      strong = true;
    } else if (uniform(i) >= RULE_UNIFORM) {
      ruleRun++;
      strong = true;
    }
    if (!strong && coverLoose[i]! < WEAK_COVER) {
      if (++xRun > 1) break;
      continue;
    }
    xRun = 0;
    if (!strong || lastB < 0 || (ruleRun > MAX_RULE_ROWS && i > lastB)) continue;
    const n = i + 1;
    if (n < MIN_ROWS) continue;
    const k = Math.min(BEYOND_ROWS, limit - n - 1);
    if (k < 3) break;
    let beyond = 0;
    for (let j = n + 1; j < n + 1 + k; j++) beyond += cover[j]!;
    beyond /= k;
    let beyondLoose = 0;
    for (let j = n + 1; j < n + 1 + k; j++) beyondLoose += coverLoose[j]!;
    beyondLoose /= k;
    if (beyond > BEYOND_MAX_COVER) continue;
    if (cover[lastB]! - beyond < EDGE_STEP && coverLoose[lastB]! - beyondLoose < EDGE_STEP) continue;
    const bandCover = sum / n;
    if (bandCover < BAND_MIN_COVER) continue;
    const end = smearedEdge(p, innerEdge(p, n, maxRows, range), limit, range);
    if (end > maxRows || !acrossWidth(p, end, W)) return null;
    return { rows: end, level, tol, beyond, bandCover };
  }
  return null;
}

/**
 * From a band of n rows, the band runs on over rows at the level, with short stretches of weak rows (dense or
 * JPEG-smeared text) between them. After its last row at the level come, at most: a few rows nearly all within the
 * loose tolerance (JPEG-smeared background), then a thin rule standing apart from the micrograph beyond.
 */
function innerEdge(p: EdgeProfile, n: number, maxRows: number, range: number): number {
  const { coverLoose, uniform } = p;
  const limit = p.cover.length;
  let lastB = n - 1;
  let weak = 0;
  for (let j = n; j < maxRows; j++) {
    if (atLevel(p, j)) {
      lastB = j;
      weak = 0;
    } else if ((coverLoose[j]! >= WEAK_COVER || uniform(j) >= RULE_UNIFORM) && ++weak <= MAX_WEAK_ROWS)
      continue;
    else break;
  }
  let e = lastB + 1;
  while (e < lastB + 1 + MAX_WEAK_ROWS && e < limit && coverLoose[e]! >= ROW_COVER_LOOSE) e++;
  return rule(p, e, range);
}

/** Rows [e, e + k) form a thin rule (uniform rows of one level, or one JPEG-smeared row) that stands apart from
 * the steady micrograph after it: returns e + k, else e. */
function rule(p: EdgeProfile, e: number, range: number): number {
  const { uniform, rowLevel, rowMean } = p;
  const limit = p.cover.length;
  const tolU = Math.max(p.tol, 0.03 * range);
  let t = e;
  if (uniform(e) >= RULE_UNIFORM) {
    while (
      t + 1 < limit &&
      uniform(t + 1) >= RULE_UNIFORM &&
      Math.abs(rowLevel(t + 1) - rowLevel(e)) <= tolU
    ) {
      t++;
      if (t - e >= MAX_RULE_ROWS) return e;
    }
  }
  const m0 = t + 2;
  const m1 = Math.min(limit, t + 10);
  if (m1 - m0 < 3) return e;
  let micro = 0;
  for (let r = m0; r < m1; r++) micro += rowMean[r]!;
  micro /= m1 - m0;
  let steady = 0;
  for (let r = m0; r < m1; r++) steady = Math.max(steady, Math.abs(rowMean[r]! - micro));
  if (uniform(e) >= RULE_UNIFORM)
    return Math.abs(rowLevel(t) - micro) >= Math.max(RULE_CONTRAST * range, 3 * steady) ? t + 1 : e;
  // A rule smeared by JPEG is not uniform; its mean still stands apart from the next rows, which agree.
  const a = rowMean[e + 1]!;
  const b = rowMean[e + 2]!;
  const c = rowMean[e + 3]!;
  const agree = Math.max(a, b, c) - Math.min(a, b, c) <= STEADY * range;
  return agree && Math.abs(rowMean[e]! - (a + b + c) / 3) >= OUTLIER_ROW * range ? e + 1 : e;
}

/**
 * A resampled banner edge is smeared over a row or two between band and micrograph. Those rows belong to the band
 * when their mean is nearer the band's edge row than the micrograph beyond (a crisp edge has none).
 */
function smearedEdge(p: EdgeProfile, end: number, limit: number, range: number): number {
  const { rowMean } = p;
  const j0 = end + 3;
  const j1 = Math.min(limit, end + 11);
  if (j1 - j0 < 3) return end;
  let micro = 0;
  for (let j = j0; j < j1; j++) micro += rowMean[j]!;
  micro /= j1 - j0;
  const edge = rowMean[end - 1]!;
  // Band and micrograph of about the same mean: a row between them says nothing.
  if (Math.abs(edge - micro) < SMEAR_CONTRAST * range) return end;
  let e = end;
  for (let k = 0; k < 2 && e < limit; k++) {
    const m = rowMean[e]!;
    const between = (m - edge) * (m - micro) <= 0;
    if (!between || Math.abs(m - edge) >= Math.abs(m - micro)) break;
    e++;
  }
  return e;
}

/** Row at the band level (B): enough of it within the tight tolerance, or nearly all within the loose one. */
function atLevel(p: EdgeProfile, i: number): boolean {
  const c = p.cover[i]!;
  return c >= ROW_COVER || (c >= ROW_COVER_MIN && p.coverLoose[i]! >= ROW_COVER_LOOSE);
}

/** The band level shows in every column block of the band: a banner spans the width, a label box does not. */
function acrossWidth(p: EdgeProfile, rows: number, W: number): boolean {
  for (let b = 0; b < BLOCKS; b++) {
    const w = Math.floor(((b + 1) * W) / BLOCKS) - Math.floor((b * W) / BLOCKS);
    let c = 0;
    for (let i = 0; i < rows; i++) c += p.blockCount[i * BLOCKS + b]!;
    if (c < BLOCK_MIN_COVER * w * rows) return false;
  }
  return true;
}
