import { describe, expect, it } from 'vitest';
import {
  bringIntoView,
  clampScale,
  fitScale,
  fitView,
  tileRect,
  toImage,
  toScreen,
  visibleRect,
  visibleTiles,
  zoomAt,
  type Viewport,
} from '../src/app/components/view/viewport';

const base: Viewport = { scale: 1, ox: 0, oy: 0, cw: 800, ch: 600, imageW: 2000, imageH: 1000 };

describe('fit', () => {
  it('fits the limiting side and centres the other', () => {
    expect(fitScale(base)).toBe(0.4);
    expect(fitView(base)).toEqual({ ...base, scale: 0.4, ox: 0, oy: 100 });
  });

  it('is 1 while the canvas or the image has no size', () => {
    expect(fitScale({ ...base, cw: 0 })).toBe(1);
    expect(fitScale({ ...base, imageH: 0 })).toBe(1);
  });

  it('enlarges an image smaller than the canvas', () => {
    expect(fitView({ ...base, imageW: 200, imageH: 100 })).toMatchObject({ scale: 4, ox: 0, oy: 100 });
  });
});

describe('clampScale', () => {
  it('allows a quarter of the fit down to 64 px per pixel', () => {
    expect(clampScale(base, 0.01)).toBe(0.1);
    expect(clampScale(base, 1000)).toBe(64);
    expect(clampScale(base, 2)).toBe(2);
  });

  it('limits zooming out of a small image to a quarter of 1:1', () => {
    expect(clampScale({ ...base, imageW: 100, imageH: 100 }, 0.01)).toBe(0.25);
  });
});

describe('coordinates', () => {
  const v = { ...base, scale: 2, ox: 10, oy: -20 };
  it('maps screen to image and back', () => {
    expect(toImage(v, 30, 0)).toEqual({ ix: 10, iy: 10 });
    expect(toScreen(v, 10, 10)).toEqual({ sx: 30, sy: 0 });
  });
});

describe('zoomAt', () => {
  it('keeps the image point under the screen point', () => {
    const v = { ...base, scale: 1, ox: 100, oy: 50 };
    const z = zoomAt(v, 2, 300, 250);
    expect(z).toEqual({ ...v, scale: 2, ox: -100, oy: -150 });
    expect(toImage(z, 300, 250)).toEqual(toImage(v, 300, 250));
  });

  it('zooms about the canvas centre by default', () => {
    expect(zoomAt({ ...base, ox: 0, oy: 0 }, 2)).toMatchObject({ scale: 2, ox: -400, oy: -300 });
  });

  it('clamps the scale and still keeps the point', () => {
    const z = zoomAt({ ...base, scale: 32, ox: 0, oy: 0 }, 4, 64, 64);
    expect(z).toMatchObject({ scale: 64, ox: -64, oy: -64 });
  });
});

describe('bringIntoView', () => {
  it('leaves a particle that is already in view alone', () => {
    expect(bringIntoView(base, [100, 100, 200, 200], 150, 150)).toBeNull();
  });

  it('centres a particle off screen without zooming', () => {
    const v = bringIntoView(base, [1500, 500, 1520, 520], 1510, 510);
    expect(v).toEqual({ ...base, scale: 1, ox: 400 - 1510, oy: 300 - 510 });
  });

  it('zooms out when the particle would not fit inside the margin', () => {
    const v = bringIntoView({ ...base, scale: 8 }, [0, 0, 188, 100], 94, 50);
    // (800 - 48) / 188 = 4 across, (600 - 48) / 100 = 5.52 down.
    expect(v).toEqual({ ...base, scale: 4, ox: 400 - 94 * 4, oy: 300 - 50 * 4 });
  });
});

describe('visibleRect', () => {
  it('covers the canvas in whole pixels, clipped to the image', () => {
    expect(visibleRect({ ...base, scale: 2, ox: -101, oy: 0 })).toEqual([50, 0, 451, 300]);
    expect(visibleRect(fitView(base))).toEqual([0, 0, 2000, 1000]);
  });

  it('is null when the image is off screen', () => {
    expect(visibleRect({ ...base, ox: 900 })).toBeNull();
    expect(visibleRect({ ...base, ox: -2000 })).toBeNull();
  });
});

describe('tiles', () => {
  it('gives a tile its rectangle, shortened at the image edge', () => {
    // 2500 x 1500: 3 columns of 1024.
    expect(tileRect(0, 3, 2500, 1500)).toEqual([0, 0, 1024, 1024]);
    expect(tileRect(2, 3, 2500, 1500)).toEqual([2048, 0, 452, 1024]);
    expect(tileRect(4, 3, 2500, 1500)).toEqual([1024, 1024, 1024, 476]);
  });

  it('lists the tiles meeting the visible rectangle, each clipped to it', () => {
    expect(visibleTiles([1000, 1000, 1100, 1030], 3, 2500, 1500)).toEqual([
      { key: 0, tx: 0, ty: 0, x0: 1000, y0: 1000, x1: 1024, y1: 1024 },
      { key: 1, tx: 1, ty: 0, x0: 1024, y0: 1000, x1: 1100, y1: 1024 },
      { key: 3, tx: 0, ty: 1, x0: 1000, y0: 1024, x1: 1024, y1: 1030 },
      { key: 4, tx: 1, ty: 1, x0: 1024, y0: 1024, x1: 1100, y1: 1030 },
    ]);
  });
});
