import { describe, expect, it } from 'vitest';
import {
  EditHistory,
  applyEdit,
  deleteParticle,
  mergeParticles,
  nextLabel,
  paintBrush,
  paintStroke,
  particleAlongLine,
  splitParticle,
} from '../src/core/edit';
import { measureParticles } from '../src/core/measure';
import type { LabelImage } from '../src/core/raster';

function blank(width: number, height: number): LabelImage {
  return { width, height, data: new Int32Array(width * height), count: 0 };
}

/** Fills the inclusive rectangle with `id` and raises count. */
function rect(l: LabelImage, x0: number, y0: number, x1: number, y1: number, id: number): void {
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) l.data[y * l.width + x] = id;
  l.count = Math.max(l.count, id);
}

function area(l: LabelImage, id: number): number {
  let n = 0;
  for (let i = 0; i < l.data.length; i++) if (l.data[i] === id) n++;
  return n;
}

function ids(l: LabelImage): number[] {
  return [...new Set(l.data)].filter((v) => v > 0).sort((a, b) => a - b);
}

function clone(l: LabelImage): LabelImage {
  return { ...l, data: l.data.slice() };
}

describe('paintBrush', () => {
  it('paints a disc of exactly the lattice points within the radius', () => {
    // Gauss circle numbers: N(0)=1, N(3)=29, N(5)=81, N(10)=317.
    for (const [r, n] of [
      [0, 1],
      [3, 29],
      [5, 81],
      [10, 317],
    ]) {
      const l = blank(64, 64);
      const res = paintBrush(l, 32, 32, r, 1);
      expect(area(l, 1)).toBe(n);
      expect(res.changed).toBe(n);
      expect(res.diff.indices.length).toBe(n);
      expect(res.created).toEqual([1]);
      expect(l.count).toBe(1);
      expect(res.bbox).toEqual([32 - r, 32 - r, 32 + r, 32 + r]);
    }
  });

  it('clips at the image border', () => {
    const l = blank(20, 20);
    paintBrush(l, 0, 0, 5, 1);
    // Quarter disc x,y >= 0, x^2 + y^2 <= 25: columns 6+5+5+5+4+1.
    expect(area(l, 1)).toBe(26);
  });

  it('extends a particle without overwriting its neighbour, unless told to', () => {
    const l = blank(40, 40);
    rect(l, 10, 10, 19, 19, 1);
    rect(l, 20, 10, 29, 19, 2);
    const res = paintBrush(l, 19, 21, 5, 1);
    expect(area(l, 2)).toBe(100);
    // Disc of 81 centred at (19,21): its 26 pixels with y <= 19 (rows 16..19: 1+7+9+9) are particles already.
    expect(res.changed).toBe(81 - 26);
    expect(area(l, 1)).toBe(100 + 55);
    expect(res.created).toEqual([]);
    expect(l.count).toBe(2);
    // Overwrite paints over particle 2 too.
    const l2 = blank(40, 40);
    rect(l2, 10, 10, 19, 19, 1);
    rect(l2, 20, 10, 29, 19, 2);
    paintBrush(l2, 20, 15, 2, 1, { overwrite: true });
    expect(l2.data[15 * 40 + 21]).toBe(1);
    const l3 = blank(40, 40);
    rect(l3, 10, 10, 19, 19, 1);
    rect(l3, 20, 10, 29, 19, 2);
    paintBrush(l3, 20, 15, 2, 1);
    expect(l3.data[15 * 40 + 21]).toBe(2);
    expect(area(l3, 1)).toBe(100);
  });

  it('erases with label 0, optionally only one particle', () => {
    const l = blank(40, 40);
    rect(l, 0, 0, 19, 39, 1);
    rect(l, 20, 0, 39, 39, 2);
    const res = paintBrush(l, 20, 20, 3, 0, { only: 2 });
    // Of the 29 disc pixels, those with x >= 20: 29 - columns x=17,18,19 (1 + 5 + 5) = 18.
    expect(res.changed).toBe(18);
    expect(area(l, 1)).toBe(800);
    expect(area(l, 2)).toBe(800 - 18);
    paintBrush(l, 20, 20, 3, 0);
    expect(area(l, 1)).toBe(800 - 11);
  });

  it('joins the points of a stroke into one continuous band, as one edit', () => {
    const l = blank(100, 100);
    const res = paintStroke(l, [10, 50, 90, 50], 2, 1);
    // Row 50: x 8..92 (85); rows 49/51: x 9..91 (83 each); rows 48/52: x 10..90 (81 each).
    expect(area(l, 1)).toBe(85 + 2 * 83 + 2 * 81);
    expect(res.changed).toBe(413);
    expect(new Set(res.diff.indices).size).toBe(413);
  });

  it('touches only the disc on a large image (diff is the disc, not the image)', () => {
    const l = blank(4096, 4096);
    const res = paintBrush(l, 4000, 100, 10, nextLabel(l));
    expect(res.diff.indices.length).toBe(317);
  });
});

describe('deleteParticle', () => {
  it('removes exactly one particle and measurement count drops by one', () => {
    const l = blank(60, 40);
    rect(l, 5, 5, 14, 14, 1);
    rect(l, 20, 5, 29, 14, 2);
    rect(l, 35, 5, 44, 14, 3);
    const opts = { minAreaPx: 1, excludeEdges: false };
    const before = measureParticles(l, opts);
    expect(before.length).toBe(3);
    const p2 = before.find((p) => p.id === 2);
    const res = deleteParticle(l, 2, p2?.bbox);
    expect(res.changed).toBe(100);
    expect(res.removed).toEqual([2]);
    expect(area(l, 2)).toBe(0);
    expect(area(l, 1)).toBe(100);
    expect(area(l, 3)).toBe(100);
    const after = measureParticles(l, opts).filter((p) => p.area > 0);
    expect(after.length).toBe(2);
    expect(after.map((p) => p.id).sort()).toEqual([1, 3]);
  });

  it('with a bbox hint only visits that box', () => {
    const l = blank(50, 50);
    rect(l, 10, 10, 19, 19, 1);
    // A stray pixel of id 1 far from the hinted box stays: proof the edit did not scan the image.
    l.data[45 * 50 + 45] = 1;
    deleteParticle(l, 1, [10, 10, 19, 19]);
    expect(area(l, 1)).toBe(1);
    deleteParticle(l, 1);
    expect(area(l, 1)).toBe(0);
  });
});

describe('mergeParticles', () => {
  it('joins touching particles under the first id', () => {
    const l = blank(40, 20);
    rect(l, 5, 5, 14, 14, 1);
    rect(l, 15, 5, 24, 14, 2);
    const res = mergeParticles(l, 1, 2);
    expect(ids(l)).toEqual([1]);
    expect(area(l, 1)).toBe(200);
    expect(res.changed).toBe(100);
    expect(res.removed).toEqual([2]);
  });

  it('bridges a 1- or 2-pixel separation line between them, and nothing else', () => {
    for (const gap of [1, 2]) {
      const l = blank(40, 20);
      rect(l, 5, 5, 14, 14, 1);
      rect(l, 15 + gap, 5, 24 + gap, 14, 2);
      rect(l, 30 + gap, 5, 33 + gap, 14, 3);
      mergeParticles(l, 1, 2, { bboxA: [5, 5, 14, 14], bboxB: [15 + gap, 5, 24 + gap, 14] });
      expect(area(l, 1)).toBe(200 + 10 * gap);
      expect(area(l, 3)).toBe(40);
      expect(ids(l)).toEqual([1, 3]);
    }
    const l = blank(40, 20);
    rect(l, 5, 5, 14, 14, 1);
    rect(l, 16, 5, 25, 14, 2);
    mergeParticles(l, 1, 2, { bridge: false });
    expect(area(l, 1)).toBe(200);
  });
});

describe('splitParticle', () => {
  it('cuts a rectangle into two particles along a vertical line', () => {
    const l = blank(30, 20);
    rect(l, 5, 5, 24, 14, 1); // 20 x 10
    const res = splitParticle(l, 1, 15, 0, 15, 19);
    expect(ids(l)).toEqual([1, 2]);
    expect(res.created).toEqual([2]);
    expect(l.count).toBe(2);
    // No area lost: the cut column goes to one side.
    expect(area(l, 1) + area(l, 2)).toBe(200);
    expect(area(l, 1)).toBe(100);
    expect(area(l, 2)).toBe(100);
    for (let y = 5; y <= 14; y++) {
      expect(l.data[y * 30 + 14]).toBe(1);
      expect(l.data[y * 30 + 16]).toBe(2);
    }
  });

  it('keeps a background cut line when asked, and extends a short drag through the particle', () => {
    const l = blank(30, 20);
    rect(l, 5, 5, 24, 14, 1);
    // Drag covers only rows 8..11; the cut still runs through rows 5..14.
    splitParticle(l, 1, 15, 8, 15, 11, { keepCut: true, bbox: [5, 5, 24, 14] });
    expect(area(l, 1)).toBe(100);
    expect(area(l, 2)).toBe(90);
    for (let y = 5; y <= 14; y++) expect(l.data[y * 30 + 15]).toBe(0);
  });

  it('separates a diagonal cut into pieces that no 8-connected path joins', () => {
    const l = blank(40, 40);
    rect(l, 5, 5, 34, 34, 7);
    const res = splitParticle(l, 7, 2, 30, 30, 2, { keepCut: true });
    expect(res.created.length).toBe(1);
    const other = res.created[0];
    // No pixel of 7 has an 8-neighbour of `other`.
    for (let y = 1; y < 39; y++)
      for (let x = 1; x < 39; x++) {
        if (l.data[y * 40 + x] !== 7) continue;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) expect(l.data[(y + dy) * 40 + x + dx]).not.toBe(other);
      }
    expect(area(l, 7) + area(l, other)).toBeLessThan(900);
    expect(area(l, 7)).toBeGreaterThan(area(l, other));
  });

  it('changes nothing when the line misses or does not cut the particle apart', () => {
    const l = blank(30, 20);
    rect(l, 5, 5, 24, 14, 1);
    const copy = l.data.slice();
    expect(splitParticle(l, 1, 0, 0, 0, 19).changed).toBe(0);
    expect(splitParticle(l, 1, 15, 15, 15, 15).changed).toBe(0);
    expect(l.data).toEqual(copy);
    expect(l.count).toBe(1);
  });

  it('finds the particle a line crosses most', () => {
    const l = blank(30, 20);
    rect(l, 0, 0, 9, 19, 1);
    rect(l, 10, 0, 29, 19, 2);
    expect(particleAlongLine(l, 20, 0, 20, 19)).toBe(2);
    expect(particleAlongLine(l, 7, 0, 11, 0)).toBe(1);
  });
});

describe('applyEdit + EditHistory', () => {
  it('brush with label null starts a new particle with the next id', () => {
    const l = blank(50, 50);
    rect(l, 0, 0, 9, 9, 1);
    rect(l, 20, 20, 29, 29, 4);
    const res = applyEdit(l, { kind: 'brush', points: [40, 40], radius: 3, label: null });
    expect(res.created).toEqual([5]);
    expect(area(l, 5)).toBe(29);
    expect(nextLabel(l)).toBe(6);
  });

  it('undo restores identical labels and count; redo restores the edited state', () => {
    const l = blank(80, 60);
    rect(l, 5, 5, 24, 24, 1);
    rect(l, 25, 5, 44, 24, 2);
    rect(l, 50, 30, 70, 50, 3);
    const original = clone(l);
    const h = new EditHistory();
    const particles = measureParticles(l, { minAreaPx: 1, excludeEdges: false });
    const steps = [
      applyEdit(l, { kind: 'brush', points: [10, 40, 20, 45, 30, 40], radius: 4, label: null }, particles),
      applyEdit(l, { kind: 'erase', points: [60, 40], radius: 5 }),
      applyEdit(l, { kind: 'merge', a: 1, b: 2 }),
      applyEdit(l, { kind: 'split', id: null, x0: 60, y0: 28, x1: 60, y1: 52 }),
      applyEdit(l, { kind: 'delete', id: 1 }),
    ];
    for (const s of steps) {
      expect(s.changed).toBeGreaterThan(0);
      h.push(s.diff);
    }
    const edited = clone(l);
    expect(h.undoSteps).toBe(5);
    while (h.canUndo) h.undo(l);
    expect(l.data).toEqual(original.data);
    expect(l.count).toBe(original.count);
    expect(h.redoSteps).toBe(5);
    while (h.canRedo) h.redo(l);
    expect(l.data).toEqual(edited.data);
    expect(l.count).toBe(edited.count);
    // A new edit after an undo drops the redo branch.
    h.undo(l);
    h.push(applyEdit(l, { kind: 'delete', id: 3 }).diff);
    expect(h.canRedo).toBe(false);
  });

  it('drops the oldest steps beyond its limits', () => {
    const l = blank(50, 50);
    const h = new EditHistory(3);
    for (let k = 0; k < 5; k++) h.push(paintBrush(l, 5 + 8 * k, 25, 2, k + 1).diff);
    expect(h.undoSteps).toBe(3);
    while (h.canUndo) h.undo(l);
    expect(ids(l)).toEqual([1, 2]);
  });
});
