import { describe, expect, it } from 'vitest';
import { encodeImagejRois, roiName } from '../src/core/export/imagej-roi';
import { labelComponents } from '../src/core/label';
import { measureParticles } from '../src/core/measure';
import type { LabelImage } from '../src/core/raster';
import { blank, disc, rect } from './helpers/draw';
import { polygonArea, readRoiSet, tracedPerimeter } from './helpers/imagej-roi-reader';

describe('ImageJ ROI set', () => {
  // 80 x 60 px, shapes of known outline; ids are given in raster order of their first pixels.
  const W = 80;
  const H = 60;
  const m = blank(W, H);
  rect(m, 5, 4, 10, 6); // 1: rectangle: 4 vertices
  rect(m, 30, 5, 10, 3); // 2: L (with the next): 6 vertices
  rect(m, 30, 8, 3, 7);
  rect(m, 55, 3, 4, 12); // 3: plus sign: 12 vertices
  rect(m, 51, 7, 12, 4);
  rect(m, 8, 25, 1, 1); // 4: two pixels touching at a corner: 8 vertices, one twice
  rect(m, 9, 26, 1, 1);
  rect(m, 25, 25, 10, 10); // 5: a ring: outer outline only
  for (let y = 28; y < 32; y++) for (let x = 28; x < 32; x++) m.data[y * W + x] = 0;
  disc(m, 60, 40, 9.3); // 6: a disc
  rect(m, 0, 50, 6, 6); // 7: touches the edge: excluded, not exported
  const labels: LabelImage = labelComponents(m, 8);
  const particles = measureParticles(labels, { minAreaPx: 1, excludeEdges: true });

  it('writes one polygon per included particle, with the outline ImageJ would trace', () => {
    const set = encodeImagejRois(labels, particles);
    expect(set.count).toBe(6);
    expect(set.tooLarge).toEqual([]);
    const rois = readRoiSet(set.zip);
    expect(rois.map((r) => r.name)).toEqual(particles.filter((p) => p.excluded === null).map(roiName));
    const at = (left: number, top: number) => rois.find((r) => r.left === left && r.top === top)!;
    const [box, ell, plus, diag, ring] = [at(5, 4), at(30, 5), at(51, 3), at(8, 25), at(25, 25)];
    expect([box, ell, plus, diag, ring].map((r) => r.xs.length)).toEqual([4, 6, 12, 8, 4]);
    expect(box).toMatchObject({ type: 0, top: 4, left: 5, bottom: 10, right: 15 });
    expect(box.xs).toEqual([5, 15, 15, 5]);
    expect(box.ys).toEqual([4, 4, 10, 10]);
    expect(ell.xs).toEqual([30, 40, 40, 33, 33, 30]);
    expect(ell.ys).toEqual([5, 5, 8, 8, 15, 15]);
    expect(diag.xs).toEqual([8, 9, 9, 10, 10, 9, 9, 8]);
    expect(diag.ys).toEqual([25, 25, 26, 26, 27, 27, 26, 26]);
    // id 2 (the plus sign starts a row higher), centroid y 7, x 10
    expect(box.name).toBe('0002-0007-0010.roi');

    const included = particles.filter((p) => p.excluded === null);
    for (const [k, r] of rois.entries()) {
      const p = included[k];
      // Bounds are the particle's box; the outline is the one its perimeter was measured on.
      expect([r.left, r.top, r.right, r.bottom], r.name).toEqual(p.bbox);
      expect(tracedPerimeter(r.xs, r.ys), r.name).toBeCloseTo(p.perimeter, 9);
      // The ring's polygon holds its hole too; every other polygon's area is the particle's.
      expect(polygonArea(r.xs, r.ys), r.name).toBe(r === ring ? p.area + 16 : p.area);
    }
    expect(included[5].area).toBeGreaterThan(250);
  });

  it('leaves out a particle whose coordinates do not fit 16 bits, and says which', () => {
    const big: LabelImage = { width: 33000, height: 2, data: new Int32Array(66000), count: 1 };
    big.data.fill(1, 32900, 32990);
    const ps = measureParticles(big, { minAreaPx: 1, excludeEdges: false });
    const set = encodeImagejRois(big, ps);
    expect(set.count).toBe(0);
    expect(set.tooLarge).toEqual([1]);
    expect(readRoiSet(set.zip)).toEqual([]);
  });
});
