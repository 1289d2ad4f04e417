/**
 * Particle outlines as approximate signed-distance functions (negative inside, in pixels).
 * The instance mask takes a pixel when the distance at its centre is < 0, and the renderer uses
 * the same distance for anti-aliased coverage, so mask and image agree to the pixel.
 */
import type { Rng } from './prng';

export type ShapeKind = 'sphere' | 'ellipse' | 'blob' | 'flake' | 'polygon' | 'cube' | 'isocube' | 'rod';

export const SHAPE_KINDS: readonly ShapeKind[] = [
  'sphere',
  'ellipse',
  'blob',
  'flake',
  'polygon',
  'cube',
  'isocube',
  'rod',
];

export interface Shape {
  kind: ShapeKind;
  cx: number;
  cy: number;
  cos: number;
  sin: number;
  /** sphere/ellipse: semi-axes; rod: half length of the core segment (a) and radius (b);
   * polygon/cube/isocube: a = inradius, b unused; blob/flake: a = mean radius, b = aspect (<= 1). */
  a: number;
  b: number;
  /** polygon edge normals and offsets in local coordinates; vertex i joins edge i and i + 1. */
  nx?: Float32Array;
  ny?: Float32Array;
  off?: Float32Array;
  vx?: Float32Array;
  vy?: Float32Array;
  /** Corner radius of rounded polygons (px): the outline is the polygon grown by this radius. */
  round: number;
  /** blob radial harmonics: amplitude and phase for k = 2..(2 + n - 1). */
  harmA?: Float32Array;
  harmP?: Float32Array;
  /** Radius of a circle enclosing the shape (placement, bounding box). */
  bound: number;
  /** Depth of the flat-top bevel as a fraction of the inradius (faceted shapes). */
  bevel: number;
  /** Nominal equivalent-circle diameter the shape was built for. */
  ecd: number;
}

/** Outputs of the last evalShape call (module scratch to avoid per-pixel allocation). */
export const scratch = { h: 0, facet: 0, u: 0, v: 0 };

/** Builds a shape of the given kind whose area is close to pi/4 * ecd^2. */
export function makeShape(
  kind: ShapeKind,
  ecd: number,
  cx: number,
  cy: number,
  angle: number,
  rng: Rng,
  opts: { aspect?: number; sides?: number; rodAspect?: number; roundness?: number } = {},
): Shape {
  const area = (Math.PI / 4) * ecd * ecd;
  const s: Shape = {
    kind,
    cx,
    cy,
    cos: Math.cos(angle),
    sin: Math.sin(angle),
    a: ecd / 2,
    b: ecd / 2,
    bound: ecd / 2,
    bevel: 0.25,
    round: 0,
    ecd,
  };
  switch (kind) {
    case 'sphere': {
      const q = opts.aspect ?? rng.range(0.92, 1);
      s.a = Math.sqrt(area / (Math.PI * q));
      s.b = s.a * q;
      s.bound = s.a;
      break;
    }
    case 'ellipse': {
      const q = opts.aspect ?? rng.range(0.45, 0.9);
      s.a = Math.sqrt(area / (Math.PI * q));
      s.b = s.a * q;
      s.bound = s.a;
      break;
    }
    case 'blob':
    case 'flake': {
      // flakes: many harmonics with a 1/k spectrum give ragged, non-convex outlines
      const flake = kind === 'flake';
      const q = opts.aspect ?? (flake ? rng.range(0.55, 1) : rng.range(0.7, 1));
      const n = flake ? 14 : 4;
      s.harmA = new Float32Array(n);
      s.harmP = new Float32Array(n);
      let sq = 0;
      const rough = flake ? rng.range(0.12, 0.3) : 0;
      for (let k = 0; k < n; k++) {
        const amp = flake
          ? (rough * rng.range(0.3, 1)) / Math.pow(k + 1, 1.1)
          : rng.range(0, 0.16) / (1 + k * 0.6);
        s.harmA[k] = amp;
        s.harmP[k] = rng.range(0, Math.PI * 2);
        sq += amp * amp;
      }
      // area of r(t) = R(1 + sum a_k cos) in scaled coordinates is pi R^2 (1 + sum a_k^2 / 2) * q
      s.a = Math.sqrt(area / (Math.PI * q * (1 + sq / 2)));
      s.b = q;
      let maxA = 0;
      for (let k = 0; k < n; k++) maxA += s.harmA[k];
      s.bound = s.a * (1 + maxA);
      break;
    }
    case 'polygon':
    case 'cube': {
      const n = kind === 'cube' ? 4 : (opts.sides ?? rng.pick([3, 5, 6, 6, 7, 8]));
      const jitter = kind === 'cube' ? 0.04 : rng.range(0, 0.25);
      s.nx = new Float32Array(n);
      s.ny = new Float32Array(n);
      s.off = new Float32Array(n);
      const regular = area / (n * Math.tan(Math.PI / n));
      const r0 = Math.sqrt(regular);
      for (let i = 0; i < n; i++) {
        const t = (2 * Math.PI * (i + rng.range(-jitter, jitter) * 0.5)) / n;
        s.nx[i] = Math.cos(t);
        s.ny[i] = Math.sin(t);
        s.off[i] = r0 * (1 + rng.range(-jitter, jitter));
      }
      // exact area of the jittered polygon from its vertices, then rescale to the target area
      const vx = new Float64Array(n);
      const vy = new Float64Array(n);
      let pa = 0;
      for (let i = 0; i < n; i++) {
        const j = (i + 1) % n;
        const det = s.nx[i] * s.ny[j] - s.ny[i] * s.nx[j];
        vx[i] = (s.off[i] * s.ny[j] - s.ny[i] * s.off[j]) / det;
        vy[i] = (s.nx[i] * s.off[j] - s.off[i] * s.nx[j]) / det;
      }
      for (let i = 0; i < n; i++) {
        const j = (i + 1) % n;
        pa += vx[i] * vy[j] - vx[j] * vy[i];
      }
      const scale = Math.sqrt(area / Math.abs(pa / 2));
      let bound = 0;
      for (let i = 0; i < n; i++) {
        s.off[i] *= scale;
        bound = Math.max(bound, Math.hypot(vx[i], vy[i]) * scale);
      }
      s.a = r0 * scale;
      s.bevel = kind === 'cube' ? rng.range(0.08, 0.3) : rng.range(0.15, 0.6);
      s.vx = new Float32Array(n);
      s.vy = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        s.vx[i] = vx[i] * scale;
        s.vy[i] = vy[i] * scale;
      }
      const rho =
        opts.roundness ??
        (rng.chance(kind === 'cube' ? 0.6 : 0.3) ? rng.range(0.05, kind === 'cube' ? 0.4 : 0.2) : 0);
      if (rho > 0) {
        // grow a shrunk copy by r: area(s) = s^2 A + s P r + pi r^2 (Steiner), solved for s
        let per = 0;
        for (let i = 0; i < n; i++) {
          const j = (i + 1) % n;
          per += Math.hypot(s.vx[j] - s.vx[i], s.vy[j] - s.vy[i]);
        }
        const r = rho * s.a;
        const k =
          (-per * r + Math.sqrt(per * per * r * r - 4 * area * (Math.PI * r * r - area))) / (2 * area);
        for (let i = 0; i < n; i++) {
          s.off[i] *= k;
          s.vx[i] *= k;
          s.vy[i] *= k;
        }
        s.round = r;
      }
      s.bound = bound + 1;
      break;
    }
    case 'isocube': {
      // Regular hexagon (a cube seen along its body diagonal): area = 2 sqrt(3) c^2.
      const c = Math.sqrt(area / (2 * Math.sqrt(3)));
      s.a = c;
      s.bound = c / Math.cos(Math.PI / 6) + 1;
      s.nx = new Float32Array(6);
      s.ny = new Float32Array(6);
      s.off = new Float32Array(6);
      for (let i = 0; i < 6; i++) {
        const t = (Math.PI / 3) * i;
        s.nx[i] = Math.cos(t);
        s.ny[i] = Math.sin(t);
        s.off[i] = c;
      }
      s.bevel = 0.06;
      break;
    }
    case 'rod': {
      const ar = opts.rodAspect ?? rng.range(2, 7);
      const b = Math.sqrt(area / (4 * (ar - 1) + Math.PI));
      s.b = b;
      s.a = (ar - 1) * b;
      s.bound = s.a + b;
      break;
    }
  }
  return s;
}

/** Euclidean distance from an outside point to a convex polygon's outline. */
function segmentDistance(s: Shape, u: number, v: number): number {
  const vx = s.vx!;
  const vy = s.vy!;
  const n = vx.length;
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const j = i === 0 ? n - 1 : i - 1;
    const ax = vx[j];
    const ay = vy[j];
    const ex = vx[i] - ax;
    const ey = vy[i] - ay;
    let t = ((u - ax) * ex + (v - ay) * ey) / (ex * ex + ey * ey);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const dx = u - ax - t * ex;
    const dy = v - ay - t * ey;
    const dd = dx * dx + dy * dy;
    if (dd < best) best = dd;
  }
  return Math.sqrt(best);
}

/** Signed distance (px) at image point (x, y); sets scratch.h (0..1 height) and scratch.facet. */
export function evalShape(s: Shape, x: number, y: number): number {
  const dx = x - s.cx;
  const dy = y - s.cy;
  const u = dx * s.cos + dy * s.sin;
  const v = -dx * s.sin + dy * s.cos;
  scratch.u = u;
  scratch.v = v;
  scratch.facet = 0;
  switch (s.kind) {
    case 'sphere':
    case 'ellipse': {
      const a = s.a;
      const b = s.b;
      const f = (u * u) / (a * a) + (v * v) / (b * b);
      const rr = Math.sqrt(f);
      scratch.h = f < 1 ? Math.sqrt(1 - f) : 0;
      const g = Math.sqrt((u * u) / (a * a * a * a) + (v * v) / (b * b * b * b));
      if (g < 1e-9) return -b;
      return ((rr - 1) * rr) / g;
    }
    case 'blob':
    case 'flake': {
      const vs = v / s.b;
      const r = Math.sqrt(u * u + vs * vs);
      const t = Math.atan2(vs, u);
      const ha = s.harmA!;
      const hp = s.harmP!;
      let m = 1;
      for (let k = 0; k < ha.length; k++) m += ha[k] * Math.cos((k + 2) * t + hp[k]);
      const R = s.a * m;
      const q = r / R;
      scratch.h = q < 1 ? Math.sqrt(1 - q * q) : 0;
      // scale back towards pixel units along the minor axis
      return (r - R) * (0.5 + 0.5 * s.b);
    }
    case 'polygon':
    case 'cube':
    case 'isocube': {
      const nx = s.nx!;
      const ny = s.ny!;
      const off = s.off!;
      let d = -1e9;
      let fi = 0;
      for (let i = 0; i < nx.length; i++) {
        const e = u * nx[i] + v * ny[i] - off[i];
        if (e > d) {
          d = e;
          fi = i;
        }
      }
      if (s.kind === 'isocube') {
        // three rhombic faces meeting at the centre: sectors of 120 degrees
        let t = Math.atan2(v, u) + Math.PI / 6;
        if (t < 0) t += 2 * Math.PI;
        scratch.facet = Math.floor(t / ((2 * Math.PI) / 3)) % 3;
      } else {
        scratch.facet = fi;
      }
      if (s.round > 0) {
        if (d > 0) d = segmentDistance(s, u, v);
        d -= s.round;
      }
      const dIn = -d / (s.a * s.bevel);
      scratch.h = dIn <= 0 ? 0 : dIn >= 1 ? 1 : Math.sqrt(1 - (1 - dIn) * (1 - dIn));
      return d;
    }
    case 'rod': {
      const q = Math.abs(u) - s.a;
      const qx = q > 0 ? q : 0;
      const dist = Math.sqrt(qx * qx + v * v);
      const t = dist / s.b;
      scratch.h = t < 1 ? Math.sqrt(1 - t * t) : 0;
      return dist - s.b;
    }
  }
}
