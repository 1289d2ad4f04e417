/**
 * Scene layout: how many particles, which sizes and shapes, and where. Placement uses a uniform
 * grid so that thousands of small particles stay cheap; each image draws its own size
 * distribution (log-normal, sometimes bimodal) and its own arrangement (dispersed, random,
 * agglomerated, densely packed), which is what real micrographs vary in most.
 */
import type { Rng } from './prng';
import { makeShape, type Shape, type ShapeKind } from './shapes';

export type Arrangement = 'dispersed' | 'random' | 'agglomerated' | 'packed';

export interface ScenePlan {
  width: number;
  height: number;
  /** Log-normal size distribution of equivalent-circle diameters (px). */
  medianDiameter: number;
  sigma: number;
  /** Optional second population (bimodal samples). */
  second?: { medianDiameter: number; sigma: number; fraction: number };
  diameterRange: [number, number];
  /** Target fraction of the image covered by particles. */
  coverage: number;
  /** Exact number of particles to attempt (overrides coverage). */
  count?: number;
  maxCount: number;
  kinds: ShapeKind[];
  kindWeights: number[];
  arrangement: Arrangement;
  /** Minimum centre distance as a fraction of the sum of radii: < 1 lets particles overlap. */
  minSeparation: number;
  /** Rods/ellipses share one orientation (+- jitter) when set. */
  alignedAngle: number | null;
  /** Same aspect for every ellipse/rod in the image (monodisperse syntheses). */
  aspect: number | null;
  rodAspect: number | null;
}

export function drawDiameter(plan: ScenePlan, rng: Rng): number {
  let med = plan.medianDiameter;
  let sg = plan.sigma;
  if (plan.second && rng.chance(plan.second.fraction)) {
    med = plan.second.medianDiameter;
    sg = plan.second.sigma;
  }
  const [lo, hi] = plan.diameterRange;
  for (let t = 0; t < 20; t++) {
    const d = med * Math.exp(sg * rng.normal());
    if (d >= lo && d <= hi) return d;
  }
  return Math.min(hi, Math.max(lo, med));
}

export function expectedCount(plan: ScenePlan): number {
  if (plan.count !== undefined) return Math.max(0, Math.min(plan.maxCount, Math.round(plan.count)));
  const m2 = plan.medianDiameter * plan.medianDiameter * Math.exp(2 * plan.sigma * plan.sigma);
  let meanArea = (Math.PI / 4) * m2;
  if (plan.second) {
    const s = plan.second;
    const m2b = s.medianDiameter * s.medianDiameter * Math.exp(2 * s.sigma * s.sigma);
    meanArea = (1 - s.fraction) * meanArea + s.fraction * (Math.PI / 4) * m2b;
  }
  const n = (plan.coverage * plan.width * plan.height) / meanArea;
  return Math.max(1, Math.min(plan.maxCount, Math.round(n)));
}

class Grid {
  private cells: number[][];
  private cols: number;
  private rows: number;
  constructor(
    private x0: number,
    private y0: number,
    w: number,
    h: number,
    private cell: number,
  ) {
    this.cols = Math.max(1, Math.ceil(w / cell));
    this.rows = Math.max(1, Math.ceil(h / cell));
    this.cells = Array.from({ length: this.cols * this.rows }, () => []);
  }
  private key(x: number, y: number): number {
    const cx = Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.x0) / this.cell)));
    const cy = Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.y0) / this.cell)));
    return cy * this.cols + cx;
  }
  add(i: number, x: number, y: number): void {
    this.cells[this.key(x, y)].push(i);
  }
  /** Calls fn for indices in cells within `reach` of (x, y); stops early when fn returns true. */
  any(x: number, y: number, reach: number, fn: (i: number) => boolean): boolean {
    const c0 = Math.max(0, Math.floor((x - reach - this.x0) / this.cell));
    const c1 = Math.min(this.cols - 1, Math.floor((x + reach - this.x0) / this.cell));
    const r0 = Math.max(0, Math.floor((y - reach - this.y0) / this.cell));
    const r1 = Math.min(this.rows - 1, Math.floor((y + reach - this.y0) / this.cell));
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const list = this.cells[r * this.cols + c];
        for (let k = 0; k < list.length; k++) if (fn(list[k])) return true;
      }
    }
    return false;
  }
}

/** Effective radius for collision tests: elongated shapes count with a radius between their
 * half-width and half-length so that rods may lie side by side without vanishing under each other. */
function collisionRadius(s: Shape): number {
  return Math.min(s.bound, 0.5 * (s.bound + s.ecd / 2));
}

/** Places particles; returns shapes in drawing order (later = in front). */
export function layoutScene(plan: ScenePlan, rng: Rng): Shape[] {
  const { width: W, height: H } = plan;
  const n = expectedCount(plan);
  const diam = new Float64Array(n);
  for (let i = 0; i < n; i++) diam[i] = drawDiameter(plan, rng);
  // big ones first so that small ones fill the gaps
  diam.sort().reverse();
  const maxD = diam[0] ?? 10;
  const margin = 0.4 * maxD;
  const grid = new Grid(-margin, -margin, W + 2 * margin, H + 2 * margin, Math.max(8, maxD * 1.2));
  const shapes: Shape[] = [];
  const minSep = plan.minSeparation;
  const attach = plan.arrangement === 'agglomerated' || plan.arrangement === 'packed';
  const attachP = plan.arrangement === 'packed' ? 0.92 : plan.arrangement === 'agglomerated' ? 0.8 : 0;
  const clusterSeeds = Math.max(1, Math.round(n / rng.range(6, 40)));

  for (let i = 0; i < n; i++) {
    const d = diam[i];
    const kind = plan.kinds[rng.weighted(plan.kindWeights)];
    const angle =
      plan.alignedAngle !== null ? plan.alignedAngle + rng.normal() * 0.12 : rng.range(0, Math.PI * 2);
    const proto = makeShape(kind, d, 0, 0, angle, rng, {
      aspect: plan.aspect !== null && kind === 'ellipse' ? plan.aspect : undefined,
      rodAspect: plan.rodAspect ?? undefined,
    });
    const ri = collisionRadius(proto);
    let placed = false;
    for (let attempt = 0; attempt < 40 && !placed; attempt++) {
      let x: number;
      let y: number;
      let sep = minSep;
      if (attach && shapes.length >= Math.min(clusterSeeds, 1 + i) && rng.chance(attachP)) {
        const j =
          shapes.length - 1 - Math.min(shapes.length - 1, Math.floor(rng.next() ** 2 * shapes.length));
        const o = shapes[j];
        const t = rng.range(0, Math.PI * 2);
        const touch = rng.range(Math.max(0.55, minSep), 1.0);
        const dist = (collisionRadius(o) + ri) * touch;
        x = o.cx + Math.cos(t) * dist;
        y = o.cy + Math.sin(t) * dist;
        sep = Math.min(minSep, touch) * 0.95;
      } else {
        x = rng.range(-0.3 * d, W + 0.3 * d);
        y = rng.range(-0.3 * d, H + 0.3 * d);
      }
      if (x < -margin || y < -margin || x > W + margin || y > H + margin) continue;
      const hit = grid.any(x, y, ri + maxD, (k) => {
        const o = shapes[k];
        const dx = o.cx - x;
        const dy = o.cy - y;
        const lim = (collisionRadius(o) + ri) * sep;
        return dx * dx + dy * dy < lim * lim;
      });
      if (hit) continue;
      proto.cx = x;
      proto.cy = y;
      grid.add(shapes.length, x, y);
      shapes.push(proto);
      placed = true;
    }
  }
  // drawing order: random, so neither big nor small particles are always in front
  for (let i = shapes.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = shapes[i];
    shapes[i] = shapes[j];
    shapes[j] = t;
  }
  return shapes;
}
