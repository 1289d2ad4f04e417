import type { GreyF32 } from './raster';

/**
 * Bilinear resampling with pixel centres aligned (x_src = (x + 0.5) * sx - 0.5, clamped at the borders),
 * so resizing there and back keeps features in place. Downscaling by more than 2 first averages
 * sx x sy boxes so fine particles are not aliased away.
 */
export function resizeBilinear(g: GreyF32, width: number, height: number): GreyF32 {
  if (width <= 0 || height <= 0) throw new RangeError(`cannot resize to ${width}x${height}`);
  if (width === g.width && height === g.height) return { width, height, data: g.data.slice() };
  const fx = Math.floor(g.width / width);
  const fy = Math.floor(g.height / height);
  if (fx >= 2 || fy >= 2) return resizeBilinear(boxDown(g, Math.max(1, fx), Math.max(1, fy)), width, height);
  const { width: sw, height: sh, data: src } = g;
  const out = new Float32Array(width * height);
  const sx = sw / width;
  const sy = sh / height;
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const wx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    let fxs = (x + 0.5) * sx - 0.5;
    if (fxs < 0) fxs = 0;
    if (fxs > sw - 1) fxs = sw - 1;
    const i = Math.floor(fxs);
    x0[x] = i;
    x1[x] = Math.min(i + 1, sw - 1);
    wx[x] = fxs - i;
  }
  for (let y = 0; y < height; y++) {
    let fys = (y + 0.5) * sy - 0.5;
    if (fys < 0) fys = 0;
    if (fys > sh - 1) fys = sh - 1;
    const j = Math.floor(fys);
    const j1 = Math.min(j + 1, sh - 1);
    const wy = fys - j;
    const r0 = j * sw;
    const r1 = j1 * sw;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const a = src[r0 + x0[x]];
      const b = src[r0 + x1[x]];
      const c = src[r1 + x0[x]];
      const d = src[r1 + x1[x]];
      const top = a + (b - a) * wx[x];
      const bot = c + (d - c) * wx[x];
      out[o + x] = top + (bot - top) * wy;
    }
  }
  return { width, height, data: out };
}

/** Mean over fx x fy blocks (the last partial blocks average what they hold). */
function boxDown(g: GreyF32, fx: number, fy: number): GreyF32 {
  const w = Math.ceil(g.width / fx);
  const h = Math.ceil(g.height / fy);
  const sum = new Float64Array(w * h);
  const cnt = new Uint32Array(w * h);
  for (let y = 0; y < g.height; y++) {
    const oy = Math.floor(y / fy) * w;
    const row = y * g.width;
    for (let x = 0; x < g.width; x++) {
      const o = oy + Math.floor(x / fx);
      sum[o] += g.data[row + x];
      cnt[o]++;
    }
  }
  const data = new Float32Array(w * h);
  for (let i = 0; i < data.length; i++) data[i] = sum[i] / cnt[i];
  return { width: w, height: h, data };
}
