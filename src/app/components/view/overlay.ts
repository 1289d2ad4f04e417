/**
 * Overlay rasterisation for the image view. The overlay is drawn in tiles so an 8k x 8k label image never
 * needs one 256 MB RGBA buffer, only the visible tiles are rendered, and an edit re-renders only the
 * tiles its bounding box touches. Opacity is applied when compositing (globalAlpha), not here, so the
 * opacity slider never re-renders anything.
 */
import type { Particle } from '../../../core/types';
import type { DrawMode } from './tools';

export const TILE = 1024;

export const STATUS_INCLUDED = 0;
export const STATUS_EDGE = 1;
export const STATUS_SMALL = 2;
/** Ids present in the labels but not (yet) in the particle list, e.g. just painted before remeasure. */
export const STATUS_UNKNOWN = 3;

/** id -> status lookup (typed array, indexed by label value). */
export function particleStatus(particles: readonly Particle[], maxId: number): Uint8Array {
  let m = maxId;
  for (const p of particles) if (p.id > m) m = p.id;
  const s = new Uint8Array(m + 1).fill(STATUS_UNKNOWN);
  for (const p of particles) {
    s[p.id] = p.excluded === 'edge' ? STATUS_EDGE : p.excluded === 'small' ? STATUS_SMALL : STATUS_INCLUDED;
  }
  return s;
}

// 256 well-spread colours (golden-angle hues) for label-coloured mode; id & 255 picks one.
const PALETTE = (() => {
  const p = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const h = (i * 137.508) % 360;
    const [r, g, b] = hsl(h, 0.8, 0.55 + 0.1 * ((i >> 1) & 1));
    p[3 * i] = r;
    p[3 * i + 1] = g;
    p[3 * i + 2] = b;
  }
  return p;
})();

function hsl(h: number, s: number, l: number): [number, number, number] {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = h / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] =
    hp < 1
      ? [c, x, 0]
      : hp < 2
        ? [x, c, 0]
        : hp < 3
          ? [0, c, x]
          : hp < 4
            ? [0, x, c]
            : hp < 5
              ? [x, 0, c]
              : [c, 0, x];
  const m = l - c / 2;
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

export function labelColour(id: number): [number, number, number] {
  const i = (id & 255) * 3;
  return [PALETTE[i], PALETTE[i + 1], PALETTE[i + 2]];
}

// Included particles: bright yellow outline / cyan fill (visible on grey micrographs); excluded ones
// (edge, too small): red, dashed outline and hatched fill, red as in the exported overlay PNG.
const INC_LINE = [255, 214, 10, 255];
const INC_FILL = [0, 190, 255, 120];
const EXC = [255, 70, 70];
// A dark ring on the background side of every outline: a bright line alone vanishes on a bright TEM film,
// a dark one on a dark SEM ground; the pair contrasts with whatever lies beneath, at any opacity.
const HALO = [8, 12, 40, 255];

/**
 * Renders the overlay for the tile at (tx0, ty0) of size tw x th into `out` (tw*th*4 RGBA, cleared here).
 * Outline pixels are particle pixels whose 4-neighbour (or the image edge) has another value; outside the
 * outline (outline and filled modes), background pixels with a particle 4-neighbour carry the dark halo.
 */
export function renderTile(
  labels: Int32Array,
  width: number,
  height: number,
  tx0: number,
  ty0: number,
  tw: number,
  th: number,
  mode: DrawMode,
  status: Uint8Array,
  out: Uint8ClampedArray,
): void {
  out.fill(0);
  const ns = status.length;
  for (let ly = 0; ly < th; ly++) {
    const y = ty0 + ly;
    const row = y * width;
    for (let lx = 0; lx < tw; lx++) {
      const x = tx0 + lx;
      const i = row + x;
      const v = labels[i];
      if (v <= 0) {
        if (mode === 'label') continue;
        const halo =
          (x > 0 && labels[i - 1] > 0) ||
          (x < width - 1 && labels[i + 1] > 0) ||
          (y > 0 && labels[i - width] > 0) ||
          (y < height - 1 && labels[i + width] > 0);
        if (halo) {
          const o = (ly * tw + lx) * 4;
          out[o] = HALO[0];
          out[o + 1] = HALO[1];
          out[o + 2] = HALO[2];
          out[o + 3] = HALO[3];
        }
        continue;
      }
      const edge =
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        labels[i - 1] !== v ||
        labels[i + 1] !== v ||
        labels[i - width] !== v ||
        labels[i + width] !== v;
      const st = v < ns ? status[v] : STATUS_UNKNOWN;
      const excluded = st === STATUS_EDGE || st === STATUS_SMALL;
      const o = (ly * tw + lx) * 4;
      if (excluded) {
        if (edge) {
          // Dashed: 2 on, 2 off along x + y.
          if (((x + y) & 3) < 2) {
            out[o] = EXC[0];
            out[o + 1] = EXC[1];
            out[o + 2] = EXC[2];
            out[o + 3] = 230;
          }
        } else if (mode !== 'outline' && ((x - y) & 7) < 2) {
          out[o] = EXC[0];
          out[o + 1] = EXC[1];
          out[o + 2] = EXC[2];
          out[o + 3] = 150;
        }
        continue;
      }
      if (mode === 'outline') {
        if (!edge) continue;
        out[o] = INC_LINE[0];
        out[o + 1] = INC_LINE[1];
        out[o + 2] = INC_LINE[2];
        out[o + 3] = INC_LINE[3];
      } else if (mode === 'filled') {
        if (edge) {
          out[o] = INC_LINE[0];
          out[o + 1] = INC_LINE[1];
          out[o + 2] = INC_LINE[2];
          out[o + 3] = 255;
        } else {
          out[o] = INC_FILL[0];
          out[o + 1] = INC_FILL[1];
          out[o + 2] = INC_FILL[2];
          out[o + 3] = INC_FILL[3];
        }
      } else {
        const c = (v & 255) * 3;
        out[o] = PALETTE[c];
        out[o + 1] = PALETTE[c + 1];
        out[o + 2] = PALETTE[c + 2];
        out[o + 3] = edge ? 255 : 150;
      }
    }
  }
}

/**
 * One particle's mask as RGBA over its bbox (outline strong, fill light), for the selection / hover /
 * merge highlights drawn above the overlay. Returns null when the id has no pixels in the box.
 */
export function renderParticleMask(
  labels: Int32Array,
  width: number,
  height: number,
  id: number,
  bbox: readonly [number, number, number, number] | null,
  line: readonly [number, number, number],
  fillAlpha: number,
): { data: Uint8ClampedArray; x0: number; y0: number; w: number; h: number } | null {
  let [x0, y0, x1, y1] = bbox ?? [0, 0, width - 1, height - 1];
  x0 = Math.max(0, Math.floor(x0) - 1);
  y0 = Math.max(0, Math.floor(y0) - 1);
  x1 = Math.min(width - 1, Math.ceil(x1) + 1);
  y1 = Math.min(height - 1, Math.ceil(y1) + 1);
  if (x1 < x0 || y1 < y0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const data = new Uint8ClampedArray(w * h * 4);
  let any = false;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * width + x;
      if (labels[i] !== id) continue;
      any = true;
      const edge =
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        labels[i - 1] !== id ||
        labels[i + 1] !== id ||
        labels[i - width] !== id ||
        labels[i + width] !== id;
      const o = ((y - y0) * w + (x - x0)) * 4;
      data[o] = line[0];
      data[o + 1] = line[1];
      data[o + 2] = line[2];
      data[o + 3] = edge ? 255 : fillAlpha;
    }
  }
  return any ? { data, x0, y0, w, h } : null;
}

/** Grey (1 byte/px) or RGBA pixels as an RGBA buffer suitable for ImageData. */
export function toRgba(
  data: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
): Uint8ClampedArray<ArrayBuffer> {
  const n = width * height;
  if (data.length === n * 4) {
    return data instanceof Uint8ClampedArray && data.buffer instanceof ArrayBuffer
      ? (data as Uint8ClampedArray<ArrayBuffer>)
      : new Uint8ClampedArray(data);
  }
  if (data.length !== n) throw new RangeError(`preview has ${data.length} values for ${width}x${height}`);
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const g = data[i];
    out[o] = g;
    out[o + 1] = g;
    out[o + 2] = g;
    out[o + 3] = 255;
  }
  return out;
}

/**
 * Checksum of what a tile shows (label values and their status), so that after an edit only tiles whose
 * content changed are re-rendered, whether the labels came back as a new array or were changed in place.
 */
export function tileHash(
  labels: Int32Array,
  width: number,
  tx0: number,
  ty0: number,
  tw: number,
  th: number,
  status: Uint8Array,
): number {
  let h = 0x811c9dc5 | 0;
  const ns = status.length;
  for (let y = ty0; y < ty0 + th; y++) {
    const row = y * width;
    for (let x = tx0; x < tx0 + tw; x++) {
      const v = labels[row + x];
      const s = v > 0 && v < ns ? status[v] : 0;
      h = Math.imul(h ^ (v * 4 + s), 0x01000193);
    }
  }
  return h;
}
