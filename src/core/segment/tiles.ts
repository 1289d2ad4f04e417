/**
 * Tiled inference at native resolution. The image is cut into overlapping tiles (sizes from the sidecar,
 * rounded to the model's `multiple`), each tile goes through the backend, and the outputs are blended with
 * separable cosine ramps so that seams vanish. Memory stays bounded: one tile's input and outputs plus one
 * Float32 map per output for the whole image.
 */
import { checkAborted } from '../abort';
import type { GreyF32 } from '../raster';
import type { InferenceBackend, LoadedModel } from './model';

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
  /**
   * Outputs that are not one full-resolution map: `channels` maps (channel-major) on a grid `grid` times
   * coarser (the network's stride for that head). Tile origins are then aligned to the grid, so every tile's
   * grid points fall on the image's own grid.
   */
  shapes?: Record<string, OutputShape>;
  signal?: AbortSignal;
  /** Called after each tile with (tiles done, tiles total). */
  onTile?: (done: number, total: number) => void;
}

/** A coarse, multi-channel output: `channels` maps on a grid `grid` px apart. */
export interface OutputShape {
  grid: number;
  channels: number;
}

const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

/** The longest tile side tiled inference uses: `tileSize` down to a multiple of `multiple` (at least one). */
export function largestTile(tileSize: number, multiple: number): number {
  return Math.max(multiple, Math.floor(tileSize / multiple) * multiple);
}

/**
 * Picks the fewest tiles per axis that respect tileSize and overlap, then shrinks the tile length to the
 * smallest multiple that still covers the axis, so a 1024-px axis with 512-px tiles does not pay for 1344 px
 * of inference. Tiles are spread evenly so every seam gets about the same overlap.
 */
export function layoutAxis(
  size: number,
  tileSize: number,
  overlap: number,
  multiple: number,
  align = 1,
): TileLayout {
  const maxLen = largestTile(tileSize, multiple);
  if (size <= maxLen) return { length: roundUp(size, multiple), origins: [0] };
  const ov = Math.min(overlap, maxLen - multiple);
  const n = Math.ceil((size - ov) / (maxLen - ov));
  const length = Math.min(maxLen, roundUp(Math.ceil((size + (n - 1) * ov) / n), multiple));
  const origins: number[] = [];
  // Aligned origins round up, so the last tile still reaches the image end (reflect-padded past it).
  for (let i = 0; i < n; i++) origins.push(roundUp(Math.round((i * (size - length)) / (n - 1)), align));
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

/**
 * Blend weights on a grid g px apart (grid point k stands for pixel k*g + g/2): each tile's 1-D weights read
 * at its grid points, and their sums over the tiles, per axis. The weight sum factorises into two 1-D sums
 * because the tiles are a Cartesian product of 1-D layouts, so no full-size weight map is needed.
 */
interface GridBlend {
  width: number;
  height: number;
  wx: Float32Array[];
  wy: Float32Array[];
  sx: Float32Array;
  sy: Float32Array;
}

function gridBlend(
  g: number,
  W: number,
  H: number,
  lx: TileLayout,
  ly: TileLayout,
  wx: Float32Array[],
  wy: Float32Array[],
): GridBlend {
  const axis = (layout: TileLayout, w: Float32Array[], size: number) => {
    const n = Math.ceil(size / g);
    const tn = layout.length / g;
    const half = g >> 1;
    const sum = new Float32Array(n);
    const ws = layout.origins.map((o, i) => {
      const out = new Float32Array(tn);
      for (let q = 0; q < tn; q++) {
        out[q] = w[i][q * g + half];
        const k = o / g + q;
        if (k < n) sum[k] += out[q];
      }
      return out;
    });
    return { n, ws, sum };
  };
  const x = axis(lx, wx, W);
  const y = axis(ly, wy, H);
  return { width: x.n, height: y.n, wx: x.ws, wy: y.ws, sx: x.sum, sy: y.sum };
}

/**
 * Runs the backend over `image` (already normalised) in tiles and returns one full-size Float32 map per output
 * (or, for an output in `shapes`, its channels on its grid), each the weighted mean of the overlapping tiles'
 * predictions.
 */
export async function runTiled(
  backend: InferenceBackend,
  image: GreyF32,
  opts: TiledOptions,
): Promise<Record<string, Float32Array>> {
  const { width: W, height: H, data: src } = image;
  if (W < 1 || H < 1) throw new Error('runTiled: empty image');
  const multiple = Math.max(1, opts.multiple | 0);
  const shapes = opts.shapes ?? {};
  const align = Object.values(shapes).reduce((a, s) => Math.max(a, s.grid), 1);
  if (multiple % align !== 0)
    throw new Error(`an output's grid (${align}) does not divide the model's input multiple (${multiple})`);
  const lx = layoutAxis(W, opts.tileSize, opts.overlap, multiple, align);
  const ly = layoutAxis(H, opts.tileSize, opts.overlap, multiple, align);
  const tw = lx.length;
  const th = ly.length;
  const wx = lx.origins.map((_, i) => axisWeights(lx, i, W));
  const wy = ly.origins.map((_, j) => axisWeights(ly, j, H));

  const total = lx.origins.length * ly.origins.length;
  const tile = new Float32Array(tw * th);
  const colIndex = new Int32Array(tw);
  const acc: Record<string, Float32Array> = {};
  let names: string[] | null = opts.outputs ?? null;
  // One blend per grid in use: grid 1 is the full-resolution maps.
  const blends = new Map<number, GridBlend>();
  const blendFor = (g: number): GridBlend => {
    let b = blends.get(g);
    if (!b) blends.set(g, (b = gridBlend(g, W, H, lx, ly, wx, wy)));
    return b;
  };
  let done = 0;

  for (let j = 0; j < ly.origins.length; j++) {
    const y0 = ly.origins[j];
    for (let i = 0; i < lx.origins.length; i++) {
      checkAborted(opts.signal);
      const x0 = lx.origins[i];
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
        const { grid: g, channels: c } = shapes[name] ?? { grid: 1, channels: 1 };
        const b = blendFor(g);
        const tgw = tw / g;
        const tgh = th / g;
        if (o.length !== c * tgw * tgh)
          throw new Error(`model output "${name}" has ${o.length} values, expected ${c * tgw * tgh}`);
        let a = acc[name];
        if (!a) a = acc[name] = new Float32Array(c * b.width * b.height);
        const gx0 = x0 / g;
        const gy0 = y0 / g;
        const qEnd = Math.min(tgh, b.height - gy0);
        const pEnd = Math.min(tgw, b.width - gx0);
        const wxi = b.wx[i];
        const wyj = b.wy[j];
        for (let ch = 0; ch < c; ch++) {
          const aPlane = ch * b.width * b.height;
          const oPlane = ch * tgw * tgh;
          for (let q = 0; q < qEnd; q++) {
            const wq = wyj[q];
            const aOff = aPlane + (gy0 + q) * b.width + gx0;
            const oOff = oPlane + q * tgw;
            for (let p = 0; p < pEnd; p++) a[aOff + p] += o[oOff + p] * wq * wxi[p];
          }
        }
      }
      done++;
      opts.onTile?.(done, total);
    }
  }

  for (const name of names ?? []) {
    const a = acc[name];
    const b = blendFor(shapes[name]?.grid ?? 1);
    const plane = b.width * b.height;
    for (let off = 0; off < a.length; off += plane)
      for (let y = 0; y < b.height; y++) {
        const row = off + y * b.width;
        const syy = b.sy[y];
        for (let x = 0; x < b.width; x++) a[row + x] /= b.sx[x] * syy;
      }
  }
  return acc;
}

/**
 * One run of the network on a blank tile of the largest size tiled inference gives it. onnxruntime's first run at
 * a size sets its memory up for it (WASM, 768 px int8 tile: ~0.6 s against ~0.15 s after), and runs at smaller
 * sizes reuse that; run when the model is loaded, while the app waits for files, the first image does not pay it.
 */
export async function warmUp(model: LoadedModel): Promise<void> {
  const side = largestTile(model.sidecar.tile.size, model.sidecar.input.multiple);
  await model.backend.run(new Float32Array(side * side), side, side);
}
