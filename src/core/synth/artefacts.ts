/**
 * Imaging artefacts applied after the scene is drawn: uneven illumination, blur, shot and read
 * noise, SEM scan-line jitter, contrast/gamma, and JPEG block artefacts. JPEG is emulated with
 * the real codec's luma path (8x8 DCT, quantisation with the IJG table scaled by quality), so it
 * needs no encoder and runs anywhere the core runs.
 */
import { addFractalNoise, gaussianBlur } from './fields';
import type { Rng } from './prng';

export function unevenIllumination(img: Float32Array, W: number, H: number, amp: number, rng: Rng): void {
  const f = new Float32Array(W * H);
  addFractalNoise(f, W, H, Math.max(W, H) * rng.range(0.5, 1.5), 1, 0.4, rng, 64);
  const gx = rng.range(-1, 1) / W;
  const gy = rng.range(-1, 1) / H;
  const vignette = rng.chance(0.3) ? rng.range(0.1, 0.4) : 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const rx = (x - W / 2) / W;
      const ry = (y - H / 2) / H;
      const g = 1 + amp * (f[i] + (x - W / 2) * gx + (y - H / 2) * gy) - vignette * (rx * rx + ry * ry) * 2;
      img[i] *= g;
    }
  }
}

/** Shot noise (Gaussian approximation of Poisson with `photons` counts at level 1) plus read noise. */
export function addNoise(img: Float32Array, photons: number, read: number, rng: Rng): void {
  const inv = 1 / photons;
  for (let i = 0; i < img.length; i++) {
    const v = img[i] > 0 ? img[i] : 0;
    img[i] = v + Math.sqrt(v * inv) * rng.normal() + read * rng.normal();
  }
}

/** SEM raster artefacts: per-line offset/gain jitter and occasional horizontally shifted lines. */
export function scanLines(
  img: Float32Array,
  W: number,
  H: number,
  amp: number,
  shiftP: number,
  rng: Rng,
): void {
  const tmp = new Float32Array(W);
  let drift = 0;
  for (let y = 0; y < H; y++) {
    drift = 0.8 * drift + 0.2 * rng.normal();
    const off = amp * (0.6 * rng.normal() + drift);
    const gain = 1 + amp * 0.5 * rng.normal();
    const row = y * W;
    const shift = rng.chance(shiftP) ? rng.pick([-2, -1, 1, 2]) : 0;
    for (let x = 0; x < W; x++) {
      let sx = x + shift;
      if (sx < 0) sx = 0;
      else if (sx >= W) sx = W - 1;
      tmp[x] = img[row + sx] * gain + off;
    }
    img.set(tmp, row);
  }
}

/** Linear stretch of [lo, hi] to [0, 1] then gamma; values are clipped to [0, 1]. */
export function levels(img: Float32Array, lo: number, hi: number, gamma: number): void {
  const s = 1 / Math.max(1e-6, hi - lo);
  for (let i = 0; i < img.length; i++) {
    let v = (img[i] - lo) * s;
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    img[i] = gamma === 1 ? v : Math.pow(v, gamma);
  }
}

export function percentiles(img: Float32Array, lowPct: number, highPct: number): [number, number] {
  const step = Math.max(1, Math.floor(img.length / 20000));
  const sample: number[] = [];
  for (let i = 0; i < img.length; i += step) sample.push(img[i]);
  sample.sort((a, b) => a - b);
  const q = (p: number) =>
    sample[Math.min(sample.length - 1, Math.max(0, Math.round((p / 100) * (sample.length - 1))))];
  return [q(lowPct), q(highPct)];
}

export { gaussianBlur };

const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

let cosTable: Float64Array | null = null;
function cosines(): Float64Array {
  if (cosTable) return cosTable;
  cosTable = new Float64Array(64);
  for (let x = 0; x < 8; x++) {
    for (let u = 0; u < 8; u++) {
      cosTable[x * 8 + u] = (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
    }
  }
  return cosTable;
}

/**
 * JPEG luma round trip on an 8-bit image (values 0..255 in a Float32Array): forward DCT per 8x8
 * block, quantise with the quality-scaled IJG table, inverse DCT, round and clip.
 */
export function jpegArtefacts(img: Float32Array, W: number, H: number, quality: number): void {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  const qt = new Float64Array(64);
  for (let i = 0; i < 64; i++) qt[i] = Math.min(255, Math.max(1, Math.floor((LUMA_Q[i] * scale + 50) / 100)));
  const C = cosines();
  const blk = new Float64Array(64);
  const tmp = new Float64Array(64);
  const coef = new Float64Array(64);
  for (let by = 0; by < H; by += 8) {
    for (let bx = 0; bx < W; bx += 8) {
      for (let y = 0; y < 8; y++) {
        const yy = Math.min(H - 1, by + y);
        for (let x = 0; x < 8; x++) blk[y * 8 + x] = img[yy * W + Math.min(W - 1, bx + x)] - 128;
      }
      // rows then columns: coef[v][u] = sum_y sum_x C[x][u] C[y][v] blk[y][x]
      for (let y = 0; y < 8; y++) {
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let x = 0; x < 8; x++) s += C[x * 8 + u] * blk[y * 8 + x];
          tmp[y * 8 + u] = s;
        }
      }
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let y = 0; y < 8; y++) s += C[y * 8 + v] * tmp[y * 8 + u];
          const k = v * 8 + u;
          coef[k] = Math.round(s / qt[k]) * qt[k];
        }
      }
      for (let v = 0; v < 8; v++) {
        for (let x = 0; x < 8; x++) {
          let s = 0;
          for (let u = 0; u < 8; u++) s += C[x * 8 + u] * coef[v * 8 + u];
          tmp[v * 8 + x] = s;
        }
      }
      for (let y = 0; y < 8; y++) {
        const yy = by + y;
        if (yy >= H) break;
        for (let x = 0; x < 8; x++) {
          const xx = bx + x;
          if (xx >= W) break;
          let s = 0;
          for (let v = 0; v < 8; v++) s += C[y * 8 + v] * tmp[v * 8 + x];
          const val = Math.round(s + 128);
          img[yy * W + xx] = val < 0 ? 0 : val > 255 ? 255 : val;
        }
      }
    }
  }
}
