/**
 * Scalar fields on the image grid: smooth value noise (backgrounds, illumination), white noise,
 * and a separable Gaussian blur. All work in place or into Float32Arrays of width*height.
 */
import type { Rng } from './prng';

/**
 * Adds amp * value noise with lattice spacing `cell` pixels (bilinear with smoothstep weights)
 * to `out`. Values of the lattice are uniform in [-1, 1].
 */
export function addValueNoise(
  out: Float32Array,
  width: number,
  height: number,
  cell: number,
  amp: number,
  rng: Rng,
): void {
  const cell1 = Math.max(1, cell);
  const gw = Math.ceil(width / cell1) + 2;
  const gh = Math.ceil(height / cell1) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next() * 2 - 1;
  const ox = rng.next() * cell1;
  const oy = rng.next() * cell1;
  const inv = 1 / cell1;
  const wx = new Float32Array(width);
  const ix = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = (x + ox) * inv;
    const i0 = Math.floor(fx);
    const t = fx - i0;
    ix[x] = i0;
    wx[x] = t * t * (3 - 2 * t);
  }
  for (let y = 0; y < height; y++) {
    const fy = (y + oy) * inv;
    const j0 = Math.floor(fy);
    let ty = fy - j0;
    ty = ty * ty * (3 - 2 * ty);
    const r0 = j0 * gw;
    const r1 = r0 + gw;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i0 = ix[x];
      const tx = wx[x];
      const a = grid[r0 + i0] + (grid[r0 + i0 + 1] - grid[r0 + i0]) * tx;
      const b = grid[r1 + i0] + (grid[r1 + i0 + 1] - grid[r1 + i0]) * tx;
      out[row + x] += amp * (a + (b - a) * ty);
    }
  }
}

/** Fractal (fBm) value noise: octaves from `cell` down to ~2 px, amplitude falling by `persistence`. */
export function addFractalNoise(
  out: Float32Array,
  width: number,
  height: number,
  cell: number,
  amp: number,
  persistence: number,
  rng: Rng,
  minCell = 2,
): void {
  let c = cell;
  let a = amp;
  while (c >= minCell) {
    addValueNoise(out, width, height, c, a, rng);
    c *= 0.5;
    a *= persistence;
  }
}

/** Adds Gaussian white noise of standard deviation sigma. */
export function addWhiteNoise(out: Float32Array, sigma: number, rng: Rng): void {
  for (let i = 0; i < out.length; i++) out[i] += sigma * rng.normal();
}

function kernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(sigma * 3));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp((-i * i) / (2 * sigma * sigma));
    k[i + r] = v;
    s += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** Separable Gaussian blur with clamped borders, in place. */
export function gaussianBlur(img: Float32Array, width: number, height: number, sigma: number): void {
  if (sigma < 0.2) return;
  const k = kernel(sigma);
  const r = (k.length - 1) >> 1;
  const line = new Float32Array(Math.max(width, height) + 2 * r);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let i = -r; i < width + r; i++) {
      const x = i < 0 ? 0 : i >= width ? width - 1 : i;
      line[i + r] = img[row + x];
    }
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = 0; j < k.length; j++) s += k[j] * line[x + j];
      img[row + x] = s;
    }
  }
  for (let x = 0; x < width; x++) {
    for (let i = -r; i < height + r; i++) {
      const y = i < 0 ? 0 : i >= height ? height - 1 : i;
      line[i + r] = img[y * width + x];
    }
    for (let y = 0; y < height; y++) {
      let s = 0;
      for (let j = 0; j < k.length; j++) s += k[j] * line[y + j];
      img[y * width + x] = s;
    }
  }
}
