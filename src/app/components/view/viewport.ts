/**
 * The image view's transform, as pure functions over a small value: screen (CSS px) = offset + image (px) * scale.
 * ImageView keeps these numbers in its reactive state and calls these to change them, so the maths can be
 * tested without a DOM.
 */
import { TILE } from './overlay';

export interface Viewport {
  /** CSS pixels per image pixel. */
  scale: number;
  /** Screen position (CSS px) of the image's top-left corner. */
  ox: number;
  oy: number;
  /** The canvas size, CSS px. */
  cw: number;
  ch: number;
  /** The world size, image px (the labels' when present, else the preview's). */
  imageW: number;
  imageH: number;
}

/** Zooming never goes past 64 screen pixels per image pixel. */
export const MAX_SCALE = 64;

/** The scale at which the whole image fits the canvas; 1 while either has no size. */
export function fitScale(v: Viewport): number {
  if (v.imageW === 0 || v.imageH === 0 || v.cw === 0 || v.ch === 0) return 1;
  return Math.min(v.cw / v.imageW, v.ch / v.imageH);
}

/** The whole image, centred. */
export function fitView(v: Viewport): Viewport {
  const s = fitScale(v);
  return { ...v, scale: s, ox: (v.cw - v.imageW * s) / 2, oy: (v.ch - v.imageH * s) / 2 };
}

/** Zoom out at most to a quarter of the fit (or of 1:1, for an image smaller than the canvas). */
export function clampScale(v: Viewport, s: number): number {
  const lo = Math.min(fitScale(v), 1) / 4;
  return Math.max(lo, Math.min(MAX_SCALE, s));
}

export function toImage(v: Viewport, sx: number, sy: number): { ix: number; iy: number } {
  return { ix: (sx - v.ox) / v.scale, iy: (sy - v.oy) / v.scale };
}

export function toScreen(v: Viewport, ix: number, iy: number): { sx: number; sy: number } {
  return { sx: v.ox + ix * v.scale, sy: v.oy + iy * v.scale };
}

/** Zoom by `factor` (clamped) keeping the screen point (sx, sy) over the same image point. */
export function zoomAt(v: Viewport, factor: number, sx = v.cw / 2, sy = v.ch / 2): Viewport {
  const s = clampScale(v, v.scale * factor);
  const { ix, iy } = toImage(v, sx, sy);
  return { ...v, scale: s, ox: sx - ix * s, oy: sy - iy * s };
}

/**
 * The view that shows a particle's bbox [x0, y0, x1, y1) with `margin` CSS px around it, centred on (cx, cy),
 * zooming out only if it would not fit; null when it is already in view.
 */
export function bringIntoView(
  v: Viewport,
  bbox: readonly [number, number, number, number],
  cx: number,
  cy: number,
  margin = 24,
): Viewport | null {
  const [x0, y0, x1, y1] = bbox;
  const a = toScreen(v, x0, y0);
  const b = toScreen(v, x1, y1);
  if (a.sx >= margin && a.sy >= margin && b.sx <= v.cw - margin && b.sy <= v.ch - margin) return null;
  const need = Math.min(
    (v.cw - 2 * margin) / Math.max(1, x1 - x0),
    (v.ch - 2 * margin) / Math.max(1, y1 - y0),
  );
  const scale = v.scale > need ? clampScale(v, need) : v.scale;
  return { ...v, scale, ox: v.cw / 2 - cx * scale, oy: v.ch / 2 - cy * scale };
}

/** The visible part of the image in whole image pixels [x0, y0, x1, y1), or null when none is. */
export function visibleRect(v: Viewport): [number, number, number, number] | null {
  const s = v.scale;
  const x0 = Math.max(0, Math.floor(-v.ox / s));
  const y0 = Math.max(0, Math.floor(-v.oy / s));
  const x1 = Math.min(v.imageW, Math.ceil((v.cw - v.ox) / s));
  const y1 = Math.min(v.imageH, Math.ceil((v.ch - v.oy) / s));
  return x1 > x0 && y1 > y0 ? [x0, y0, x1, y1] : null;
}

/** Overlay tile `key` (row-major, `cols` per row) of a width x height image: [x0, y0, w, h]. */
export function tileRect(
  key: number,
  cols: number,
  width: number,
  height: number,
): [number, number, number, number] {
  const x0 = (key % cols) * TILE;
  const y0 = ((key / cols) | 0) * TILE;
  return [x0, y0, Math.min(TILE, width - x0), Math.min(TILE, height - y0)];
}

/** A tile's part inside the visible rectangle: the key, and [x0, y0, x1, y1) in image pixels. */
export interface TileClip {
  key: number;
  tx: number;
  ty: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The tiles that meet the visible rectangle, each clipped to it, in drawing order. */
export function visibleTiles(
  vis: readonly [number, number, number, number],
  cols: number,
  width: number,
  height: number,
): TileClip[] {
  const [vx0, vy0, vx1, vy1] = vis;
  const out: TileClip[] = [];
  for (let ty = Math.floor(vy0 / TILE); ty * TILE < vy1; ty++) {
    for (let tx = Math.floor(vx0 / TILE); tx * TILE < vx1; tx++) {
      out.push({
        key: ty * cols + tx,
        tx,
        ty,
        x0: Math.max(vx0, tx * TILE),
        y0: Math.max(vy0, ty * TILE),
        x1: Math.min(vx1, (tx + 1) * TILE, width),
        y1: Math.min(vy1, (ty + 1) * TILE, height),
      });
    }
  }
  return out;
}
