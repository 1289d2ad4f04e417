import { encode } from 'fast-png';
import type { GreyF32, LabelImage } from '../raster';
import type { Particle } from '../types';

export type Rgb = [number, number, number];

export interface OverlayOptions {
  /** outline: boundary pixels only; filled: translucent fill; both: fill plus opaque outline. */
  mode: 'outline' | 'filled' | 'both';
  /** Alpha of fills, 0..1 (outlines are opaque). Default 0.35. */
  opacity?: number;
  /** id: a distinct colour per particle (tells touching particles apart); status: one colour per state. */
  colourBy?: 'id' | 'status';
  selectedId?: number | null;
  /** Draw excluded (edge/small) particles, in grey. Default true. */
  showExcluded?: boolean;
  included?: Rgb;
  excluded?: Rgb;
  selected?: Rgb;
}

const INCLUDED: Rgb = [0, 220, 255];
const EXCLUDED: Rgb = [150, 150, 150];
const SELECTED: Rgb = [255, 200, 0];

/** A stable, well-spread colour per id (golden-angle hue steps, full saturation). */
export function labelColour(id: number): Rgb {
  const h = (id * 137.508) % 360;
  const s = 0.85;
  const v = 1;
  const c = v * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = v - c;
  const [r, g, b] =
    h < 60
      ? [c, x, 0]
      : h < 120
        ? [x, c, 0]
        : h < 180
          ? [0, c, x]
          : h < 240
            ? [0, x, c]
            : h < 300
              ? [x, 0, c]
              : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/**
 * RGBA overlay (width x height x 4, transparent where nothing is drawn) for the labels: the app draws
 * it over the micrograph; encodeOverlayPng composites it for export. Labels absent from `particles`
 * are treated as excluded.
 */
export function renderOverlay(
  labels: LabelImage,
  particles: Particle[],
  opts: OverlayOptions,
): Uint8ClampedArray {
  const { width: w, height: h, data } = labels;
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  for (const p of particles) if (p.id > max) max = p.id;
  // Per-label RGBA packed as r | g << 8 | b << 16 | a << 24 for fills and outlines; 0 = draw nothing.
  const fillC = new Uint32Array(max + 1);
  const lineC = new Uint32Array(max + 1);
  const alpha = Math.round(255 * Math.min(1, Math.max(0, opts.opacity ?? 0.35)));
  const showExcluded = opts.showExcluded ?? true;
  const state = new Uint8Array(max + 1).fill(2); // 0 included, 1 selected, 2 excluded/unknown
  for (const p of particles) if (p.excluded === null) state[p.id] = 0;
  if (opts.selectedId != null && opts.selectedId > 0 && opts.selectedId <= max) state[opts.selectedId] = 1;
  const pack = (c: Rgb, a: number) => (c[0] | (c[1] << 8) | (c[2] << 16) | (a << 24)) >>> 0;
  for (let id = 1; id <= max; id++) {
    const st = state[id];
    if (st === 2 && !showExcluded) continue;
    const c: Rgb =
      st === 1
        ? (opts.selected ?? SELECTED)
        : st === 2
          ? (opts.excluded ?? EXCLUDED)
          : opts.colourBy === 'id'
            ? labelColour(id)
            : (opts.included ?? INCLUDED);
    if (opts.mode !== 'outline') fillC[id] = pack(c, alpha);
    if (opts.mode !== 'filled') lineC[id] = pack(c, 255);
  }
  const out = new Uint8ClampedArray(w * h * 4);
  const out32 = new Uint32Array(out.buffer);
  const drawLines = opts.mode !== 'filled';
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      const v = data[i];
      if (v <= 0) continue;
      if (drawLines) {
        // Outline: a 4-neighbour with another label or the image border.
        const edge =
          x === 0 ||
          y === 0 ||
          x === w - 1 ||
          y === h - 1 ||
          data[i - 1] !== v ||
          data[i + 1] !== v ||
          data[i - w] !== v ||
          data[i + w] !== v;
        if (edge && lineC[v] !== 0) {
          out32[i] = lineC[v];
          continue;
        }
      }
      out32[i] = fillC[v];
    }
  }
  // Uint32 packing above assumed little-endian byte order (r first); fix up on big-endian hosts.
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    for (let i = 0; i < out.length; i += 4) {
      const r = out[i],
        g = out[i + 1],
        b = out[i + 2],
        a = out[i + 3];
      out[i] = a;
      out[i + 1] = b;
      out[i + 2] = g;
      out[i + 3] = r;
    }
  }
  return out;
}

/** Overlay alpha-blended over a grey image with values in [0, 1]; returns opaque RGB. */
export function compositeOverGrey(base: GreyF32, overlay: Uint8ClampedArray): Uint8Array {
  const n = base.width * base.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const g = Math.max(0, Math.min(255, Math.round(base.data[i] * 255)));
    const a = overlay[4 * i + 3] / 255;
    out[3 * i] = Math.round(g + (overlay[4 * i] - g) * a);
    out[3 * i + 1] = Math.round(g + (overlay[4 * i + 1] - g) * a);
    out[3 * i + 2] = Math.round(g + (overlay[4 * i + 2] - g) * a);
  }
  return out;
}

/**
 * Overlay PNG for export: composited over the (normalised) micrograph as 8-bit RGB, or the bare overlay
 * as RGBA when no base image is given.
 */
export function encodeOverlayPng(
  base: GreyF32 | null,
  labels: LabelImage,
  particles: Particle[],
  opts: OverlayOptions = { mode: 'outline' },
): Uint8Array {
  const overlay = renderOverlay(labels, particles, opts);
  const { width, height } = labels;
  if (base) {
    if (base.width !== width || base.height !== height)
      throw new RangeError('overlay base image and labels differ in size');
    return encode({ width, height, data: compositeOverGrey(base, overlay), depth: 8, channels: 3 });
  }
  return encode({ width, height, data: new Uint8Array(overlay.buffer), depth: 8, channels: 4 });
}
