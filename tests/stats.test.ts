import { describe, expect, it } from 'vitest';
import { histogram, lognormalCurve, percentile, summarize } from '../src/core/stats';

describe('summarize', () => {
  it('gives the textbook values for 1, 2, 3, 4', () => {
    const s = summarize([4, 1, 3, 2]);
    expect(s.count).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.median).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    // numpy.percentile([1,2,3,4], [10, 50, 90]) = 1.3, 2.5, 3.7
    expect(s.d10).toBeCloseTo(1.3, 12);
    expect(s.d50).toBe(2.5);
    expect(s.d90).toBeCloseTo(3.7, 12);
    expect(s.geoMean).toBeCloseTo(24 ** 0.25, 12);
    const logs = [1, 2, 3, 4].map(Math.log);
    const mu = logs.reduce((a, b) => a + b) / 4;
    const ss = logs.reduce((a, b) => a + (b - mu) ** 2, 0);
    expect(s.lognormal.mu).toBeCloseTo(mu, 12);
    expect(s.lognormal.sigma).toBeCloseTo(Math.sqrt(ss / 4), 12);
    expect(s.geoSd).toBeCloseTo(Math.exp(Math.sqrt(ss / 3)), 12);
  });

  it('handles odd counts, one value, none, and non-finite entries', () => {
    const s = summarize([5, 1, 9, NaN, 3, 7]);
    expect(s.count).toBe(5);
    expect(s.median).toBe(5);
    expect(s.d10).toBeCloseTo(1.8, 12);
    const one = summarize([42]);
    expect([one.mean, one.median, one.d10, one.d90]).toEqual([42, 42, 42, 42]);
    expect(one.std).toBeNaN();
    const none = summarize([]);
    expect(none.count).toBe(0);
    expect(none.mean).toBeNaN();
  });

  it('recovers log-normal parameters from a large deterministic sample', () => {
    // Quantiles of LN(mu=3, sigma=0.25) at evenly spaced probabilities.
    const values: number[] = [];
    for (let i = 1; i < 2000; i++) values.push(Math.exp(3 + 0.25 * probit(i / 2000)));
    const s = summarize(values);
    expect(s.lognormal.mu).toBeCloseTo(3, 3);
    expect(Math.abs(s.lognormal.sigma - 0.25)).toBeLessThan(0.005);
    expect(s.geoMean).toBeCloseTo(Math.exp(3), 1);
    expect(percentile(values, 0.5)).toBeCloseTo(Math.exp(3), 6);
  });
});

/** Inverse normal CDF (Acklam's rational approximation, ~1e-9). */
function probit(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = Math.min(p, 1 - p);
  let x: number;
  if (q > 0.02425) {
    const u = p - 0.5;
    const r = u * u;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * u) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    return x;
  }
  const r = Math.sqrt(-2 * Math.log(q));
  x =
    (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
    ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  return p < 0.5 ? x : -x;
}

describe('histogram', () => {
  it('bins by width, aligned to multiples of it, last edge covering the maximum', () => {
    const h = histogram([0, 0.5, 1, 1.5, 2], { binWidth: 1 });
    expect(h.edges).toEqual([0, 1, 2, 3]);
    expect(h.counts).toEqual([2, 2, 1]);
    const g = histogram([12.5, 17, 19.9], { binWidth: 5 });
    expect(g.edges).toEqual([10, 15, 20]);
    expect(g.counts).toEqual([1, 2]);
  });

  it('bins by count, the maximum in the last bin', () => {
    const h = histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { binCount: 5 });
    expect(h.edges).toEqual([0, 2, 4, 6, 8, 10]);
    expect(h.counts).toEqual([2, 2, 2, 2, 3]);
  });

  it('weights (area-weighted distributions) and fixed ranges', () => {
    const h = histogram([1, 2, 3], { binWidth: 2, weights: [10, 20, 30] });
    expect(h.edges).toEqual([0, 2, 4]);
    expect(h.counts).toEqual([10, 50]);
    const r = histogram([1, 5, 50], { binWidth: 10, range: [0, 20] });
    expect(r.edges).toEqual([0, 10, 20]);
    expect(r.counts).toEqual([2, 0]);
  });

  it('chooses a rounded width when given none, and nothing for no values', () => {
    const values = Array.from({ length: 500 }, (_, i) => 10 + (i % 50) * 0.7);
    const h = histogram(values);
    const w = h.edges[1] - h.edges[0];
    expect([1, 2, 5].some((m) => Math.abs(w / 10 ** Math.floor(Math.log10(w)) - m) < 1e-9)).toBe(true);
    expect(h.counts.reduce((a, b) => a + b)).toBe(500);
    expect(histogram([])).toEqual({ edges: [], counts: [] });
  });
});

describe('lognormalCurve', () => {
  it('encloses the same area as the histogram bars', () => {
    const values: number[] = [];
    for (let i = 1; i < 1000; i++) values.push(Math.exp(2 + 0.3 * probit(i / 1000)));
    const h = histogram(values, { binWidth: 0.5 });
    const s = summarize(values);
    const c = lognormalCurve(s.lognormal, h, 2000);
    let area = 0;
    for (let i = 1; i < c.x.length; i++) area += ((c.y[i] + c.y[i - 1]) / 2) * (c.x[i] - c.x[i - 1]);
    const bars = h.counts.reduce((a, b) => a + b) * 0.5;
    expect(Math.abs(area / bars - 1)).toBeLessThan(0.01);
  });
});
