import { describe, expect, it } from 'vitest';
import { dropOppositeContrast } from '../src/core/segment/contrast-filter';
import type { LabelImage } from '../src/core/raster';

const W = 60;
const H = 40;

interface Disc {
  x: number;
  y: number;
  r: number;
  /** grey inside the disc; the ground is 100 */
  grey: number;
}

/** Labels 1..n for the discs in order, and the grey image they were drawn on (ground 100). */
function scene(discs: Disc[]): { labels: LabelImage; image: Uint8Array } {
  const data = new Int32Array(W * H);
  const image = new Uint8Array(W * H).fill(100);
  discs.forEach((d, k) => {
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        if ((x - d.x) ** 2 + (y - d.y) ** 2 <= d.r * d.r) {
          data[y * W + x] = k + 1;
          image[y * W + x] = d.grey;
        }
  });
  return { labels: { width: W, height: H, data, count: discs.length }, image };
}

const areaOf = (l: LabelImage, id: number): number => l.data.filter((v) => v === id).length;

describe('dropping detections of the minority contrast', () => {
  it('drops the dark pit among bright particles, renumbers the rest and leaves no ring marks behind', () => {
    const { labels, image } = scene([
      { x: 8, y: 8, r: 5, grey: 200 },
      { x: 30, y: 10, r: 5, grey: 180 },
      { x: 50, y: 30, r: 4, grey: 30 }, // a pit: darker than its ground
      { x: 12, y: 30, r: 6, grey: 220 },
    ]);
    const before = [1, 2, 4].map((id) => areaOf(labels, id));
    const r = dropOppositeContrast(labels, image, 0.7);
    expect(r).toEqual({ dropped: 1, polarity: 1 });
    expect(labels.count).toBe(3);
    expect([1, 2, 3].map((id) => areaOf(labels, id))).toEqual(before);
    expect(labels.data[30 * W + 50]).toBe(0);
    expect(Math.min(...labels.data)).toBe(0);
  });

  it('TEM: dark particles make the majority, a bright grain is dropped', () => {
    const { labels, image } = scene([
      { x: 10, y: 10, r: 6, grey: 40 },
      { x: 40, y: 12, r: 6, grey: 50 },
      { x: 25, y: 30, r: 3, grey: 160 },
    ]);
    expect(dropOppositeContrast(labels, image, 0.7)).toEqual({ dropped: 1, polarity: -1 });
    expect(labels.count).toBe(2);
    expect(labels.data[30 * W + 25]).toBe(0);
  });

  it('keeps everything when neither contrast holds the share of the particle area', () => {
    const { labels, image } = scene([
      { x: 10, y: 10, r: 6, grey: 200 },
      { x: 40, y: 12, r: 6, grey: 20 },
    ]);
    const copy = Int32Array.from(labels.data);
    expect(dropOppositeContrast(labels, image, 0.7)).toEqual({ dropped: 0, polarity: 0 });
    expect(labels.data).toEqual(copy);
    expect(labels.count).toBe(2);
  });

  it('weighs by area: one big bright particle outweighs three small dark ones', () => {
    const { labels, image } = scene([
      { x: 20, y: 20, r: 12, grey: 200 },
      { x: 50, y: 6, r: 3, grey: 20 },
      { x: 50, y: 20, r: 3, grey: 20 },
      { x: 50, y: 34, r: 3, grey: 20 },
    ]);
    expect(dropOppositeContrast(labels, image, 0.7)).toEqual({ dropped: 3, polarity: 1 });
    expect(labels.count).toBe(1);
  });

  it('votes by area times contrast: strong small dark particles outvote a larger faint bright blob (TEM film)', () => {
    const { labels, image } = scene([
      { x: 8, y: 8, r: 4, grey: 20 },
      { x: 50, y: 8, r: 4, grey: 25 },
      { x: 8, y: 32, r: 4, grey: 20 },
      // 2.6 times the dark particles' area (a vote by area would drop them), an eighth of their contrast
      { x: 30, y: 22, r: 11, grey: 110 },
    ]);
    expect(dropOppositeContrast(labels, image, 0.7)).toEqual({ dropped: 1, polarity: -1 });
    expect(labels.count).toBe(3);
    expect(labels.data[22 * W + 30]).toBe(0);
  });

  it('a particle enclosed by another (no ground around it) is kept whatever its grey', () => {
    // A bright annulus around a dark core, and a dark pit on open ground.
    const data = new Int32Array(W * H);
    const image = new Uint8Array(W * H).fill(100);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const d = Math.hypot(x - 20, y - 20);
        const i = y * W + x;
        if (d < 6) [data[i], image[i]] = [2, 20];
        else if (d <= 12) [data[i], image[i]] = [1, 200];
        else if (Math.hypot(x - 50, y - 20) <= 3) [data[i], image[i]] = [3, 20];
      }
    const labels: LabelImage = { width: W, height: H, data, count: 3 };
    const core = areaOf(labels, 2);
    expect(dropOppositeContrast(labels, image, 0.7)).toEqual({ dropped: 1, polarity: 1 });
    expect(labels.count).toBe(2);
    expect(areaOf(labels, 2)).toBe(core);
    expect(labels.data[20 * W + 50]).toBe(0);
  });

  it('an image-filling particle has no ring: no evidence, nothing dropped', () => {
    const labels: LabelImage = { width: W, height: H, data: new Int32Array(W * H).fill(1), count: 1 };
    const image = new Uint8Array(W * H).fill(100);
    expect(dropOppositeContrast(labels, image, 0.7)).toEqual({ dropped: 0, polarity: 0 });
    expect(labels.count).toBe(1);
  });

  it('blocked pixels (a banner) are not ground: a particle whose only surroundings are banner is kept', () => {
    // Bright particles above; a dark-looking particle sits in a pocket walled by the banner on every side.
    const { labels, image } = scene([
      { x: 10, y: 8, r: 5, grey: 200 },
      { x: 30, y: 8, r: 5, grey: 200 },
    ]);
    const blocked = new Uint8Array(W * H);
    for (let y = 24; y < H; y++) for (let x = 0; x < W; x++) blocked[y * W + x] = 1;
    // the pocket: a 4x4 particle at (40..43, 30..33) whose neighbours are all blocked, grey darker than banner
    for (let y = 30; y < 34; y++)
      for (let x = 40; x < 44; x++) {
        labels.data[y * W + x] = 3;
        blocked[y * W + x] = 0;
        image[y * W + x] = 10;
      }
    labels.count = 3;
    expect(dropOppositeContrast(labels, image, 0.7, blocked)).toEqual({ dropped: 0, polarity: 1 });
    expect(labels.count).toBe(3);
    // without the banner mask the same particle reads as darker than its ground and goes
    const again = { ...labels, data: Int32Array.from(labels.data) };
    expect(dropOppositeContrast(again, image, 0.7)).toEqual({ dropped: 1, polarity: 1 });
  });
});
