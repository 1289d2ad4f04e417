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
 * in the pixel count (no sort). Data holding only integers 0..65535 (every 8- and 16-bit image) are counted
 * by value in one pass: each value then has a bin of its own either way, so the result is the same.
 */
export function percentileRange(
  g: GreyF32,
  lowPct: number,
  highPct: number,
  mask?: Uint8Array,
): [number, number] {
  const byValue = valueHistogram(g.data, mask);
  if (byValue) {
    let count = 0;
    let min = -1;
    let max = -1;
    for (let b = 0; b < BINS; b++) {
      if (byValue[b] === 0) continue;
      if (min < 0) min = b;
      max = b;
      count += byValue[b];
    }
    if (count === 0) return [0, 0];
    if (max === min) return [min, max];
    const at = (pct: number): number => {
      const rank = rankOf(pct, count);
      let cum = 0;
      for (let b = min; b <= max; b++) {
        cum += byValue[b];
        if (cum > rank) return b;
      }
      return max;
    };
    return [at(lowPct), at(highPct)];
  }
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
    const rank = rankOf(pct, count);
    let cum = 0;
    for (let b = 0; b < BINS; b++) {
      cum += hist[b];
      if (cum > rank) return lowest[b];
    }
    return max;
  };
  return [at(lowPct), at(highPct)];
}

const rankOf = (pct: number, count: number): number => (Math.min(100, Math.max(0, pct)) / 100) * (count - 1);

/** Count of each value 0..65535 among the masked pixels, or null as soon as one is not such an integer. */
function valueHistogram(d: Float32Array, mask?: Uint8Array): Int32Array | null {
  const hist = new Int32Array(BINS);
  const n = d.length;
  for (let i = 0; i < n; i++) {
    if (mask && mask[i] === 0) continue;
    const v = d[i];
    const b = v | 0; // NaN and infinities become 0 and fail the test below
    if (b !== v || b < 0 || b >= BINS) return null;
    hist[b]++;
  }
  return hist;
}

/**
 * Robust contrast stretch to [0, 1]: lowPct maps to 0, highPct to 1, values beyond are clipped. The mask
 * picks the pixels the percentiles come from (e.g. everything but the info banner); all pixels are mapped.
 * Non-finite values become 0.
 */
export function percentileStretch(g: GreyF32, lowPct: number, highPct: number, mask?: Uint8Array): GreyF32 {
  return stretchAndQuantise(g, lowPct, highPct, mask, false).norm;
}

/**
 * percentileStretch, and with `quantise` the stretched image as bytes too (value x 255 of each stored float,
 * as a Uint8ClampedArray rounds it), both written in the same pass.
 */
export function stretchAndQuantise(
  g: GreyF32,
  lowPct: number,
  highPct: number,
  mask: Uint8Array | undefined,
  quantise: boolean,
): { norm: GreyF32; bytes: Uint8ClampedArray | null } {
  const [lo, hi] = percentileRange(g, lowPct, highPct, mask);
  const d = g.data;
  const out = new Float32Array(d.length);
  const bytes = quantise ? new Uint8ClampedArray(d.length) : null;
  if (hi > lo) {
    const k = 1 / (hi - lo);
    if (bytes) {
      for (let i = 0; i < d.length; i++) {
        const v = (d[i] - lo) * k;
        const f = Math.fround(v > 0 ? (v < 1 ? v : 1) : 0);
        out[i] = f;
        bytes[i] = f * 255;
      }
    } else {
      for (let i = 0; i < d.length; i++) {
        const v = (d[i] - lo) * k;
        out[i] = v > 0 ? (v < 1 ? v : 1) : 0;
      }
    }
  }
  return { norm: { width: g.width, height: g.height, data: out }, bytes };
}

/**
 * The stretch as 8 bits per pixel (round(stretched float x 255)), in one pass without the float image: the
 * display preview.
 */
export function stretchToBytes(g: GreyF32, lowPct: number, highPct: number, mask?: Uint8Array): Uint8Array {
  const [lo, hi] = percentileRange(g, lowPct, highPct, mask);
  const d = g.data;
  const out = new Uint8Array(d.length);
  if (hi > lo) {
    const k = 1 / (hi - lo);
    for (let i = 0; i < d.length; i++) {
      const v = (d[i] - lo) * k;
      out[i] = Math.round(Math.fround(v > 0 ? (v < 1 ? v : 1) : 0) * 255);
    }
  }
  return out;
}
