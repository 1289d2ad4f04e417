import type { GreyF32, Raster } from './raster';

/**
 * One grey channel as float, in the source's own units (0..255, 0..65535 or the float values), so a
 * 16-bit micrograph keeps its full dynamic range for the percentile stretch. RGB becomes Rec. 601 luma;
 * alpha is ignored (grey + alpha keeps the grey).
 */
export function toGrey(r: Raster): GreyF32 {
  const { width, height, data, channels } = r;
  const n = width * height;
  const out = new Float32Array(n);
  if (channels === 1) {
    out.set(data.subarray(0, n));
  } else if (channels === 2) {
    for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = data[j];
  } else {
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      out[i] = 0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2];
    }
  }
  return { width, height, data: out };
}

const BINS = 65536;

/**
 * Values at the lowPct and highPct percentiles (0..100) of the pixels where mask != 0 (all pixels when no
 * mask) as the lower order statistic at rank p (n - 1), from a 65536-bin histogram between min and max:
 * exact for 8- and 16-bit data, within 1/65535 of the range for floats (values sharing a bin), and linear
 * in the pixel count (no sort).
 */
export function percentileRange(
  g: GreyF32,
  lowPct: number,
  highPct: number,
  mask?: Uint8Array,
): [number, number] {
  const d = g.data;
  const n = d.length;
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (mask && mask[i] === 0) continue;
    const v = d[i];
    if (!(v === v) || v === Infinity || v === -Infinity) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    count++;
  }
  if (count === 0) return [0, 0];
  if (max === min) return [min, max];
  const scale = (BINS - 1) / (max - min);
  const hist = new Uint32Array(BINS);
  // The smallest value in each bin, so the percentile returned is a value that occurs in the data.
  const lowest = new Float32Array(BINS).fill(Infinity);
  for (let i = 0; i < n; i++) {
    if (mask && mask[i] === 0) continue;
    const v = d[i];
    if (!(v >= min && v <= max)) continue;
    const b = Math.round((v - min) * scale);
    hist[b]++;
    if (v < lowest[b]) lowest[b] = v;
  }
  const at = (pct: number): number => {
    const rank = (Math.min(100, Math.max(0, pct)) / 100) * (count - 1);
    let cum = 0;
    for (let b = 0; b < BINS; b++) {
      cum += hist[b];
      if (cum > rank) return lowest[b];
    }
    return max;
  };
  return [at(lowPct), at(highPct)];
}

/**
 * Robust contrast stretch to [0, 1]: lowPct maps to 0, highPct to 1, values beyond are clipped. The mask
 * picks the pixels the percentiles come from (e.g. everything but the info banner); all pixels are mapped.
 * Non-finite values become 0.
 */
export function percentileStretch(g: GreyF32, lowPct: number, highPct: number, mask?: Uint8Array): GreyF32 {
  const [lo, hi] = percentileRange(g, lowPct, highPct, mask);
  const d = g.data;
  const out = new Float32Array(d.length);
  if (hi > lo) {
    const k = 1 / (hi - lo);
    for (let i = 0; i < d.length; i++) {
      const v = (d[i] - lo) * k;
      out[i] = v > 0 ? (v < 1 ? v : 1) : 0;
    }
  }
  return { width: g.width, height: g.height, data: out };
}
