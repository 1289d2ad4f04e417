/**
 * The particles as an ImageJ ROI set: a ZIP of one polygon .roi file per included particle, what Fiji's ROI
 * Manager opens (More >> Open...) over the original image. Each polygon is the particle's outer outline along
 * pixel edges, traced like measure.ts traces it for the perimeter (8-connected, clockwise on screen from the
 * top-left corner of its first pixel; holes are not outlined), so ImageJ's area of the ROI is the particle's
 * area when it has no holes.
 *
 * .roi layout (ImageJ's RoiEncoder, big-endian): "Iout", version, type (0 = polygon), top, left, bottom,
 * right, vertex count, then the x and the y coordinates as int16 relative to left and top.
 * Entry names follow ImageJ's own pattern, here particle id, centroid y, centroid x: 0007-0123-0456.roi.
 */
import { zipSync } from 'fflate';
import type { LabelImage } from '../raster';
import type { Particle } from '../types';

const HEADER_SIZE = 64;
const VERSION = 227;
const POLYGON = 0;
const INT16_MAX = 32767;

export interface RoiSet {
  /** The RoiSet.zip bytes. */
  zip: Uint8Array;
  /** Entries written, one per included particle that fits the format. */
  count: number;
  /** Particles left out because their coordinates or vertex count do not fit the format's 16-bit fields. */
  tooLarge: number[];
}

/** Outline vertices of one particle, image coordinates of pixel corners: xs[i], ys[i]. */
export interface Outline {
  xs: Int32Array;
  ys: Int32Array;
}

export function encodeImagejRois(labels: LabelImage, particles: Particle[]): RoiSet {
  const files: Record<string, Uint8Array> = {};
  const tooLarge: number[] = [];
  let count = 0;
  for (const p of particles) {
    if (p.excluded !== null) continue;
    const o = traceParticleOutline(labels, p);
    const roi = o ? encodePolygonRoi(o) : null;
    if (!roi) {
      tooLarge.push(p.id);
      continue;
    }
    files[roiName(p)] = roi;
    count++;
  }
  return { zip: zipSync(files, { level: 6 }), count, tooLarge };
}

export function roiName(p: Particle): string {
  const pad = (v: number): string => String(Math.max(0, Math.round(v))).padStart(4, '0');
  return `${pad(p.id)}-${pad(p.y)}-${pad(p.x)}.roi`;
}

/** One polygon .roi file, or null when it does not fit 16-bit coordinates and count. */
export function encodePolygonRoi({ xs, ys }: Outline): Uint8Array | null {
  const n = xs.length;
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (let i = 0; i < n; i++) {
    if (xs[i] < left) left = xs[i];
    if (xs[i] > right) right = xs[i];
    if (ys[i] < top) top = ys[i];
    if (ys[i] > bottom) bottom = ys[i];
  }
  if (n === 0 || n > 65535 || right > INT16_MAX || bottom > INT16_MAX) return null;
  const out = new Uint8Array(HEADER_SIZE + 4 * n);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x6f, 0x75, 0x74]); // "Iout"
  dv.setInt16(4, VERSION);
  dv.setUint8(6, POLYGON);
  dv.setInt16(8, top);
  dv.setInt16(10, left);
  dv.setInt16(12, bottom);
  dv.setInt16(14, right);
  dv.setUint16(16, n);
  for (let i = 0; i < n; i++) {
    dv.setInt16(HEADER_SIZE + 2 * i, xs[i] - left);
    dv.setInt16(HEADER_SIZE + 2 * n + 2 * i, ys[i] - top);
  }
  return out;
}

/**
 * The outer outline of particle `p` (its piece holding its first pixel in raster order), one vertex per
 * turn. Traced in a bitmap of its bounding box plus a one-pixel frame, so no step leaves the bitmap.
 * Null when the particle has no pixel in its box.
 */
export function traceParticleOutline(labels: LabelImage, p: Particle): Outline | null {
  const [x0, y0, x1, y1] = p.bbox;
  const bw = x1 - x0 + 2;
  const bh = y1 - y0 + 2;
  const bm = new Uint8Array(bw * bh);
  let start = -1;
  for (let y = y0; y < y1; y++) {
    const row = y * labels.width;
    for (let x = x0; x < x1; x++)
      if (labels.data[row + x] === p.id) {
        const i = (y - y0 + 1) * bw + (x - x0 + 1);
        bm[i] = 1;
        if (start < 0) start = i;
      }
  }
  if (start < 0) return null;
  // Directions east, south, west, north (y down). Vertex index vi is the pixel whose top-left corner the
  // vertex is; per direction, the offsets of the pixels ahead on the left and ahead on the right.
  const aheadLeft = [-bw, 0, -1, -1 - bw];
  const aheadRight = [0, -1, -1 - bw, -bw];
  const step = [1, bw, -1, -bw];
  const xs: number[] = [];
  const ys: number[] = [];
  let vi = start;
  let dir = 0;
  for (;;) {
    vi += step[dir];
    let nd: number;
    if (bm[vi + aheadLeft[dir]]) nd = (dir + 3) & 3;
    else if (bm[vi + aheadRight[dir]]) nd = dir;
    else nd = (dir + 1) & 3;
    if (nd !== dir) {
      xs.push((vi % bw) - 1 + x0);
      ys.push(Math.floor(vi / bw) - 1 + y0);
      dir = nd;
      if (vi === start && dir === 0) break;
    }
  }
  // The start vertex closes the loop last; put it first, as the trace began there.
  xs.unshift(xs.pop()!);
  ys.unshift(ys.pop()!);
  return { xs: Int32Array.from(xs), ys: Int32Array.from(ys) };
}
