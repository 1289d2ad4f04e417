import { describe, expect, it } from 'vitest';
import { labelComponents } from '../src/core/label';
import { measureParticles } from '../src/core/measure';
import type { MeasureOptions } from '../src/core/measure';
import type { LabelImage, Mask } from '../src/core/raster';
import type { Particle } from '../src/core/types';
import { blank, disc, ellipse, fromRows, rect } from './helpers/draw';

const CUT = 2 - Math.SQRT2;
const ALL: MeasureOptions = { minAreaPx: 0, excludeEdges: false };

function measure(m: Mask, opts = ALL, conn: 4 | 8 = 8): Particle[] {
  return measureParticles(labelComponents(m, conn), opts);
}
function one(m: Mask): Particle {
  const list = measure(m);
  expect(list).toHaveLength(1);
  return list[0];
}

describe('measureParticles: exact shapes', () => {
  it('a single pixel (ImageJ: perimeter 4 - 2(2 - sqrt 2))', () => {
    const p = one(fromRows(['000', '010', '000']));
    expect(p).toMatchObject({
      id: 1,
      x: 1.5,
      y: 1.5,
      area: 1,
      feretMin: 1,
      solidity: 1,
      aspectRatio: 1,
      circularity: 1,
    });
    expect(p.perimeter).toBeCloseTo(4 - 2 * CUT, 12);
    expect(p.feretMax).toBeCloseTo(Math.SQRT2, 12);
    expect(p.bbox).toEqual([1, 1, 2, 2]);
  });

  it('a 2x2 square and an L tromino', () => {
    expect(one(fromRows(['0000', '0110', '0110', '0000'])).perimeter).toBeCloseTo(8 - 4 * CUT, 12);
    const l = one(fromRows(['00000', '01100', '01000', '00000']));
    expect(l.area).toBe(3);
    // Sides 2,1,1,1,1,2 along pixel edges: 8 unit edges, 4 counted corners.
    expect(l.perimeter).toBeCloseTo(8 - 4 * CUT, 12);
    expect(l.solidity).toBeCloseTo(3 / 3.5, 12);
  });

  it('a 40x10 rectangle', () => {
    const p = one(rect(blank(60, 30), 10, 10, 40, 10));
    expect(p.area).toBe(400);
    expect(p.x).toBe(30);
    expect(p.y).toBe(15);
    expect(p.ecd).toBeCloseTo(2 * Math.sqrt(400 / Math.PI), 12);
    expect(p.perimeter).toBeCloseTo(100 - 4 * CUT, 12);
    expect(p.feretMax).toBeCloseTo(Math.hypot(40, 10), 12);
    expect(p.feretMin).toBeCloseTo(10, 12);
    const tilt = (Math.atan2(10, 40) * 180) / Math.PI;
    expect([tilt, 180 - tilt].some((a) => Math.abs(p.feretAngle - a) < 1e-9)).toBe(true);
    expect(p.aspectRatio).toBeCloseTo(4, 9);
    expect(p.solidity).toBe(1);
    expect(p.circularity).toBeCloseTo((4 * Math.PI * 400) / (100 - 4 * CUT) ** 2, 12);
    expect(p.bbox).toEqual([10, 10, 50, 20]);
    expect(p.touchesEdge).toBe(false);
  });

  it('a vertical 10x40 rectangle has its feret near 90 degrees', () => {
    const p = one(rect(blank(30, 60), 10, 10, 10, 40));
    const tilt = 90 - (Math.atan2(10, 40) * 180) / Math.PI;
    expect([tilt, 180 - tilt].some((a) => Math.abs(p.feretAngle - a) < 1e-9)).toBe(true);
    expect(p.feretMin).toBeCloseTo(10, 12);
  });
});

describe('measureParticles: digitised discs and ellipses (stated tolerances)', () => {
  for (const r of [8, 20, 50]) {
    it(`disc r=${r}`, () => {
      const size = 2 * r + 20;
      const p = one(disc(blank(size, size), size / 2, size / 2, r));
      // Area within 1 % of pi r^2 (4 % for the r = 8 disc, where digitisation dominates), ECD accordingly.
      const tol = r < 10 ? 0.04 : 0.01;
      expect(Math.abs(p.area / (Math.PI * r * r) - 1)).toBeLessThan(tol);
      expect(Math.abs(p.ecd / (2 * r) - 1)).toBeLessThan(tol);
      // Hull on pixel corners: the caliper spans whole pixels, up to sqrt(2) px beyond the true diameter.
      expect(p.feretMax).toBeGreaterThanOrEqual(2 * r - 1);
      expect(p.feretMax).toBeLessThanOrEqual(2 * r + 1.5);
      expect(Math.abs(p.feretMin - 2 * r)).toBeLessThanOrEqual(1);
      // Traced perimeters of digital discs run a few % over 2 pi r (as in ImageJ).
      expect(p.perimeter).toBeGreaterThan(2 * Math.PI * r);
      expect(p.perimeter).toBeLessThan(2 * Math.PI * r * 1.08);
      expect(p.circularity).toBeGreaterThan(0.85);
      expect(p.circularity).toBeLessThanOrEqual(1);
      expect(Math.abs(p.aspectRatio - 1)).toBeLessThan(0.02);
      expect(p.solidity).toBeGreaterThan(0.94);
      expect(p.solidity).toBeLessThanOrEqual(1);
      expect(p.x).toBeCloseTo(size / 2, 9);
      expect(p.y).toBeCloseTo(size / 2, 9);
    });
  }

  it('rotated ellipse a=30, b=10 at 30 degrees (clockwise on screen)', () => {
    const p = one(ellipse(blank(100, 100), 50, 50, 30, 10, Math.PI / 6));
    expect(Math.abs(p.area / (Math.PI * 300) - 1)).toBeLessThan(0.01);
    expect(Math.abs(p.aspectRatio / 3 - 1)).toBeLessThan(0.03);
    expect(Math.abs(p.feretMax - 60)).toBeLessThanOrEqual(1.5);
    expect(Math.abs(p.feretMin - 20)).toBeLessThanOrEqual(1.5);
    // ImageJ angles count counter-clockwise with y up: 30 degrees down-right on screen reads 150.
    expect(Math.abs(p.feretAngle - 150)).toBeLessThan(2);
    expect(p.solidity).toBeGreaterThan(0.94);
  });

  it('holes reduce the area but not the perimeter', () => {
    const full = one(disc(blank(60, 60), 30, 30, 20));
    const ring = one(disc(disc(blank(60, 60), 30, 30, 20), 30, 30, 8, 0));
    expect(ring.area).toBeLessThan(full.area - 150);
    expect(ring.perimeter).toBe(full.perimeter);
    expect(ring.feretMax).toBe(full.feretMax);
    expect(ring.solidity).toBeLessThan(full.solidity);
  });

  it('a particle too large for the private bitmap is traced in place with the same rule', () => {
    const m = rect(blank(2060, 2060), 5, 5, 2050, 2050);
    const p = one(m);
    expect(p.area).toBe(2050 * 2050);
    expect(p.perimeter).toBeCloseTo(4 * 2050 - 4 * CUT, 9);
    expect(p.solidity).toBe(1);
  });
});

describe('measureParticles: flags and filters', () => {
  // Ids follow raster order of each particle's first pixel.
  const m = blank(40, 30);
  rect(m, 10, 2, 2, 2); // 1: small (4 px)
  rect(m, 20, 3, 6, 6); // 2: inside, rows 3..8
  rect(m, 0, 5, 4, 4); // 3: touches the left border
  rect(m, 10, 15, 5, 5); // 4: rows 15..19
  rect(m, 30, 24, 10, 6); // 5: touches right and bottom borders

  it('flags edge contact and applies edge and size filters', () => {
    const list = measure(m, { minAreaPx: 10, excludeEdges: true });
    expect(list.map((p) => p.id)).toEqual([1, 2, 3, 4, 5]);
    expect(list.map((p) => p.touchesEdge)).toEqual([false, false, true, false, true]);
    expect(list.map((p) => p.excluded)).toEqual(['small', null, 'edge', null, 'edge']);
    const keep = measure(m, { minAreaPx: 10, excludeEdges: false });
    expect(keep.map((p) => p.excluded)).toEqual(['small', null, null, null, null]);
    expect(keep[2].touchesEdge).toBe(true);
  });

  it('treats an excluded band like an image edge', () => {
    // Band rows [20, 22): particle 4 ends at row 19, right above it; particle 2 ends at row 8.
    const list = measure(m, {
      minAreaPx: 0,
      excludeEdges: true,
      excludedBands: [{ y0: 20, y1: 22, reason: 'banner' }],
    });
    expect(list[3].touchesEdge).toBe(true);
    expect(list[3].excluded).toBe('edge');
    expect(list[1].touchesEdge).toBe(false);
    const below = measure(m, {
      minAreaPx: 0,
      excludeEdges: true,
      excludedBands: [{ y0: 0, y1: 3, reason: 'manual' }],
    });
    expect(below[1].touchesEdge).toBe(true); // starts at row 3, right under the band
    const apart = measure(m, {
      minAreaPx: 0,
      excludeEdges: true,
      excludedBands: [{ y0: 11, y1: 13, reason: 'banner' }],
    });
    expect(apart.map((p) => p.touchesEdge)).toEqual([false, false, true, false, true]);
  });

  it('measures labels as given: gaps in ids, non-contiguous labels, separate touching labels', () => {
    const data = new Int32Array(8 * 4);
    data[0] = 7; // id 7 top-left
    data[1] = 7;
    data[10] = 3; // id 3 at (2,1) and (3,1): touches id 7 diagonally but stays separate
    data[11] = 3;
    data[30] = 7; // a second piece of 7 at (6,3)
    const labels: LabelImage = { width: 8, height: 4, data, count: 7 };
    const list = measureParticles(labels, ALL);
    expect(list.map((p) => [p.id, p.area])).toEqual([
      [3, 2],
      [7, 3],
    ]);
    expect(list[1].bbox).toEqual([0, 0, 7, 4]);
    // Perimeter is the piece holding the first pixel: a 2x1 bar (sides 2,1,2,1 from the top-left
    // corner: 6 unit edges, 3 counted corners under ImageJ's rule).
    expect(list[1].perimeter).toBeCloseTo(6 - 3 * CUT, 12);
  });

  it('returns nothing for an empty label image', () => {
    expect(measure(blank(10, 10))).toEqual([]);
  });
});
