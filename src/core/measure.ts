import type { LabelImage } from './raster';
import type { ExcludedBand, Particle } from './types';
import { grow } from './label';

export interface MeasureOptions {
  minAreaPx: number;
  excludeEdges: boolean;
  excludedBands?: ExcludedBand[];
}

const CORNER_CUT = 2 - Math.SQRT2;
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/**
 * Measures every label of a label image, in pixels. Conventions:
 * - pixel (i, j) covers the square [i, i+1) x [j, j+1); centroids and hull points use these continuous
 *   coordinates, so a lone pixel at column 0 has x = 0.5 (as ImageJ reports it);
 * - bbox = [x0, y0, x1, y1] with x1, y1 exclusive (x1 - x0 = width in pixels);
 * - area = pixel count (holes not counted); ecd = 2 sqrt(area / pi);
 * - perimeter = ImageJ's traced-outline perimeter (Roi.getTracedPerimeter): the outer boundary of the
 *   8-connected region is followed along pixel edges; the result is the number of unit edges minus
 *   (2 - sqrt 2) for every "non-adjacent" corner (a vertex counts when the side leading into it is longer
 *   than one pixel or the previous vertex did not count). The count along a staircase alternates, so where
 *   the trace starts can shift it by one corner: we start at the top-left corner of the first pixel and go
 *   clockwise; ImageJ can differ by at most that one corner (0.59 px). Holes do not add to the perimeter.
 * - convex hull of the pixel corners of each row's outermost pixels (monotone chain); feret_max = largest
 *   hull vertex distance, feret_angle as ImageJ (0..180 degrees, counter-clockwise from +x with y up,
 *   from the left end point to the right one); feret_min = smallest caliper width, over hull edge
 *   directions (the minimum is always attained parallel to an edge);
 * - aspect ratio = major/minor axis of the ellipse with the region's second moments, taking each pixel as
 *   a unit square (adds 1/12 to both variances, so a 40x10 rectangle gives exactly 4 and a one-pixel line
 *   stays finite);
 * - circularity = 4 pi area / perimeter^2, capped at 1; solidity = area / hull area (a filled
 *   axis-aligned rectangle gives 1).
 * A label whose pixels are not all connected (possible after manual edits) is measured as one particle;
 * its perimeter is that of the piece holding its first pixel.
 */
export function measureParticles(labels: LabelImage, opts: MeasureOptions): Particle[] {
  const { width: w, height: h, data } = labels;

  // Pass 1: runs of equal non-zero label, in raster order.
  let cap = Math.max(1024, (w * h) >> 6);
  let rl: Int32Array = new Int32Array(cap);
  let rx0: Int32Array = new Int32Array(cap);
  let rx1: Int32Array = new Int32Array(cap);
  let ry: Int32Array = new Int32Array(cap);
  let n = 0;
  let maxLabel = 0;
  // A Float64 view tests two background pixels per load (two zero int32 words read as +0).
  const f64 =
    (data.byteOffset & 7) === 0 ? new Float64Array(data.buffer, data.byteOffset, data.length >> 1) : null;
  for (let y = 0; y < h; y++) {
    const base = y * w;
    const end = base + w;
    let i = base;
    while (i < end) {
      if (f64 !== null && (i & 1) === 0) {
        let k = i >> 1;
        const ke = end >> 1;
        while (k < ke && f64[k] === 0) k++;
        i = k << 1;
        if (i >= end) break;
      }
      const v = data[i];
      if (v === 0) {
        i++;
        continue;
      }
      const s = i;
      i++;
      while (i < end && data[i] === v) i++;
      if (v < 0) continue;
      if (n === cap) {
        cap *= 2;
        rl = grow(rl, cap);
        rx0 = grow(rx0, cap);
        rx1 = grow(rx1, cap);
        ry = grow(ry, cap);
      }
      rl[n] = v;
      rx0[n] = s - base;
      rx1[n] = i - base;
      ry[n] = y;
      if (v > maxLabel) maxLabel = v;
      n++;
    }
  }

  // Counting sort of runs by label; raster order is kept within a label.
  const start = new Int32Array(maxLabel + 2);
  for (let i = 0; i < n; i++) start[rl[i] + 1]++;
  for (let l = 1; l <= maxLabel + 1; l++) start[l] += start[l - 1];
  const order = new Int32Array(n);
  const fill = start.slice(0, maxLabel + 1);
  for (let i = 0; i < n; i++) order[fill[rl[i]]++] = i;

  // Scratch for per-label row extremes and hull points, sized for the tallest possible particle.
  const rowMin = new Int32Array(h + 1);
  const rowMax = new Int32Array(h + 1);
  const rowSeen = new Uint8Array(h + 1);
  const px = new Int32Array(2 * (h + 2));
  const py = new Int32Array(2 * (h + 2));
  const hx = new Int32Array(4 * (h + 2) + 2);
  const hy = new Int32Array(4 * (h + 2) + 2);
  const trace = new TraceScratch();

  const bands = opts.excludedBands ?? [];
  const particles: Particle[] = [];
  for (let lab = 1; lab <= maxLabel; lab++) {
    const s = start[lab];
    const e = start[lab + 1];
    if (s === e) continue;
    const first = order[s];
    const ox = rx0[first];
    const oy = ry[first];
    let area = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    let bx0 = ox;
    let bx1 = rx1[first];
    const by0 = oy;
    const by1 = ry[order[e - 1]] + 1;
    for (let k = s; k < e; k++) {
      const r = order[k];
      const a = rx0[r];
      const b = rx1[r];
      const yy = ry[r];
      const len = b - a;
      // Moments about the first pixel keep the sums small enough for exact float arithmetic.
      const A = a - ox;
      const B = b - 1 - ox;
      const Y = yy - oy;
      const srx = (len * (A + B)) / 2;
      const srxx = sq(B) - sq(A - 1);
      area += len;
      sx += srx;
      sxx += srxx;
      sy += len * Y;
      syy += len * Y * Y;
      sxy += Y * srx;
      if (a < bx0) bx0 = a;
      if (b > bx1) bx1 = b;
      const ri = yy - by0;
      if (rowSeen[ri] === 0) {
        rowSeen[ri] = 1;
        rowMin[ri] = a;
        rowMax[ri] = b;
      } else {
        if (a < rowMin[ri]) rowMin[ri] = a;
        if (b > rowMax[ri]) rowMax[ri] = b;
      }
    }

    // Hull input: at each corner row Y, the extreme corners of pixel rows Y-1 (bottom) and Y (top),
    // already sorted by (y, x) as the monotone chain needs.
    const rows = by1 - by0;
    let np = 0;
    for (let Y = 0; Y <= rows; Y++) {
      let lo = 0x7fffffff;
      let hi = -1;
      if (Y < rows && rowSeen[Y]) {
        lo = rowMin[Y];
        hi = rowMax[Y];
      }
      if (Y > 0 && rowSeen[Y - 1]) {
        if (rowMin[Y - 1] < lo) lo = rowMin[Y - 1];
        if (rowMax[Y - 1] > hi) hi = rowMax[Y - 1];
      }
      if (hi < 0) continue;
      px[np] = lo;
      py[np] = Y + by0;
      np++;
      if (hi !== lo) {
        px[np] = hi;
        py[np] = Y + by0;
        np++;
      }
    }
    for (let Y = 0; Y < rows; Y++) rowSeen[Y] = 0;
    const nh = convexHull(px, py, np, hx, hy);
    let hullArea = 0;
    for (let i = 0, j = nh - 1; i < nh; j = i++) hullArea += hx[j] * hy[i] - hx[i] * hy[j];
    hullArea = Math.abs(hullArea) / 2;
    const fer = feret(hx, hy, nh);

    const mx = sx / area;
    const my = sy / area;
    const vxx = sxx / area - mx * mx + 1 / 12;
    const vyy = syy / area - my * my + 1 / 12;
    const vxy = sxy / area - mx * my;
    const t = (vxx + vyy) / 2;
    const dd = Math.sqrt(((vxx - vyy) / 2) ** 2 + vxy * vxy);
    const aspectRatio = Math.sqrt((t + dd) / Math.max(t - dd, 1e-12));

    const perimeter = perimeterOf(data, w, h, lab, s, e, order, rx0, rx1, ry, bx0, by0, bx1, by1, trace);
    const circ = perimeter > 0 ? (4 * Math.PI * area) / (perimeter * perimeter) : 1;

    let touches = bx0 === 0 || by0 === 0 || bx1 === w || by1 === h;
    for (let b = 0; b < bands.length && !touches; b++) {
      // Touching the band's first row from above, its last row from below, or lying in it.
      if (by0 <= bands[b].y1 && by1 >= bands[b].y0) touches = true;
    }
    const excluded: Particle['excluded'] =
      opts.excludeEdges && touches ? 'edge' : area < opts.minAreaPx ? 'small' : null;

    particles.push({
      id: lab,
      x: ox + mx + 0.5,
      y: oy + my + 0.5,
      area,
      ecd: 2 * Math.sqrt(area / Math.PI),
      perimeter,
      feretMax: fer.max,
      feretMin: fer.min,
      feretAngle: fer.angle,
      circularity: Math.min(1, circ),
      aspectRatio,
      solidity: hullArea > 0 ? Math.min(1, area / hullArea) : 1,
      touchesEdge: touches,
      bbox: [bx0, by0, bx1, by1],
      excluded,
    });
  }
  return particles;
}

/** Sum of k^2 for k = 0..n, valid for negative n too (a polynomial identity). */
function sq(n: number): number {
  return (n * (n + 1) * (2 * n + 1)) / 6;
}

/**
 * Andrew's monotone chain on points sorted by (y, x); writes the hull counter-clockwise (in y-down
 * image coordinates, clockwise on screen) without collinear points; returns the vertex count.
 */
function convexHull(px: Int32Array, py: Int32Array, n: number, hx: Int32Array, hy: Int32Array): number {
  if (n <= 2) {
    for (let i = 0; i < n; i++) {
      hx[i] = px[i];
      hy[i] = py[i];
    }
    return n;
  }
  let k = 0;
  for (let i = 0; i < n; i++) {
    while (k >= 2 && cross(hx[k - 2], hy[k - 2], hx[k - 1], hy[k - 1], px[i], py[i]) <= 0) k--;
    hx[k] = px[i];
    hy[k] = py[i];
    k++;
  }
  const lower = k + 1;
  for (let i = n - 2; i >= 0; i--) {
    while (k >= lower && cross(hx[k - 2], hy[k - 2], hx[k - 1], hy[k - 1], px[i], py[i]) <= 0) k--;
    hx[k] = px[i];
    hy[k] = py[i];
    k++;
  }
  return k - 1;
}

function cross(ox: number, oy: number, ax: number, ay: number, bx: number, by: number): number {
  return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox);
}

/**
 * Feret diameters of a convex polygon (counter-clockwise or clockwise, no repeated vertices) by rotating
 * calipers: for each edge the farthest vertex gives the caliper width across that edge (minimum width),
 * and the edge's two ends paired with that vertex are the antipodal pairs among which the diameter lies.
 */
function feret(hx: Int32Array, hy: Int32Array, n: number): { max: number; min: number; angle: number } {
  if (n === 0) return { max: 0, min: 0, angle: 0 };
  let best = 0;
  let p1 = 0;
  let p2 = 0;
  let min = Infinity;
  if (n <= 3) {
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = (hx[i] - hx[j]) ** 2 + (hy[i] - hy[j]) ** 2;
        if (d > best) {
          best = d;
          p1 = i;
          p2 = j;
        }
      }
    }
  }
  if (n >= 3) {
    let k = 1;
    for (let i = 0; i < n; i++) {
      const i1 = i + 1 === n ? 0 : i + 1;
      const ex = hx[i1] - hx[i];
      const ey = hy[i1] - hy[i];
      const len = Math.sqrt(ex * ex + ey * ey);
      // Twice the triangle area (edge, vertex k) grows until k passes the farthest vertex.
      let area = Math.abs(ex * (hy[k] - hy[i]) - ey * (hx[k] - hx[i]));
      for (;;) {
        const kn = k + 1 === n ? 0 : k + 1;
        const an = Math.abs(ex * (hy[kn] - hy[i]) - ey * (hx[kn] - hx[i]));
        if (an <= area) break;
        area = an;
        k = kn;
      }
      const width = area / len;
      if (width < min) min = width;
      for (let t = 0; t < 2; t++) {
        const a = t === 0 ? i : i1;
        const d = (hx[a] - hx[k]) ** 2 + (hy[a] - hy[k]) ** 2;
        if (d > best) {
          best = d;
          p1 = a;
          p2 = k;
        }
      }
    }
  }
  let x1 = hx[p1];
  let y1 = hy[p1];
  let x2 = hx[p2];
  let y2 = hy[p2];
  if (x1 > x2) {
    [x1, x2] = [x2, x1];
    [y1, y2] = [y2, y1];
  }
  let angle = (Math.atan2(y1 - y2, x2 - x1) * 180) / Math.PI;
  if (angle < 0) angle += 180;
  if (angle >= 180) angle -= 180;
  return { max: Math.sqrt(best), min: Number.isFinite(min) ? min : 0, angle };
}

/** Largest bounding box (pixels) traced in a private bitmap; bigger ones are traced in place. */
const BITMAP_LIMIT = 1 << 22;

/**
 * The outline is traced in a small bitmap of this label alone (bbox plus a one-pixel frame), painted
 * from its runs: the trace then stays in cache and needs no bounds checks. Tracing in the big label
 * image costs a cache miss per row visited, which dominated measuring 20k particles.
 */
function perimeterOf(
  data: Int32Array,
  w: number,
  h: number,
  lab: number,
  s: number,
  e: number,
  order: Int32Array,
  rx0: Int32Array,
  rx1: Int32Array,
  ry: Int32Array,
  bx0: number,
  by0: number,
  bx1: number,
  by1: number,
  scratch: TraceScratch,
): number {
  const bw = bx1 - bx0 + 2;
  const bh = by1 - by0 + 2;
  if (bw * bh > BITMAP_LIMIT) return traceInPlace(data, w, h, lab, rx0[order[s]], ry[order[s]], scratch);
  const bm = scratch.bitmap(bw * bh);
  for (let k = s; k < e; k++) {
    const r = order[k];
    const base = (ry[r] - by0 + 1) * bw + 1 - bx0;
    // Loops, not fill(): runs are short and fill() costs more per call than it saves.
    for (let i = base + rx0[r], end = base + rx1[r]; i < end; i++) bm[i] = 1;
  }
  const first = order[s];
  const p = traceOutline(bm, bw, 1, rx0[first] - bx0 + 1, ry[first] - by0 + 1, scratch);
  // Leave the bitmap clean for the next particle (cheaper than clearing the whole box).
  for (let k = s; k < e; k++) {
    const r = order[k];
    const base = (ry[r] - by0 + 1) * bw + 1 - bx0;
    for (let i = base + rx0[r], end = base + rx1[r]; i < end; i++) bm[i] = 0;
  }
  return p;
}

class TraceScratch {
  seg = new Int32Array(1024);
  private bm = new Uint8Array(4096);
  /** Index offsets, per direction, of the ahead-left / ahead-right pixel and of one step. */
  lOff = new Int32Array(4);
  rOff = new Int32Array(4);
  step = new Int32Array(4);
  w = -1;
  bitmap(size: number): Uint8Array {
    if (this.bm.length < size) this.bm = new Uint8Array(Math.max(size, this.bm.length * 2));
    return this.bm;
  }
  setWidth(w: number): void {
    if (this.w === w) return;
    this.w = w;
    // Vertex index vi = vy * w + vx is the pixel whose top-left corner the vertex is.
    this.rOff.set([0, -1, -1 - w, -w]);
    this.lOff.set([-w, 0, -1, -1 - w]);
    this.step.set([1, w, -1, -w]);
  }
}

/**
 * Follows the outer outline of the pixels equal to `lab` along pixel edges (8-connected: diagonal
 * neighbours belong to the same outline), clockwise on screen from the top-left corner of the first
 * pixel (ox, oy), and returns ImageJ's traced perimeter (see measureParticles). The image must have a
 * frame of non-`lab` pixels around the region, so no bounds checks are needed.
 */
function traceOutline(
  d: Uint8Array | Int32Array,
  w: number,
  lab: number,
  ox: number,
  oy: number,
  scratch: TraceScratch,
): number {
  scratch.setWidth(w);
  const { lOff, rOff, step } = scratch;
  let seg = scratch.seg;
  let m = 0;
  const start = oy * w + ox;
  let vi = start;
  let dir = 0;
  let len = 0;
  let total = 0;
  for (;;) {
    vi += step[dir];
    len++;
    total++;
    let nd: number;
    if (d[vi + lOff[dir]] === lab) nd = (dir + 3) & 3;
    else if (d[vi + rOff[dir]] === lab) nd = dir;
    else nd = (dir + 1) & 3;
    if (nd !== dir) {
      if (m === seg.length) {
        const bigger = new Int32Array(seg.length * 2);
        bigger.set(seg);
        seg = scratch.seg = bigger;
      }
      seg[m++] = len;
      len = 0;
      dir = nd;
      if (vi === start && dir === 0) break;
    }
  }
  return tracedPerimeter(seg, m, total);
}

/** ImageJ's corner rule over the side lengths of the traced polygon, starting at its first vertex. */
function tracedPerimeter(seg: Int32Array, m: number, total: number): number {
  let corners = 0;
  let corner = false;
  for (let i = 0; i < m; i++) {
    const side = i === 0 ? seg[m - 1] : seg[i - 1];
    if (side > 1 || !corner) {
      corner = true;
      corners++;
    } else corner = false;
  }
  return total - corners * CORNER_CUT;
}

/** The same trace on the label image itself, with bounds checks (for huge particles). */
function traceInPlace(
  d: Int32Array,
  w: number,
  h: number,
  lab: number,
  ox: number,
  oy: number,
  scratch: TraceScratch,
): number {
  let seg = scratch.seg;
  let m = 0;
  let vx = ox;
  let vy = oy;
  let dir = 0;
  let len = 0;
  let total = 0;
  for (;;) {
    vx += DX[dir];
    vy += DY[dir];
    len++;
    total++;
    const nd = slowTurn(d, w, h, lab, vx, vy, dir);
    if (nd !== dir) {
      if (m === seg.length) {
        const bigger = new Int32Array(seg.length * 2);
        bigger.set(seg);
        seg = scratch.seg = bigger;
      }
      seg[m++] = len;
      len = 0;
      dir = nd;
      if (vx === ox && vy === oy && dir === 0) break;
    }
  }
  return tracedPerimeter(seg, m, total);
}

/** The turn at vertex (vx, vy) with bounds checks, for outlines that run along the image border. */
function slowTurn(
  d: Int32Array,
  w: number,
  h: number,
  lab: number,
  vx: number,
  vy: number,
  dir: number,
): number {
  let lx: number, ly: number, rx: number, ry: number;
  switch (dir) {
    case 0:
      rx = vx;
      ry = vy;
      lx = vx;
      ly = vy - 1;
      break;
    case 1:
      rx = vx - 1;
      ry = vy;
      lx = vx;
      ly = vy;
      break;
    case 2:
      rx = vx - 1;
      ry = vy - 1;
      lx = vx - 1;
      ly = vy;
      break;
    default:
      rx = vx;
      ry = vy - 1;
      lx = vx - 1;
      ly = vy - 1;
  }
  if (lx >= 0 && ly >= 0 && lx < w && ly < h && d[ly * w + lx] === lab) return (dir + 3) & 3;
  if (rx >= 0 && ry >= 0 && rx < w && ry < h && d[ry * w + rx] === lab) return dir;
  return (dir + 1) & 3;
}
