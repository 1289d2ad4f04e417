/** Synthetic shapes with known geometry for label/measure tests. Pixel (x, y) is the unit square at [x, x+1). */
import type { Mask } from '../../src/core/raster';

export function blank(width: number, height: number): Mask {
  return { width, height, data: new Uint8Array(width * height) };
}

/** A mask from rows of 0/1 numbers or strings like '1100'. */
export function fromRows(rows: (number[] | string)[]): Mask {
  const height = rows.length;
  const width = rows[0].length;
  const m = blank(width, height);
  rows.forEach((r, y) => {
    for (let x = 0; x < width; x++)
      m.data[y * width + x] = Number(typeof r === 'string' ? r[x] : r[x]) ? 1 : 0;
  });
  return m;
}

/** Pixels whose centre lies inside the disc (cx, cy, r) in continuous coordinates. */
export function disc(m: Mask, cx: number, cy: number, r: number, value = 1): Mask {
  return ellipse(m, cx, cy, r, r, 0, value);
}

/** Pixels whose centre lies inside the ellipse with semi-axes a, b rotated by theta (radians, y down). */
export function ellipse(m: Mask, cx: number, cy: number, a: number, b: number, theta = 0, value = 1): Mask {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const r = Math.ceil(Math.max(a, b)) + 1;
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(m.height - 1, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(m.width - 1, Math.ceil(cx + r)); x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const u = (dx * c + dy * s) / a;
      const v = (-dx * s + dy * c) / b;
      if (u * u + v * v <= 1) m.data[y * m.width + x] = value;
    }
  }
  return m;
}

/** Axis-aligned filled rectangle of w x h pixels with top-left pixel (x0, y0). */
export function rect(m: Mask, x0: number, y0: number, w: number, h: number, value = 1): Mask {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) m.data[y * m.width + x] = value;
  return m;
}

/** Mask -> rows of 0/1 strings, for readable failure messages. */
export function toRows(width: number, height: number, data: ArrayLike<number>): string[] {
  const rows: string[] = [];
  for (let y = 0; y < height; y++)
    rows.push(Array.from({ length: width }, (_, x) => String(data[y * width + x])).join(' '));
  return rows;
}
