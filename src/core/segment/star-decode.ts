/**
 * Star-convex polygons to instances (StarDist's decoding): a model with a `rays` output predicts, at every
 * point of a coarse grid, the distance from that point to its own particle's outline along N fixed directions,
 * and an object probability. Touching particles therefore come out as separate polygons by construction, with
 * no contact line needed. Candidates are taken best first; one whose own point already lies in an accepted
 * polygon is suppressed (it described that particle), else its polygon is kept unless more than `overlap` of
 * it is already taken, and it claims the pixels still free. models/train/star.py holds the Python twin used to
 * choose the thresholds.
 */
import { grow } from '../label';
import type { GreyF32, LabelImage } from '../raster';

export interface StarDecodeOptions {
  /** Grid points whose object probability is at or below this are not candidates. */
  probThreshold: number;
  /** A polygon is dropped when more than this share of its pixels already belongs to accepted ones. */
  overlap: number;
  /** Polygons covering fewer pixels than this are dropped (noise). */
  minAreaPx: number;
  /** Pixels that must stay background (an excluded banner); a candidate whose point lies there is skipped. */
  blocked?: Uint8Array;
}

/** The rays of one model output: `count` directions over a grid `grid` times coarser than the image. */
export interface StarRays {
  /** [count, gridHeight, gridWidth], channel-major, in pixels of the image. */
  data: Float32Array;
  count: number;
  grid: number;
  gridWidth: number;
  gridHeight: number;
}

/** Unit direction of ray k of n: the angle 2 pi k / n from the +x axis towards +y (image rows). */
export function rayDirections(n: number): { dy: Float64Array; dx: Float64Array } {
  const dy = new Float64Array(n);
  const dx = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const a = (2 * Math.PI * k) / n;
    dy[k] = Math.sin(a);
    dx[k] = Math.cos(a);
  }
  return { dy, dx };
}

/** Image pixel a grid point stands for: its cell's centre, kept inside the image. */
export const gridCentre = (g: number, grid: number, size: number): number =>
  Math.min(g * grid + (grid >> 1), size - 1);

/**
 * Labels (1..count, in acceptance order) of the polygons kept from `prob` (the object probability at the scale
 * the model ran, as the rays) and `rays`, drawn on an image of `out`'s size (default prob's): a model run on a
 * resampled image has its polygons scaled back, so the outlines keep their sub-pixel shape. `blocked` is in
 * `out`'s pixels.
 */
export function decodeStarPolygons(
  prob: GreyF32,
  rays: StarRays,
  opts: StarDecodeOptions,
  out: { width: number; height: number } = prob,
): LabelImage {
  const { count: n, grid, gridWidth: gw, gridHeight: gh, data: r } = rays;
  if (r.length !== n * gw * gh) throw new Error(`rays hold ${r.length} values, expected ${n * gw * gh}`);
  const { width: pw, height: ph, data: pd } = prob;
  const { width, height } = out;
  // Pixel centres aligned, as resizeBilinear has them.
  const fx = width / pw;
  const fy = height / ph;
  const toX = (x: number): number => (x + 0.5) * fx - 0.5;
  const toY = (y: number): number => (y + 0.5) * fy - 0.5;
  const outIndex = (y: number, x: number): number =>
    Math.min(height - 1, Math.max(0, Math.round(toY(y)))) * width +
    Math.min(width - 1, Math.max(0, Math.round(toX(x))));
  const labels = new Int32Array(width * height);
  const blocked = opts.blocked;
  const cell = gw * gh;
  const score = new Float32Array(cell);
  let nc = 0;
  const isCandidate = (c: number): boolean => {
    if (!(score[c] > opts.probThreshold)) return false;
    if (!blocked) return true;
    const gy = (c / gw) | 0;
    return !blocked[outIndex(gridCentre(gy, grid, ph), gridCentre(c - gy * gw, grid, pw))];
  };
  for (let gy = 0; gy < gh; gy++) {
    const row = gridCentre(gy, grid, ph) * pw;
    for (let gx = 0; gx < gw; gx++) score[gy * gw + gx] = pd[row + gridCentre(gx, grid, pw)];
  }
  for (let c = 0; c < cell; c++) if (isCandidate(c)) nc++;
  const order = new Int32Array(nc);
  nc = 0;
  for (let c = 0; c < cell; c++) if (isCandidate(c)) order[nc++] = c;
  // Best first; equal scores in raster order, as the Python twin's stable sort has them.
  order.sort((a, b) => score[b] - score[a] || a - b);

  const { dy, dx } = rayDirections(n);
  const vy = new Float64Array(n);
  const vx = new Float64Array(n);
  const xs = new Float64Array(n);
  let pixels: Int32Array = new Int32Array(1024);
  let next = 1;
  for (let o = 0; o < order.length; o++) {
    const c = order[o];
    const gy = (c / gw) | 0;
    const gx = c - gy * gw;
    const cy = gridCentre(gy, grid, ph);
    const cx = gridCentre(gx, grid, pw);
    if (labels[outIndex(cy, cx)] !== 0) continue;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let k = 0; k < n; k++) {
      const d = r[k * cell + c];
      vy[k] = toY(cy + d * dy[k]);
      vx[k] = toX(cx + d * dx[k]);
      if (vy[k] < minY) minY = vy[k];
      if (vy[k] > maxY) maxY = vy[k];
    }
    // Scanline fill: a pixel belongs to the polygon when its centre does (crossings on the half-open rule).
    let area = 0;
    let taken = 0;
    const y0 = Math.max(0, Math.ceil(minY));
    const y1 = Math.min(height - 1, Math.floor(maxY));
    for (let y = y0; y <= y1; y++) {
      let m = 0;
      for (let k = 0, j = n - 1; k < n; j = k++) {
        const ya = vy[j];
        const yb = vy[k];
        if (ya <= y === yb <= y) continue;
        const x = vx[j] + ((y - ya) * (vx[k] - vx[j])) / (yb - ya);
        let t = m++;
        while (t > 0 && xs[t - 1] > x) {
          xs[t] = xs[t - 1];
          t--;
        }
        xs[t] = x;
      }
      const rowOff = y * width;
      for (let q = 0; q + 1 < m; q += 2) {
        const xa = Math.max(0, Math.ceil(xs[q]));
        const xb = Math.min(width - 1, Math.ceil(xs[q + 1]) - 1);
        for (let x = xa; x <= xb; x++) {
          const i = rowOff + x;
          if (blocked && blocked[i]) continue;
          if (area === pixels.length) pixels = grow(pixels, 2 * area);
          pixels[area++] = i;
          if (labels[i] !== 0) taken++;
        }
      }
    }
    if (area === 0 || area < opts.minAreaPx || taken > opts.overlap * area) continue;
    for (let q = 0; q < area; q++) if (labels[pixels[q]] === 0) labels[pixels[q]] = next;
    next++;
  }
  return { width, height, data: labels, count: next - 1 };
}
