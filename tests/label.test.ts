import { describe, expect, it } from 'vitest';
import { labelComponents, relabelSequential } from '../src/core/label';
import type { LabelImage, Mask } from '../src/core/raster';
import { blank, fromRows, toRows } from './helpers/draw';

/** The seed example: 4-connected components of sizes 1, 4, 3, 2 in raster order of their first pixel. */
const SEED = fromRows(['10110', '00110', '11000', '01000', '00011']);

function sizes(l: LabelImage): number[] {
  const s = new Array(l.count).fill(0);
  for (const v of l.data) if (v > 0) s[v - 1]++;
  return s;
}

/** Reference labelling: breadth-first flood fill from each unlabelled pixel in raster order. */
function floodLabel(m: Mask, conn: 4 | 8): Int32Array {
  const { width: w, height: h, data } = m;
  const out = new Int32Array(w * h);
  const nb4 = [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
  ];
  const nb = conn === 4 ? nb4 : [...nb4, [1, 1], [1, -1], [-1, 1], [-1, -1]];
  let next = 0;
  for (let i = 0; i < w * h; i++) {
    if (!data[i] || out[i]) continue;
    out[i] = ++next;
    const queue = [i];
    while (queue.length) {
      const p = queue.pop()!;
      const x = p % w;
      const y = (p - x) / w;
      for (const [dx, dy] of nb) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const q = ny * w + nx;
        if (data[q] && !out[q]) {
          out[q] = next;
          queue.push(q);
        }
      }
    }
  }
  return out;
}

function randomMask(w: number, h: number, density: number, seed: number): Mask {
  const m = blank(w, h);
  let s = seed;
  for (let i = 0; i < w * h; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    m.data[i] = s / 4294967296 < density ? 1 : 0;
  }
  return m;
}

describe('labelComponents', () => {
  it('labels the seed example 1, 4, 3, 2 with 4-connectivity', () => {
    const l = labelComponents(SEED, 4);
    expect(l.count).toBe(4);
    expect(sizes(l)).toEqual([1, 4, 3, 2]);
    expect(toRows(5, 5, l.data)).toEqual(['1 0 2 2 0', '0 0 2 2 0', '3 3 0 0 0', '0 3 0 0 0', '0 0 0 4 4']);
  });

  it('joins the diagonal contact with 8-connectivity', () => {
    const l = labelComponents(SEED, 8);
    expect(sizes(l)).toEqual([1, 7, 2]);
    expect(toRows(5, 5, l.data)).toEqual(['1 0 2 2 0', '0 0 2 2 0', '2 2 0 0 0', '0 2 0 0 0', '0 0 0 3 3']);
  });

  it('numbers components by their first pixel even when branches merge late', () => {
    // A "U" whose arms start as separate runs, then a later component starting left of the U's base.
    const m = fromRows(['0101', '0101', '0111', '1000']);
    const l4 = labelComponents(m, 4);
    expect(toRows(4, 4, l4.data)).toEqual(['0 1 0 1', '0 1 0 1', '0 1 1 1', '2 0 0 0']);
    const l8 = labelComponents(m, 8);
    expect(l8.count).toBe(1);
  });

  it('matches a flood-fill reference on random masks, both connectivities', () => {
    for (const [w, h, density, seed] of [
      [37, 23, 0.45, 1],
      [64, 64, 0.55, 2],
      [1, 50, 0.5, 3],
      [50, 1, 0.5, 4],
      [101, 7, 0.6, 5],
    ]) {
      const m = randomMask(w, h, density, seed);
      for (const conn of [4, 8] as const) {
        const ref = floodLabel(m, conn);
        const l = labelComponents(m, conn);
        expect(Array.from(l.data)).toEqual(Array.from(ref));
        expect(l.count).toBe(Math.max(0, ...ref));
      }
    }
  });

  it('handles empty and full masks', () => {
    const e = labelComponents(blank(8, 3), 4);
    expect(e.count).toBe(0);
    expect(e.data.every((v) => v === 0)).toBe(true);
    const f = blank(8, 3);
    f.data.fill(1);
    const l = labelComponents(f, 8);
    expect(l.count).toBe(1);
    expect(l.data.every((v) => v === 1)).toBe(true);
    expect(labelComponents(blank(0, 0), 4).count).toBe(0);
  });
});

describe('relabelSequential', () => {
  it('renumbers 1..n in raster order of first pixel and keeps shapes', () => {
    const l: LabelImage = { width: 4, height: 2, data: Int32Array.from([0, 9, 9, 4, 7, 0, 4, 4]), count: 9 };
    const r = relabelSequential(l);
    expect(Array.from(r.data)).toEqual([0, 1, 1, 2, 3, 0, 2, 2]);
    expect(r.count).toBe(3);
    expect(Array.from(l.data)).toEqual([0, 9, 9, 4, 7, 0, 4, 4]);
  });
});
