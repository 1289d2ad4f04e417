/**
 * The one-pass normalisation (value histogram for integer data, stretch and bytes written together) against
 * the straightforward form it replaced, kept here as the reference: the results must be identical, bit for bit.
 */
import { describe, expect, it } from 'vitest';
import {
  percentileRange,
  percentileStretch,
  stretchAndQuantise,
  stretchToBytes,
} from '../src/core/normalise';
import { dropOppositeContrast } from '../src/core/segment/contrast-filter';
import { relabelInPlace } from '../src/core/label';
import type { GreyF32, LabelImage } from '../src/core/raster';

/** The 65536-bin histogram over [min, max] with the smallest value per bin, for every kind of data. */
function referenceRange(g: GreyF32, lowPct: number, highPct: number, mask?: Uint8Array): [number, number] {
  const d = g.data;
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < d.length; i++) {
    if (mask && mask[i] === 0) continue;
    const v = d[i];
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
    count++;
  }
  if (count === 0) return [0, 0];
  if (max === min) return [min, max];
  const BINS = 65536;
  const scale = (BINS - 1) / (max - min);
  const hist = new Uint32Array(BINS);
  const lowest = new Float32Array(BINS).fill(Infinity);
  for (let i = 0; i < d.length; i++) {
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

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function image(kind: string, seed: number, n = 5000): GreyF32 {
  const r = rng(seed);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (kind === '8bit') data[i] = Math.floor(u * u * 256);
    else if (kind === '8bit-narrow') data[i] = 90 + Math.floor(u * 7);
    else if (kind === '16bit') data[i] = Math.floor(u * 65536);
    else if (kind === 'negative-int') data[i] = Math.floor(u * 2000) - 1000;
    else if (kind === 'wide-int') data[i] = Math.floor(u * 300000);
    else if (kind === 'float') data[i] = u * 3.7 - 1;
    else if (kind === 'int-with-nan')
      data[i] = i % 97 === 0 ? NaN : i % 89 === 0 ? Infinity : Math.floor(u * 256);
  }
  return { width: n, height: 1, data };
}

const KINDS = ['8bit', '8bit-narrow', '16bit', 'negative-int', 'wide-int', 'float', 'int-with-nan'];
const PCTS: [number, number][] = [
  [0.5, 99.5],
  [0.1, 99.9],
  [0, 100],
  [1, 99],
  [50, 50],
];

describe('one-pass normalisation equals the reference', () => {
  for (const kind of KINDS)
    it(`percentiles of ${kind} data, with and without a mask`, () => {
      for (let seed = 1; seed <= 4; seed++) {
        const g = image(kind, seed);
        const mask = new Uint8Array(g.data.length).map((_, i) => (i % 7 < 5 ? 1 : 0));
        for (const [lo, hi] of PCTS) {
          expect(percentileRange(g, lo, hi)).toEqual(referenceRange(g, lo, hi));
          expect(percentileRange(g, lo, hi, mask)).toEqual(referenceRange(g, lo, hi, mask));
        }
      }
    });

  it('percentiles of constant, empty-masked and single-pixel data', () => {
    const flat: GreyF32 = { width: 4, height: 1, data: new Float32Array(4).fill(7) };
    expect(percentileRange(flat, 1, 99)).toEqual([7, 7]);
    expect(percentileRange(flat, 1, 99, new Uint8Array(4))).toEqual([0, 0]);
    const one: GreyF32 = { width: 1, height: 1, data: new Float32Array([3]) };
    expect(percentileRange(one, 0, 100)).toEqual([3, 3]);
  });

  for (const kind of KINDS)
    it(`stretch, the contrast filter's bytes and the preview bytes of ${kind} data`, () => {
      const g = image(kind, 9);
      const [lo, hi] = referenceRange(g, 0.5, 99.5);
      const k = 1 / (hi - lo);
      const norm = Float32Array.from(g.data, (v) => {
        const t = (v - lo) * k;
        return t > 0 ? (t < 1 ? t : 1) : 0;
      });
      const bytes = new Uint8ClampedArray(norm.length);
      for (let i = 0; i < norm.length; i++) bytes[i] = norm[i] * 255;
      const s = stretchAndQuantise(g, 0.5, 99.5, undefined, true);
      expect(s.norm.data).toEqual(norm);
      expect(s.bytes).toEqual(bytes);
      expect(percentileStretch(g, 0.5, 99.5).data).toEqual(norm);
      expect(stretchToBytes(g, 0.5, 99.5)).toEqual(Uint8Array.from(norm, (v) => Math.round(v * 255)));
    });
});

describe('the contrast filter drops and renumbers in one pass', () => {
  it('matches dropping then relabelInPlace, with labels not in raster order', () => {
    const W = 80;
    const H = 60;
    const r = rng(5);
    const make = (): { labels: LabelImage; grey: Uint8Array } => {
      const data = new Int32Array(W * H);
      const grey = new Uint8Array(W * H).fill(100);
      const n = 24;
      for (let k = 0; k < n; k++) {
        const cx = 4 + Math.floor(r() * (W - 8));
        const cy = 4 + Math.floor(r() * (H - 8));
        const rad = 2 + r() * 3;
        const value = k % 5 === 0 ? 30 : 200; // every fifth particle is darker than the ground
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++)
            if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) {
              data[y * W + x] = n - k; // later discs overwrite earlier ones; ids count down
              grey[y * W + x] = value;
            }
      }
      return { labels: { width: W, height: H, data, count: n }, grey };
    };
    const { labels, grey } = make();
    const ref = { ...labels, data: labels.data.slice() };
    const got = dropOppositeContrast(labels, grey, 0.6);
    expect(got.dropped).toBeGreaterThan(0);
    // The reference: the same filter on a copy, with drops applied as zeroing followed by relabelInPlace.
    const probe = { ...ref, data: ref.data.slice() };
    dropOppositeContrast(probe, grey, 1.01); // share above 1: nothing dropped, but the rings are grown and reset
    expect(probe.data).toEqual(ref.data);
    const kept = new Set<number>();
    for (let i = 0; i < labels.data.length; i++) if (labels.data[i] > 0) kept.add(ref.data[i]);
    for (let i = 0; i < ref.data.length; i++) if (ref.data[i] > 0 && !kept.has(ref.data[i])) ref.data[i] = 0;
    relabelInPlace(ref);
    expect(labels.data).toEqual(ref.data);
    expect(labels.count).toBe(ref.count);
  });
});
