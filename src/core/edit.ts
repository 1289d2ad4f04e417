/**
 * Mask editing on instance label images: brush, eraser, delete, merge, split, and an undo/redo history.
 *
 * Every edit mutates `labels.data` in place and returns the pixels it changed as a compact diff
 * (indices + old/new values). In place because a copy of an 8k x 8k Int32 label image is 256 MB and
 * would make a brush stroke anything but instant; the diff is what the history keeps, so undo/redo
 * never needs a full snapshot. Edits only visit the bounding box they can affect: pass the particle's
 * bbox (Particle.bbox from the last measurement) as a hint and delete/merge/split never scan the image.
 *
 * `labels.count` is kept as the highest label that may be in use (a new particle raises it; deleting
 * leaves a gap rather than renumbering, so ids the page holds stay valid until the next remeasure).
 */
import type { LabelImage } from './raster';

/**
 * Bounding box [x0, y0, x1, y1] in pixels. Particle.bbox has exclusive ends; edits grow any box by one
 * pixel on every side, so inclusive or exclusive ends both work.
 */
export type BBox = readonly [number, number, number, number];

export interface LabelDiff {
  /** Flat pixel indices (y * width + x); each pixel at most once per edit. */
  indices: Uint32Array;
  before: Int32Array;
  after: Int32Array;
  countBefore: number;
  countAfter: number;
}

export interface EditResult {
  labels: LabelImage;
  diff: LabelDiff;
  /** Number of pixels changed (0 = the edit did nothing; do not push it to the history). */
  changed: number;
  /** Ids that were created by this edit (new particle from the brush, pieces of a split). */
  created: number[];
  /** Ids that no longer exist after this edit (deleted, merged away, erased completely is not tracked). */
  removed: number[];
  /** Bounding box of the changed pixels (inclusive), or null when nothing changed. */
  bbox: [number, number, number, number] | null;
}

/**
 * An edit as the page asks for it (ImageView emits these through `onedit`); `applyEdit` runs one.
 * Brush/erase points are a flat [x0, y0, x1, y1, ...] polyline in image pixels; consecutive points are
 * joined so a fast drag leaves no gaps.
 */
export type EditIntent =
  | {
      kind: 'brush';
      points: number[];
      radius: number;
      /** Particle to extend, or null to start a new particle (id = nextLabel). */
      label: number | null;
      /** Paint over other particles too (default false: only background and the particle itself). */
      overwrite?: boolean;
    }
  | {
      kind: 'erase';
      points: number[];
      radius: number;
      /** Erase only this particle's pixels (default: every particle under the eraser). */
      only?: number;
    }
  | { kind: 'delete'; id: number }
  | { kind: 'merge'; a: number; b: number }
  | {
      kind: 'split';
      /** Particle to cut, or null for the particle the line crosses most. */
      id: number | null;
      x0: number;
      y0: number;
      x1: number;
      y1: number;
    };

export type EditKind = EditIntent['kind'];

/** Collects changed pixels in growable typed arrays (no per-pixel objects). */
class DiffBuilder {
  private idx: Uint32Array;
  private prev: Int32Array;
  private next: Int32Array;
  n = 0;
  minX = Infinity;
  minY = Infinity;
  maxX = -Infinity;
  maxY = -Infinity;

  constructor(
    private readonly width: number,
    capacity = 256,
  ) {
    this.idx = new Uint32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  add(i: number, before: number, after: number): void {
    if (this.n === this.idx.length) {
      const cap = this.idx.length * 2;
      const idx = new Uint32Array(cap);
      idx.set(this.idx);
      const prev = new Int32Array(cap);
      prev.set(this.prev);
      const next = new Int32Array(cap);
      next.set(this.next);
      this.idx = idx;
      this.prev = prev;
      this.next = next;
    }
    this.idx[this.n] = i;
    this.prev[this.n] = before;
    this.next[this.n] = after;
    this.n++;
    const y = (i / this.width) | 0;
    const x = i - y * this.width;
    if (x < this.minX) this.minX = x;
    if (x > this.maxX) this.maxX = x;
    if (y < this.minY) this.minY = y;
    if (y > this.maxY) this.maxY = y;
  }

  finish(
    labels: LabelImage,
    countBefore: number,
    created: number[] = [],
    removed: number[] = [],
  ): EditResult {
    const diff: LabelDiff = {
      indices: this.idx.slice(0, this.n),
      before: this.prev.slice(0, this.n),
      after: this.next.slice(0, this.n),
      countBefore,
      countAfter: labels.count,
    };
    return {
      labels,
      diff,
      changed: this.n,
      created: this.n > 0 ? created : [],
      removed: this.n > 0 ? removed : [],
      bbox: this.n > 0 ? [this.minX, this.minY, this.maxX, this.maxY] : null,
    };
  }
}

/** The id a new particle gets: one above the highest label that may be in use. */
export function nextLabel(labels: LabelImage): number {
  return labels.count + 1;
}

/** Highest label actually present (a full scan); use to repair a `count` of unknown origin. */
export function maxLabel(labels: LabelImage): number {
  const d = labels.data;
  let m = 0;
  for (let i = 0; i < d.length; i++) if (d[i] > m) m = d[i];
  return m;
}

function clampBox(labels: LabelImage, box: BBox | undefined): [number, number, number, number] {
  if (!box) return [0, 0, labels.width - 1, labels.height - 1];
  return [
    Math.max(0, Math.floor(box[0]) - 1),
    Math.max(0, Math.floor(box[1]) - 1),
    Math.min(labels.width - 1, Math.ceil(box[2]) + 1),
    Math.min(labels.height - 1, Math.ceil(box[3]) + 1),
  ];
}

function validId(id: number): boolean {
  return Number.isInteger(id) && id > 0;
}

/** Paints one disc into a diff; shared by paintBrush and paintStroke so a stroke is one undo step. */
function paintDisc(
  labels: LabelImage,
  b: DiffBuilder,
  cx: number,
  cy: number,
  radius: number,
  label: number,
  overwrite: boolean,
  only: number,
): void {
  const { width, height, data } = labels;
  const r = Math.max(0, radius);
  const r2 = r * r;
  const x0 = Math.max(0, Math.ceil(cx - r));
  const x1 = Math.min(width - 1, Math.floor(cx + r));
  const y0 = Math.max(0, Math.ceil(cy - r));
  const y1 = Math.min(height - 1, Math.floor(cy + r));
  for (let y = y0; y <= y1; y++) {
    const dy = y - cy;
    const row = y * width;
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx;
      if (dx * dx + dy * dy > r2) continue;
      const i = row + x;
      const v = data[i];
      if (v === label) continue;
      if (label === 0) {
        if (only > 0 && v !== only) continue;
      } else if (v !== 0 && !overwrite) {
        continue;
      }
      b.add(i, v, label);
      data[i] = label;
    }
  }
}

/**
 * Paints a disc of `radius` pixels centred on (cx, cy): pixels whose centre lies within the radius.
 * label 0 erases; a label above `count` starts a new particle; an existing label extends that particle.
 * Other particles' pixels are left alone unless `opts.overwrite` (brush) — for the eraser, `opts.only`
 * restricts erasing to one particle.
 */
export function paintBrush(
  labels: LabelImage,
  cx: number,
  cy: number,
  radius: number,
  label: number,
  opts: { overwrite?: boolean; only?: number } = {},
): EditResult {
  return paintStroke(labels, [cx, cy], radius, label, opts);
}

/** Paints discs along a polyline [x0, y0, x1, y1, ...] as one edit (one undo step). */
export function paintStroke(
  labels: LabelImage,
  points: ArrayLike<number>,
  radius: number,
  label: number,
  opts: { overwrite?: boolean; only?: number } = {},
): EditResult {
  if (!(label === 0 || validId(label))) throw new RangeError(`invalid label ${label}`);
  const countBefore = labels.count;
  const b = new DiffBuilder(labels.width);
  const overwrite = opts.overwrite === true;
  const only = opts.only ?? 0;
  const n = points.length >> 1;
  // Step at most half a radius (at least 0.5 px) between discs so the stroke is a continuous band.
  const step = Math.max(0.5, radius / 2);
  for (let k = 0; k < n; k++) {
    const ax = points[2 * k];
    const ay = points[2 * k + 1];
    if (k === 0) {
      paintDisc(labels, b, ax, ay, radius, label, overwrite, only);
      continue;
    }
    const px = points[2 * k - 2];
    const py = points[2 * k - 1];
    const len = Math.hypot(ax - px, ay - py);
    const steps = Math.max(1, Math.ceil(len / step));
    for (let s = 1; s <= steps; s++) {
      const t = s / steps;
      paintDisc(labels, b, px + (ax - px) * t, py + (ay - py) * t, radius, label, overwrite, only);
    }
  }
  const created: number[] = [];
  if (label > labels.count && b.n > 0) {
    labels.count = label;
    created.push(label);
  }
  return b.finish(labels, countBefore, created);
}

/** Removes particle `id` (its pixels become background). `bbox` (Particle.bbox) avoids a full scan. */
export function deleteParticle(labels: LabelImage, id: number, bbox?: BBox): EditResult {
  const countBefore = labels.count;
  const b = new DiffBuilder(labels.width, 1024);
  if (validId(id)) {
    const { width, data } = labels;
    const [x0, y0, x1, y1] = clampBox(labels, bbox);
    for (let y = y0; y <= y1; y++) {
      const row = y * width;
      for (let x = x0; x <= x1; x++) {
        const i = row + x;
        if (data[i] === id) {
          b.add(i, id, 0);
          data[i] = 0;
        }
      }
    }
  }
  return b.finish(labels, countBefore, [], [id]);
}

/**
 * Joins particle `b` into particle `a` (the result keeps id `a`). With `bridge` (default true), background
 * gaps of one or two pixels lying straight between a pixel of `a` and a pixel of `b` are filled, so two
 * halves that a separation line cut apart become one solid particle rather than two islands with one id.
 */
export function mergeParticles(
  labels: LabelImage,
  a: number,
  bId: number,
  opts: { bboxA?: BBox; bboxB?: BBox; bridge?: boolean } = {},
): EditResult {
  const countBefore = labels.count;
  const diff = new DiffBuilder(labels.width, 1024);
  if (!validId(a) || !validId(bId) || a === bId) return diff.finish(labels, countBefore);
  const { width, height, data } = labels;
  let box: [number, number, number, number];
  if (opts.bboxA && opts.bboxB) {
    const ba = clampBox(labels, opts.bboxA);
    const bb = clampBox(labels, opts.bboxB);
    box = [Math.min(ba[0], bb[0]), Math.min(ba[1], bb[1]), Math.max(ba[2], bb[2]), Math.max(ba[3], bb[3])];
  } else {
    box = clampBox(labels, undefined);
  }
  const [x0, y0, x1, y1] = box;
  // Gap pixels are found on the unmodified image (sides must be one a and one b), then written.
  const gaps: number[] = [];
  if (opts.bridge !== false) {
    // Directions: right, down, down-right, down-left (the opposite side is covered by the sign flip).
    const dxs = [1, 0, 1, -1];
    const dys = [0, 1, 1, 1];
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const i = y * width + x;
        if (data[i] !== 0) continue;
        for (let k = 0; k < 4; k++) {
          const dx = dxs[k];
          const dy = dys[k];
          // gap of 1: p-d and p+d; gap of 2: p-d and p+2d (p+d background), or p-2d and p+d.
          const v1 = at(data, width, height, x - dx, y - dy);
          const w1 = at(data, width, height, x + dx, y + dy);
          if (isPair(v1, w1, a, bId)) {
            gaps.push(i);
            break;
          }
          if (v1 === a || v1 === bId) {
            if (w1 === 0 && isPair(v1, at(data, width, height, x + 2 * dx, y + 2 * dy), a, bId)) {
              gaps.push(i);
              break;
            }
          } else if (v1 === 0 && (w1 === a || w1 === bId)) {
            if (isPair(at(data, width, height, x - 2 * dx, y - 2 * dy), w1, a, bId)) {
              gaps.push(i);
              break;
            }
          }
        }
      }
    }
  }
  let g = 0;
  for (let y = y0; y <= y1; y++) {
    const row = y * width;
    for (let x = x0; x <= x1; x++) {
      const i = row + x;
      const v = data[i];
      if (v === bId) {
        diff.add(i, v, a);
        data[i] = a;
      } else if (g < gaps.length && gaps[g] === i) {
        diff.add(i, 0, a);
        data[i] = a;
      }
      if (g < gaps.length && gaps[g] === i) g++;
    }
  }
  return diff.finish(labels, countBefore, [], [bId]);
}

function at(data: Int32Array, width: number, height: number, x: number, y: number): number {
  return x < 0 || y < 0 || x >= width || y >= height ? 0 : data[y * width + x];
}

function isPair(u: number, v: number, a: number, b: number): boolean {
  return (u === a && v === b) || (u === b && v === a);
}

/**
 * Appends to `out` (as x, y pairs) every pixel of a 4-connected digital line from (x0, y0) to (x1, y1):
 * a diagonal step is made as two axis steps, so no 8-connected path can slip through the line.
 */
function line4(x0: number, y0: number, x1: number, y1: number, out: number[]): void {
  let x = Math.round(x0);
  let y = Math.round(y0);
  const nx = Math.abs(Math.round(x1) - x);
  const ny = Math.abs(Math.round(y1) - y);
  const sx = x1 > x0 ? 1 : -1;
  const sy = y1 > y0 ? 1 : -1;
  out.push(x, y);
  // Walk the grid cells the ideal segment passes through, one axis step at a time.
  for (let ix = 0, iy = 0; ix < nx || iy < ny;) {
    if ((1 + 2 * ix) * ny < (1 + 2 * iy) * nx) {
      x += sx;
      ix++;
    } else {
      y += sy;
      iy++;
    }
    out.push(x, y);
  }
}

/** The particle a line crosses most (by pixel count), or 0 when it crosses none. */
export function particleAlongLine(
  labels: LabelImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number {
  const pts: number[] = [];
  line4(x0, y0, x1, y1, pts);
  const hits = new Map<number, number>();
  for (let k = 0; k < pts.length; k += 2) {
    const v = at(labels.data, labels.width, labels.height, pts[k], pts[k + 1]);
    if (v > 0) hits.set(v, (hits.get(v) ?? 0) + 1);
  }
  let best = 0;
  let bestN = 0;
  for (const [id, n] of hits) {
    if (n > bestN || (n === bestN && id < best)) {
      best = id;
      bestN = n;
    }
  }
  return best;
}

/**
 * Cuts particle `id` along the line (x0, y0)-(x1, y1). The line is extended past its ends while it is
 * still on the particle, so a drag that stops just short of the edge still cuts through. The pieces
 * (8-connected) become separate particles: the largest keeps `id`, the others get new ids. Pixels on
 * the cut go to the piece on one fixed side of the line (no area is lost) unless `keepCut`, which
 * leaves a background line one pixel wide. Nothing changes when the line does not cut the particle apart.
 */
export function splitParticle(
  labels: LabelImage,
  id: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  opts: { bbox?: BBox; keepCut?: boolean } = {},
): EditResult {
  const countBefore = labels.count;
  const diff = new DiffBuilder(labels.width, 1024);
  if (!validId(id)) return diff.finish(labels, countBefore);
  const { width, height, data } = labels;
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (len < 1) return diff.finish(labels, countBefore);
  const ux = (x1 - x0) / len;
  const uy = (y1 - y0) / len;
  // Extend each end along the line while it stays on the particle.
  let sx0 = x0;
  let sy0 = y0;
  while (at(data, width, height, Math.round(sx0 - ux), Math.round(sy0 - uy)) === id) {
    sx0 -= ux;
    sy0 -= uy;
  }
  let sx1 = x1;
  let sy1 = y1;
  while (at(data, width, height, Math.round(sx1 + ux), Math.round(sy1 + uy)) === id) {
    sx1 += ux;
    sy1 += uy;
  }
  const pts: number[] = [];
  line4(sx0, sy0, sx1, sy1, pts);

  const [bx0, by0, bx1, by1] = clampBox(labels, opts.bbox);
  const bw = bx1 - bx0 + 1;
  const bh = by1 - by0 + 1;
  // Local component map over the bbox: -1 = not this particle, -2 = cut pixel, >= 0 = component index.
  const comp = new Int32Array(bw * bh).fill(-1);
  for (let y = by0; y <= by1; y++) {
    for (let x = bx0; x <= bx1; x++) if (data[y * width + x] === id) comp[(y - by0) * bw + (x - bx0)] = -3;
  }
  const cut: number[] = [];
  for (let k = 0; k < pts.length; k += 2) {
    const x = pts[k];
    const y = pts[k + 1];
    if (x < bx0 || y < by0 || x > bx1 || y > by1) continue;
    const j = (y - by0) * bw + (x - bx0);
    if (comp[j] === -3) {
      comp[j] = -2;
      cut.push(x, y);
    }
  }
  if (cut.length === 0) return diff.finish(labels, countBefore);

  // 8-connected flood fill of the remaining pixels (-3) into components; explicit stack, no recursion.
  const sizes: number[] = [];
  const stack = new Int32Array(bw * bh);
  for (let j0 = 0; j0 < comp.length; j0++) {
    if (comp[j0] !== -3) continue;
    const c = sizes.length;
    let size = 0;
    let sp = 0;
    stack[sp++] = j0;
    comp[j0] = c;
    while (sp > 0) {
      const j = stack[--sp];
      size++;
      const ly = (j / bw) | 0;
      const lx = j - ly * bw;
      for (let ddy = -1; ddy <= 1; ddy++) {
        const ny = ly + ddy;
        if (ny < 0 || ny >= bh) continue;
        for (let ddx = -1; ddx <= 1; ddx++) {
          const nx = lx + ddx;
          if (nx < 0 || nx >= bw) continue;
          const nj = ny * bw + nx;
          if (comp[nj] === -3) {
            comp[nj] = c;
            stack[sp++] = nj;
          }
        }
      }
    }
    sizes.push(size);
  }
  if (sizes.length < 2) return diff.finish(labels, countBefore);

  // Largest piece keeps the id (ties: the first in raster order); others get fresh ids in raster order.
  let keep = 0;
  for (let c = 1; c < sizes.length; c++) if (sizes[c] > sizes[keep]) keep = c;
  const idOf = new Int32Array(sizes.length);
  let next = labels.count;
  const created: number[] = [];
  for (let c = 0; c < sizes.length; c++) {
    if (c === keep) idOf[c] = id;
    else {
      idOf[c] = ++next;
      created.push(next);
    }
  }

  // Cut pixels: side of the drag line their left neighbour piece lies on decides which piece takes them.
  const cutOwner = new Int32Array(cut.length >> 1).fill(0);
  if (!opts.keepCut) {
    const nbx = [-1, 1, 0, 0];
    const nby = [0, 0, -1, 1];
    for (let k = 0; k < cut.length; k += 2) {
      const x = cut[k];
      const y = cut[k + 1];
      let left = -1;
      let any = -1;
      for (let n = 0; n < 4; n++) {
        const nx = x + nbx[n];
        const ny = y + nby[n];
        if (nx < bx0 || ny < by0 || nx > bx1 || ny > by1) continue;
        const c = comp[(ny - by0) * bw + (nx - bx0)];
        if (c < 0) continue;
        if (any < 0) any = c;
        // One fixed side of the drag line (sign of the cross product) takes the cut pixel.
        if (ux * (ny - y0) - uy * (nx - x0) < 0 && left < 0) left = c;
      }
      cutOwner[k >> 1] = left >= 0 ? idOf[left] : any >= 0 ? idOf[any] : 0;
    }
  }
  const cutMap = new Map<number, number>();
  for (let k = 0; k < cut.length; k += 2) cutMap.set(cut[k + 1] * width + cut[k], cutOwner[k >> 1]);

  for (let y = by0; y <= by1; y++) {
    for (let x = bx0; x <= bx1; x++) {
      const c = comp[(y - by0) * bw + (x - bx0)];
      const i = y * width + x;
      let v: number;
      if (c >= 0) v = idOf[c];
      else if (c === -2) v = cutMap.get(i) ?? 0;
      else continue;
      if (v !== data[i]) {
        diff.add(i, data[i], v);
        data[i] = v;
      }
    }
  }
  labels.count = next;
  return diff.finish(labels, countBefore, created);
}

/** Looks up a particle's bbox by id in a measured particle list (for bbox hints). */
export function bboxOf(
  particles: ReadonlyArray<{ id: number; bbox: BBox }> | undefined,
  id: number,
): BBox | undefined {
  if (!particles) return undefined;
  // Particles are usually in id order (id = index + 1); check that slot before searching.
  const guess = particles[id - 1];
  if (guess && guess.id === id) return guess.bbox;
  for (const p of particles) if (p.id === id) return p.bbox;
  return undefined;
}

/**
 * Runs one intent (as ImageView emits it). `particles` (the last measurement) supplies bbox hints;
 * they must describe `labels` as it is now (remeasure after every edit, as the worker does).
 */
export function applyEdit(
  labels: LabelImage,
  intent: EditIntent,
  particles?: ReadonlyArray<{ id: number; bbox: BBox }>,
): EditResult {
  switch (intent.kind) {
    case 'brush': {
      const label = intent.label !== null && validId(intent.label) ? intent.label : nextLabel(labels);
      return paintStroke(labels, intent.points, intent.radius, label, { overwrite: intent.overwrite });
    }
    case 'erase':
      return paintStroke(labels, intent.points, intent.radius, 0, { only: intent.only });
    case 'delete':
      return deleteParticle(labels, intent.id, bboxOf(particles, intent.id));
    case 'merge':
      return mergeParticles(labels, intent.a, intent.b, {
        bboxA: bboxOf(particles, intent.a),
        bboxB: bboxOf(particles, intent.b),
      });
    case 'split': {
      const id = intent.id ?? particleAlongLine(labels, intent.x0, intent.y0, intent.x1, intent.y1);
      return splitParticle(labels, id, intent.x0, intent.y0, intent.x1, intent.y1, {
        bbox: bboxOf(particles, id),
      });
    }
  }
}

/** Writes one side of a diff into labels. */
function applyDiff(labels: LabelImage, diff: LabelDiff, values: Int32Array, count: number): void {
  const d = labels.data;
  const idx = diff.indices;
  for (let k = 0; k < idx.length; k++) d[idx[k]] = values[k];
  labels.count = count;
}

/**
 * Undo/redo over label diffs. Memory is bounded by `maxBytes` (oldest steps are dropped first), so a
 * long editing session on a large image cannot grow without limit.
 */
export class EditHistory {
  private done: LabelDiff[] = [];
  private undone: LabelDiff[] = [];
  private bytes = 0;

  constructor(
    private readonly maxSteps = 200,
    private readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  /** Records an applied edit; clears the redo stack. Empty diffs are ignored. */
  push(diff: LabelDiff): void {
    if (diff.indices.length === 0 && diff.countBefore === diff.countAfter) return;
    this.done.push(diff);
    this.bytes += diffBytes(diff);
    for (const u of this.undone) this.bytes -= diffBytes(u);
    this.undone = [];
    while (this.done.length > 0 && (this.done.length > this.maxSteps || this.bytes > this.maxBytes)) {
      const old = this.done.shift();
      if (old) this.bytes -= diffBytes(old);
    }
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  get undoSteps(): number {
    return this.done.length;
  }

  get redoSteps(): number {
    return this.undone.length;
  }

  /** Reverts the last edit on `labels`; returns the diff reverted (its pixels changed), or null. */
  undo(labels: LabelImage): LabelDiff | null {
    const diff = this.done.pop();
    if (!diff) return null;
    applyDiff(labels, diff, diff.before, diff.countBefore);
    this.undone.push(diff);
    return diff;
  }

  /** Re-applies the last undone edit; returns its diff, or null. */
  redo(labels: LabelImage): LabelDiff | null {
    const diff = this.undone.pop();
    if (!diff) return null;
    applyDiff(labels, diff, diff.after, diff.countAfter);
    this.done.push(diff);
    return diff;
  }

  clear(): void {
    this.done = [];
    this.undone = [];
    this.bytes = 0;
  }
}

function diffBytes(d: LabelDiff): number {
  return d.indices.byteLength + d.before.byteLength + d.after.byteLength;
}
