/**
 * Tiled inference at native resolution. The image is cut into overlapping tiles (sizes from the sidecar,
 * rounded to the model's `multiple`), each tile goes through the backend, and the outputs are blended with
 * separable cosine ramps so that seams vanish. Memory stays bounded: one tile's input and outputs plus one
 * Float32 map per output for the whole image.
 */
import type { GreyF32 } from '../raster';
import type { InferenceBackend } from './model';

export interface TileLayout {
  /** Tile length along the axis (a multiple of `multiple`, may exceed the image length: then reflect-padded). */
  length: number;
  /** Tile origins along the axis, ascending; the last tile ends at the image end (or beyond, when padded). */
  origins: number[];
}

export interface TiledOptions {
  /** Largest tile side the model should see (pixels). */
  tileSize: number;
  /** Minimum overlap between neighbouring tiles (pixels); should cover the network's useful context. */
  overlap: number;
  /** Tile sides must be multiples of this (the U-Net's total downsampling). */
  multiple: number;
  /** Output names to keep; by default every output the backend returns for the first tile. */
  outputs?: string[];
  signal?: AbortSignal;
  /** Called after each tile with (tiles done, tiles total). */
  onTile?: (done: number, total: number) => void;
}

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

/**
 * Picks the fewest tiles per axis that respect tileSize and overlap, then shrinks the tile length to the
 * smallest multiple that still covers the axis, so a 1024-px axis with 512-px tiles does not pay for 1344 px
 * of inference. Tiles are spread evenly so every seam gets about the same overlap.
 */
export function layoutAxis(size: number, tileSize: number, overlap: number, multiple: number): TileLayout {
  const maxLen = Math.max(multiple, Math.floor(tileSize / multiple) * multiple);
  if (size <= maxLen) return { length: roundUp(size, multiple), origins: [0] };
  const ov = Math.min(overlap, maxLen - multiple);
  const n = Math.ceil((size - ov) / (maxLen - ov));
  const length = Math.min(maxLen, roundUp(Math.ceil((size + (n - 1) * ov) / n), multiple));
  const origins: number[] = [];
  for (let i = 0; i < n; i++) origins.push(Math.round((i * (size - length)) / (n - 1)));
  return { length, origins };
}

/**
 * Blend weights of one tile along one axis: 1 in the middle, a raised-cosine ramp across each seam with a
 * neighbour, and full weight at the image border (no neighbour there to hand over to). The ramp never reaches
 * zero so the normalising sum is always positive.
 */
function axisWeights(layout: TileLayout, i: number, size: number): Float32Array {
  const { length, origins } = layout;
  const w = new Float32Array(length).fill(1);
  const x0 = origins[i];
  if (i > 0) {
    const ov = origins[i - 1] + length - x0;
    for (let p = 0; p < ov && p < length; p++) w[p] *= rampValue(p, ov);
  }
  if (i < origins.length - 1) {
    const ov = Math.min(x0 + length, size) - origins[i + 1];
    const end = Math.min(length, size - x0);
    for (let p = 0; p < ov; p++) w[end - 1 - p] *= rampValue(p, ov);
  }
  return w;
}

/**
 * Weight at distance p from a seam-side tile edge, for a seam overlap of ov pixels: (almost) zero over the
 * outer eighth, where zero/reflect padding inside the network makes predictions least reliable, then a raised
 * cosine up to 1 at the far end of the overlap.
 */
function rampValue(p: number, ov: number): number {
  const margin = Math.floor(ov / 8);
  const span = ov - 2 * margin;
  if (span <= 0) return Math.max(1e-4, (p + 0.5) / ov);
  const t = (p + 0.5 - margin) / span;
  if (t <= 0) return 1e-4;
  if (t >= 1) return 1;
  return Math.max(1e-4, 0.5 - 0.5 * Math.cos(Math.PI * t));
}

/** Mirror index into [0, n) without repeating the edge pixel (numpy 'reflect'), for any offset. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('Analysis cancelled', 'AbortError');
}

/**
 * Runs the backend over `image` (already normalised) in tiles and returns one full-size Float32 map per output,
 * each the weighted mean of the overlapping tiles' predictions.
 */
export async function runTiled(
  backend: InferenceBackend,
  image: GreyF32,
  opts: TiledOptions,
): Promise<Record<string, Float32Array>> {
  const { width: W, height: H, data: src } = image;
  if (W < 1 || H < 1) throw new Error('runTiled: empty image');
  const multiple = Math.max(1, opts.multiple | 0);
  const lx = layoutAxis(W, opts.tileSize, opts.overlap, multiple);
  const ly = layoutAxis(H, opts.tileSize, opts.overlap, multiple);
  const tw = lx.length;
  const th = ly.length;
  const wx = lx.origins.map((_, i) => axisWeights(lx, i, W));
  const wy = ly.origins.map((_, j) => axisWeights(ly, j, H));

  // The grid is a Cartesian product of 1-D layouts and each tile's weight is wx*wy, so the per-pixel weight
  // sum factorises into two 1-D sums: no full-size weight map needed.
  const sx = new Float32Array(W);
  const sy = new Float32Array(H);
  lx.origins.forEach((x0, i) => {
    for (let p = 0; p < tw && x0 + p < W; p++) sx[x0 + p] += wx[i][p];
  });
  ly.origins.forEach((y0, j) => {
    for (let q = 0; q < th && y0 + q < H; q++) sy[y0 + q] += wy[j][q];
  });

  const total = lx.origins.length * ly.origins.length;
  const tile = new Float32Array(tw * th);
  const colIndex = new Int32Array(tw);
  const acc: Record<string, Float32Array> = {};
  let names: string[] | null = opts.outputs ?? null;
  let done = 0;

  for (let j = 0; j < ly.origins.length; j++) {
    const y0 = ly.origins[j];
    const wyj = wy[j];
    for (let i = 0; i < lx.origins.length; i++) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const x0 = lx.origins[i];
      const wxi = wx[i];
      for (let p = 0; p < tw; p++) colIndex[p] = reflectIndex(x0 + p, W);
      for (let q = 0; q < th; q++) {
        const rowOff = reflectIndex(y0 + q, H) * W;
        const tOff = q * tw;
        for (let p = 0; p < tw; p++) tile[tOff + p] = src[rowOff + colIndex[p]];
      }
      const out = await backend.run(tile, th, tw);
      if (names === null) names = Object.keys(out);
      for (const name of names) {
        const o = out[name];
        if (!o) throw new Error(`model output "${name}" missing`);
        if (o.length !== tw * th)
          throw new Error(`model output "${name}" has ${o.length} values, expected ${tw * th}`);
        let a = acc[name];
        if (!a) a = acc[name] = new Float32Array(W * H);
        const qEnd = Math.min(th, H - y0);
        const pEnd = Math.min(tw, W - x0);
        for (let q = 0; q < qEnd; q++) {
          const wq = wyj[q];
          const aOff = (y0 + q) * W + x0;
          const oOff = q * tw;
          for (let p = 0; p < pEnd; p++) a[aOff + p] += o[oOff + p] * wq * wxi[p];
        }
      }
      done++;
      opts.onTile?.(done, total);
    }
  }

  for (const name of names ?? []) {
    const a = acc[name];
    for (let y = 0; y < H; y++) {
      const off = y * W;
      const syy = sy[y];
      for (let x = 0; x < W; x++) a[off + x] /= sx[x] * syy;
    }
  }
  return acc;
}
