/** Summary statistics, histogram binning and the log-normal fit used for size distributions. */

export interface Summary {
  count: number;
  mean: number;
  median: number;
  /** Sample standard deviation (n - 1); NaN below two values. */
  std: number;
  /** Number-weighted percentiles (linear interpolation between order statistics, as numpy's default). */
  d10: number;
  d50: number;
  d90: number;
  /** exp(mean of ln v) over the positive values. */
  geoMean: number;
  /** exp(sample sd of ln v) over the positive values; NaN below two values. */
  geoSd: number;
  /** Maximum-likelihood log-normal fit: mu = mean of ln v, sigma = population sd of ln v (divides by n). */
  lognormal: { mu: number; sigma: number };
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  const a = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) a[n++] = v;
  }
  return a.subarray(0, n).sort();
}

/** p in [0, 1] of ascending data: h = (n - 1) p, interpolated between neighbours. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function percentile(values: ArrayLike<number>, p: number): number {
  return percentileSorted(sortedCopy(values), p);
}

/** Non-finite values are ignored; log statistics use only values > 0. */
export function summarize(values: ArrayLike<number>): Summary {
  const s = sortedCopy(values);
  const n = s.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  const mean = n > 0 ? sum / n : NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (s[i] - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;

  let ln = 0;
  let np = 0;
  for (let i = 0; i < n; i++) {
    if (s[i] > 0) {
      ln += Math.log(s[i]);
      np++;
    }
  }
  const mu = np > 0 ? ln / np : NaN;
  let lss = 0;
  for (let i = 0; i < n; i++) if (s[i] > 0) lss += (Math.log(s[i]) - mu) ** 2;
  return {
    count: n,
    mean,
    median: percentileSorted(s, 0.5),
    std,
    d10: percentileSorted(s, 0.1),
    d50: percentileSorted(s, 0.5),
    d90: percentileSorted(s, 0.9),
    geoMean: np > 0 ? Math.exp(mu) : NaN,
    geoSd: np > 1 ? Math.exp(Math.sqrt(lss / (np - 1))) : NaN,
    lognormal: { mu, sigma: np > 0 ? Math.sqrt(lss / np) : NaN },
  };
}

export interface HistogramOptions {
  /** Bin width in the values' unit; bins are aligned to multiples of it. */
  binWidth?: number;
  /** Number of equal bins between min and max (used when binWidth is absent). */
  binCount?: number;
  /** Per-value weights (e.g. areas for an area-weighted distribution); counts become weight sums. */
  weights?: ArrayLike<number>;
  /** Fixed range, e.g. to bin several images alike; values outside are left out. */
  range?: [number, number];
}

export interface Histogram {
  /** counts.length + 1 ascending edges; bin i is [edges[i], edges[i+1]), the last bin closed. */
  edges: number[];
  counts: number[];
}

/** A 1-2-5 rounded width near the Freedman-Diaconis choice, for when the caller gives neither. */
function autoBinWidth(sorted: Float64Array): number {
  const n = sorted.length;
  const iqr = percentileSorted(sorted, 0.75) - percentileSorted(sorted, 0.25);
  const span = sorted[n - 1] - sorted[0];
  let w = iqr > 0 ? (2 * iqr) / Math.cbrt(n) : span / Math.max(1, Math.ceil(Math.log2(n) + 1));
  if (!(w > 0)) w = Math.abs(sorted[0]) > 0 ? Math.abs(sorted[0]) / 10 : 1;
  // Never more than 200 bins: a histogram, not a barcode.
  if (span / w > 200) w = span / 200;
  const p = 10 ** Math.floor(Math.log10(w));
  const m = w / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

export function histogram(values: ArrayLike<number>, opts: HistogramOptions = {}): Histogram {
  const sorted = sortedCopy(values);
  if (sorted.length === 0 && !opts.range) return { edges: [], counts: [] };
  const lo = opts.range ? opts.range[0] : sorted[0];
  const hi = opts.range ? opts.range[1] : sorted[sorted.length - 1];
  let edges: number[];
  if (opts.binWidth && opts.binWidth > 0) {
    const bw = opts.binWidth;
    const first = Math.floor(lo / bw + 1e-9) * bw;
    let nb = Math.max(1, Math.ceil((hi - first) / bw - 1e-9));
    if (first + nb * bw <= hi && !opts.range) nb++;
    if (nb > 100000) throw new RangeError(`bin width ${bw} gives ${nb} bins; choose a wider bin`);
    edges = Array.from({ length: nb + 1 }, (_, i) => first + i * bw);
  } else if (opts.binCount && opts.binCount > 0) {
    const nb = Math.floor(opts.binCount);
    const span = hi > lo ? hi - lo : 1;
    edges = Array.from({ length: nb + 1 }, (_, i) => lo + (i * span) / nb);
  } else {
    return histogram(values, { ...opts, binWidth: sorted.length ? autoBinWidth(sorted) : 1 });
  }
  const nb = edges.length - 1;
  const counts = new Array<number>(nb).fill(0);
  const e0 = edges[0];
  const eN = edges[nb];
  const uniform = opts.binWidth && opts.binWidth > 0 ? opts.binWidth : (eN - e0) / nb;
  const w = opts.weights;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || v < e0 || v > eN) continue;
    let b = Math.floor((v - e0) / uniform);
    if (b >= nb) b = nb - 1;
    // Guard against rounding putting a value on the wrong side of an edge.
    if (b > 0 && v < edges[b]) b--;
    else if (b < nb - 1 && v >= edges[b + 1]) b++;
    counts[b] += w ? w[i] : 1;
  }
  return { edges, counts };
}

export function lognormalPdf(x: number, mu: number, sigma: number): number {
  if (!(x > 0) || !(sigma > 0)) return 0;
  const z = (Math.log(x) - mu) / sigma;
  return Math.exp(-0.5 * z * z) / (x * sigma * Math.sqrt(2 * Math.PI));
}

/**
 * The fitted log-normal drawn over a histogram: y is scaled by total weight x bin width so the curve and
 * the bars enclose the same area. Returns `points` samples across the histogram's edges.
 */
export function lognormalCurve(
  fit: { mu: number; sigma: number },
  hist: Histogram,
  points = 200,
): { x: number[]; y: number[] } {
  const nb = hist.counts.length;
  if (nb === 0 || !(fit.sigma > 0) || !Number.isFinite(fit.mu)) return { x: [], y: [] };
  const total = hist.counts.reduce((a, b) => a + b, 0);
  const lo = hist.edges[0];
  const hi = hist.edges[nb];
  const bw = (hi - lo) / nb;
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < points; i++) {
    const xi = lo + ((hi - lo) * i) / (points - 1);
    x.push(xi);
    y.push(total * bw * lognormalPdf(xi, fit.mu, fit.sigma));
  }
  return { x, y };
}
