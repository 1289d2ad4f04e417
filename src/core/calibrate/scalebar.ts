/**
 * Finds the scale bar (in the info banner, else anywhere in the image) and reads its label.
 *
 * A bar is a stack of identical long horizontal runs of near-extreme pixels (white on dark or black on bright),
 * a few pixels thick, with quiet rows above and below except for optional end ticks. Boxes and frames are
 * rejected by their long vertical sides. The length is measured at the half level between bar and background
 * on the bar's middle row, end to end (ticks included), so it is exact for crisp bars and within a pixel for
 * blurred/JPEG ones. The label is the nearest text line around the bar that parses as "<number> <unit>".
 */
import type { GreyF32 } from '../raster';
import type { ExcludedBand, ScaleBarReading } from '../types';
import { components, groupLines, parseScaleLabel, readLabelLine } from './ocr';

export interface Region {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

interface BarCandidate {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  bright: boolean;
  barLevel: number;
  bgLevel: number;
  tickUp: number;
  tickDown: number;
}

function regionExtremes(g: GreyF32, r: Region): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = r.y0; y < r.y1; y++) {
    const o = y * g.width;
    for (let x = r.x0; x < r.x1; x++) {
      const v = g.data[o + x]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return { lo, hi };
}

function median(vals: number[]): number {
  if (vals.length === 0) return NaN;
  vals.sort((a, b) => a - b);
  return vals[vals.length >> 1]!;
}

/**
 * Candidate bars of one polarity in a region. `inBanner`: the region is an instrument's data bar, where bars are
 * often solid blocks (JEOL draws a 32 x 15 px block for "100nm"); in the micrograph only thin bars are taken, so a
 * particle is never mistaken for one. `extremes`: the region's darkest and brightest values, when the caller
 * already has them (both polarities share them).
 */
export function findBars(
  g: GreyF32,
  r: Region,
  bright: boolean,
  inBanner = false,
  extremes = regionExtremes(g, r),
): BarCandidate[] {
  const { width: W, data } = g;
  const { lo, hi } = extremes;
  const range = hi - lo;
  if (!(range > 0)) return [];
  const thr = bright ? hi - 0.15 * range : lo + 0.15 * range;
  // One comparison for both polarities: ink is on the `sign` side of the threshold.
  const sign = bright ? 1 : -1;
  const sthr = sign * thr;
  const on = (v: number): boolean => sign * v >= sthr;
  const rw = r.x1 - r.x0;
  const minLen = Math.max(10, Math.round(rw * 0.015));
  const maxLen = Math.round(rw * 0.8);
  interface Open {
    starts: number[];
    ends: number[];
    /** First run's ends: what later rows are matched against. */
    x0: number;
    x1: number;
    y0: number;
    y1: number;
  }
  // Stacks of runs still growing, ordered by x0. Runs of a row come left to right at least minLen + 1 apart, so
  // one sweep matches them: an open stack left of the current run can match no later run and is closed.
  let open: Open[] = [];
  const closed: Open[] = [];
  const TOL = 3;
  const runs = new Int32Array(r.x1 - r.x0 + 2);
  for (let y = r.y0; y < r.y1; y++) {
    const next: Open[] = [];
    let j = 0;
    const n = rowRuns(data, y * W, r.x0, r.x1, sign, sthr, minLen, maxLen, runs);
    for (let q = 0; q < n; q += 2) {
      const s = runs[q]!;
      const e = runs[q + 1]!;
      while (j < open.length && open[j]!.x0 < s - TOL) closed.push(open[j++]!);
      // Noise or a touching object can lengthen one row's run by a few pixels; the ends are medians over rows.
      let k = j;
      while (k < open.length && open[k]!.x0 <= s + TOL && Math.abs(open[k]!.x1 - e) > TOL) k++;
      if (k < open.length && open[k]!.x0 <= s + TOL) {
        while (j < k) closed.push(open[j++]!);
        const m = open[j++]!;
        m.y1 = y;
        m.starts.push(s);
        m.ends.push(e);
        next.push(m);
      } else next.push({ starts: [s], ends: [e], x0: s, x1: e, y0: y, y1: y });
    }
    while (j < open.length) closed.push(open[j++]!);
    open = next;
  }
  closed.push(...open);
  const out: BarCandidate[] = [];
  for (const c of closed) {
    const t = c.y1 - c.y0 + 1;
    // No bar is thicker than 40 rows: skip the medians for the (many) stacks of texture runs that are.
    if (t > 40) continue;
    if (c.starts.length > 1) {
      c.x0 = median(c.starts);
      c.x1 = median(c.ends);
    }
    const len = c.x1 - c.x0 + 1;
    if (t > Math.max(3, Math.min(40, len / (inBanner ? 1.5 : 4)))) continue;
    // Quiet rows above and below (ticks excepted near the ends).
    const margin = Math.max(2, Math.round(len * 0.12));
    const quiet = (y: number): boolean => {
      if (y < r.y0 || y >= r.y1) return true;
      let n = 0;
      let m = 0;
      for (let x = c.x0 + margin; x <= c.x1 - margin; x++) {
        m++;
        if (on(data[y * W + x]!)) n++;
      }
      return m === 0 || n / m < 0.25;
    };
    if (!quiet(c.y0 - 1) || !quiet(c.y1 + 1)) continue;
    // End ticks: how far ink continues vertically at the ends.
    const tickExtent = (dir: -1 | 1): number => {
      let best = 0;
      for (const xs of [c.x0, c.x1]) {
        for (let dx = -1; dx <= 1; dx++) {
          const x = xs + (xs === c.x0 ? dx + 1 : dx - 1);
          let k = 0;
          let y = dir < 0 ? c.y0 - 1 : c.y1 + 1;
          while (y >= r.y0 && y < r.y1 && on(data[y * W + x]!)) {
            k++;
            y += dir;
          }
          best = Math.max(best, k);
        }
      }
      return best;
    };
    const tickUp = tickExtent(-1);
    const tickDown = tickExtent(1);
    // A frame or box has sides much longer than any tick.
    const maxTick = Math.max(4 * t, 0.25 * len, 6);
    if (tickUp > maxTick || tickDown > maxTick) continue;
    // Levels for the half-level length measurement.
    const ym = (c.y0 + c.y1) >> 1;
    const barVals: number[] = [];
    for (let x = c.x0; x <= c.x1; x++) barVals.push(data[ym * W + x]!);
    const bgVals: number[] = [];
    for (const y of [c.y0 - 2, c.y1 + 2]) {
      if (y < 0 || y >= g.height) continue;
      for (let x = c.x0 + margin; x <= c.x1 - margin; x++) bgVals.push(data[y * W + x]!);
    }
    const barLevel = median(barVals);
    const bgLevel = bgVals.length ? median(bgVals) : bright ? lo : hi;
    out.push({ x0: c.x0, x1: c.x1, y0: c.y0, y1: c.y1, bright, barLevel, bgLevel, tickUp, tickDown });
  }
  return out;
}

/**
 * Runs of ink (sign * value >= sthr) in row data[o + x0 .. o + x1) with a length in [minLen, maxLen], written to
 * `out` as start, end (inclusive) pairs; returns the number of entries. A small function called once per row, so
 * the engine optimises it early: the first image a page analyses would otherwise scan in unoptimised code.
 */
function rowRuns(
  data: ArrayLike<number>,
  o: number,
  x0: number,
  x1: number,
  sign: number,
  sthr: number,
  minLen: number,
  maxLen: number,
  out: Int32Array,
): number {
  let n = 0;
  let x = x0;
  while (x < x1) {
    if (sign * data[o + x]! < sthr) {
      x++;
      continue;
    }
    const s = x;
    while (x < x1 && sign * data[o + x]! >= sthr) x++;
    const len = x - s;
    if (len >= minLen && len <= maxLen) {
      out[n++] = s;
      out[n++] = x - 1;
    }
  }
  return n;
}

/** End-to-end length at half level on the middle row, searching a few pixels beyond the detected run. */
function refineEnds(g: GreyF32, c: BarCandidate): { x0: number; x1: number } {
  const { width: W, data } = g;
  const mid = (c.barLevel + c.bgLevel) / 2;
  const inside = (v: number): boolean => (c.bright ? v > mid : v < mid);
  const ym = (c.y0 + c.y1) >> 1;
  let x0 = c.x0;
  // One pixel at most: a blurred edge, not whatever bright object happens to touch the bar.
  if (x0 - 1 >= 0 && inside(data[ym * W + x0 - 1]!)) x0--;
  while (x0 < c.x1 && !inside(data[ym * W + x0]!)) x0++;
  let x1 = c.x1;
  if (x1 + 1 < W && inside(data[ym * W + x1 + 1]!)) x1++;
  while (x1 > x0 && !inside(data[ym * W + x1]!)) x1--;
  return { x0, x1 };
}

interface LabelSearch {
  text?: string;
  parsed?: ReturnType<typeof parseScaleLabel>;
  /** Text lines around the bar, nearest first, in image pixels: where an OCR engine should look. */
  lines: Region[];
}

/** Lines handed on to the OCR engine at most: the label is nearly always one of the closest few. */
const MAX_LABEL_LINES = 6;
/**
 * Lines less tall than this (px) hold no legible digit: the smallest bitmap fonts draw digits 5 px tall. Texture
 * makes many flatter "lines" (rows of particle edges), each of which would cost the OCR engine calls. On 366
 * journal figures (EMPS) no label was read from a flatter line, and the smallest read was 5 px.
 */
export const MIN_TEXT_LINE_PX = 5;

/**
 * Looks for the label around a bar: the parsed label (if the bundled-font reader read one), the raw text read, and
 * the text lines nearest the bar. A bar in a banner searches the whole band (data bars put the label anywhere
 * along it: JEOL far to the right of the bar, Zeiss above it).
 */
function readLabel(g: GreyF32, c: BarCandidate, x0: number, x1: number, band: Region | null): LabelSearch {
  const { width: W, height: H, data } = g;
  const len = x1 - x0 + 1;
  // Labels can be much wider than short bars and up to ~6% of the image height tall.
  const hw = Math.round(Math.max(40, Math.min(220, Math.max(len * 0.6, H * 0.06))));
  const xm = Math.max(len * 0.8, hw * 2.5) + 10;
  const wx0 = band ? band.x0 : Math.max(0, Math.round(x0 - xm));
  const wx1 = band ? band.x1 : Math.min(W, Math.round(x1 + xm));
  const wy0 = band ? band.y0 : Math.max(0, c.y0 - hw);
  const wy1 = band ? band.y1 : Math.min(H, c.y1 + hw + 1);
  const ww = wx1 - wx0;
  const wh = wy1 - wy0;
  // Text is drawn at the bar's level; a cut nearer the bar keeps mid-grey micrograph detail out of the glyphs.
  const mid = c.bgLevel + 0.75 * (c.barLevel - c.bgLevel);
  const mask = new Uint8Array(ww * wh);
  for (let y = 0; y < wh; y++) {
    const o = (wy0 + y) * W + wx0;
    for (let x = 0; x < ww; x++) {
      const v = data[o + x]!;
      mask[y * ww + x] = (c.bright ? v > mid : v < mid) ? 1 : 0;
    }
  }
  const labels = new Int32Array(ww * wh);
  const comps = components(mask, ww, wh, labels);
  const barId = labels[(((c.y0 + c.y1) >> 1) - wy0) * ww + (((x0 + x1) >> 1) - wx0)]!;
  const maxGlyphH = Math.max(6, hw * 0.9);
  const kept = comps.filter((k) => {
    if (k.id === barId) return false;
    const h = k.y1 - k.y0;
    const w = k.x1 - k.x0;
    if (k.area < 3 || h > maxGlyphH || w > maxGlyphH * 1.5) return false;
    // Cut by the window edge: not a whole glyph (and in micrographs mostly texture). A band's own edges are not
    // cuts: its text may run close to them.
    return band !== null || !(k.x0 === 0 || k.y0 === 0 || k.x1 === ww || k.y1 === wh);
  });
  if (kept.length === 0 || kept.length > 2000) return { lines: [] };
  // Lines may carry texture blobs next to the label (readLabelLine copes), so their length is not limited.
  const lines = groupLines(kept).filter((l) => l.glyphs.length >= 2 && l.y1 - l.y0 >= MIN_TEXT_LINE_PX);
  const by = (c.y0 + c.y1) / 2 - wy0;
  const bx = (x0 + x1) / 2 - wx0;
  const dist = (l: { x0: number; x1: number; y0: number; y1: number }): number => {
    const dy = l.y1 <= by ? by - l.y1 : l.y0 >= by ? l.y0 - by : 0;
    const cx = (l.x0 + l.x1) / 2;
    return dy + 0.5 * Math.abs(cx - bx);
  };
  lines.sort((a, b) => dist(a) - dist(b));
  const boxes = lines
    .slice(0, MAX_LABEL_LINES)
    .map((l) => ({ x0: l.x0 + wx0, y0: l.y0 + wy0, x1: l.x1 + wx0, y1: l.y1 + wy0 }));
  let firstText: string | undefined;
  for (const l of lines.slice(0, 24)) {
    const { reading, parsed } = readLabelLine(l, labels, ww);
    if (!/\d/.test(reading.text)) continue;
    firstText ??= reading.text;
    if (parsed) return { text: reading.text.trim(), parsed, lines: boxes };
  }
  return { text: firstText, lines: boxes };
}

export interface ScaleBarOptions {
  /** Banner bands: searched first; bars there need no label to be reported. */
  bands?: ExcludedBand[];
}

/** A bar and the text lines around it (nearest first) where its label may be read. */
export interface ScaleBarFind {
  reading: ScaleBarReading;
  labelLines: Region[];
  /**
   * Shown even unread: its label was read, or it lies in a banner or on a drawn box. Other candidates (a bar on
   * micrograph texture, where particles and edges also make long straight runs) count only once an OCR engine
   * reads a label beside them.
   */
  reported: boolean;
}

/**
 * Finds the scale bar and reads its label. Returns null when no bar is found. A bar found in the banner, or one
 * sitting on a quiet box in the image, is returned even with an unreadable label (value undefined) so the app can
 * prefill its length and ask for the value.
 */
export function findScaleBar(g: GreyF32, opts: ScaleBarOptions = {}): ScaleBarReading | null {
  const first = findScaleBarCandidates(g, opts)[0];
  return first?.reported ? first.reading : null;
}

/**
 * Every bar candidate with the text lines around it: findScaleBar's choice first (when it has one), then the bars
 * it would not report, longest first, for an OCR engine to confirm by reading their labels.
 */
export function findScaleBarCandidates(g: GreyF32, opts: ScaleBarOptions = {}): ScaleBarFind[] {
  const { width: W, height: H } = g;
  const regions: { r: Region; inBanner: boolean }[] = [];
  for (const b of opts.bands ?? []) {
    if (b.y1 - b.y0 >= 4) regions.push({ r: { x0: 0, y0: b.y0, x1: W, y1: b.y1 }, inBanner: true });
  }
  regions.push({ r: { x0: 0, y0: 0, x1: W, y1: H }, inBanner: false });
  let chosen: ScaleBarFind | null = null;
  const others: ScaleBarFind[] = [];
  for (const { r, inBanner } of regions) {
    const ext = regionExtremes(g, r);
    const cands = [...findBars(g, r, true, inBanner, ext), ...findBars(g, r, false, inBanner, ext)];
    // Longer bars first: labels and bars are usually the most prominent straight objects.
    cands.sort((a, b) => b.x1 - b.x0 - (a.x1 - a.x0));
    let unlabelled: ScaleBarFind | null = null;
    for (const c of cands.slice(0, 8)) {
      const { x0, x1 } = refineEnds(g, c);
      const y = (c.y0 + c.y1) >> 1;
      const label = readLabel(g, c, x0, x1, inBanner ? r : null);
      const reading: ScaleBarReading = { x0, x1, y, lengthPx: x1 - x0 + 1 };
      if (label.parsed) {
        reading.value = label.parsed.value;
        reading.unit = label.parsed.unit;
        reading.text = label.parsed.text;
        chosen = { reading, labelLines: label.lines, reported: true };
        break;
      }
      if (label.text) reading.text = label.text;
      const find = { reading, labelLines: label.lines, reported: false };
      if (unlabelled === null && (inBanner || quietSurround(g, c))) unlabelled = { ...find, reported: true };
      else others.push(find);
    }
    if (!chosen && unlabelled) chosen = unlabelled;
    if (chosen) break;
  }
  return chosen ? [chosen, ...others] : others;
}

/** True when the bar sits on a uniform patch (a drawn box), not on micrograph texture. */
function quietSurround(g: GreyF32, c: BarCandidate): boolean {
  const { width: W, height: H, data } = g;
  const t = c.y1 - c.y0 + 1;
  const pad = Math.max(3, t);
  let n = 0;
  let quiet = 0;
  const tol = Math.abs(c.barLevel - c.bgLevel) * 0.1;
  for (const y of [c.y0 - pad - Math.max(c.tickUp, 0), c.y1 + pad + Math.max(c.tickDown, 0)]) {
    if (y < 0 || y >= H) continue;
    for (let x = c.x0; x <= c.x1; x++) {
      n++;
      if (Math.abs(data[y * W + x]! - c.bgLevel) <= tol) quiet++;
    }
  }
  return n > 0 && quiet / n > 0.9;
}
