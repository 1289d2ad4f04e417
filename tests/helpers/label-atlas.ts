/**
 * Scale-bar label texts rendered in real fonts (DejaVu Sans, Liberation Sans/Serif, FreeSans, DejaVu Sans Mono
 * Bold from Debian's font packages) by tests/fixtures/labels/render.py into a committed coverage atlas, with
 * other data-bar fields ("SEI 5.0kV") that are not labels.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';

interface Entry {
  font: string;
  size: number;
  text: string;
  x: number;
  y: number;
  w: number;
  h: number;
  /** A data-bar field ("SEI 5.0kV"), not a scale label. */
  field?: boolean;
}

const dir = path.resolve(import.meta.dirname, '../fixtures/labels');
const entries = JSON.parse(readFileSync(path.join(dir, 'atlas.json'), 'utf8')) as Entry[];
const atlas = decode(readFileSync(path.join(dir, 'atlas.png')));

export const ATLAS_FONTS = [...new Set(entries.map((e) => e.font))];
export const ATLAS_TEXTS = [...new Set(entries.filter((e) => !e.field).map((e) => e.text))];
export const ATLAS_FIELDS = [...new Set(entries.filter((e) => e.field).map((e) => e.text))];
export const ATLAS_SIZES = [...new Set(entries.map((e) => e.size))];

/** Ink coverage 0..1 of `text` in `font` at `size` px. */
export interface RenderedText {
  width: number;
  height: number;
  coverage: Float32Array;
}

export function atlasText(font: string, size: number, text: string): RenderedText {
  const e = entries.find((k) => k.font === font && k.size === size && k.text === text);
  if (!e) throw new Error(`no rendering of "${text}" in ${font} ${size} px`);
  const coverage = new Float32Array(e.w * e.h);
  const ch = atlas.channels;
  for (let y = 0; y < e.h; y++)
    for (let x = 0; x < e.w; x++)
      coverage[y * e.w + x] = atlas.data[((e.y + y) * atlas.width + e.x + x) * ch]! / 255;
  return { width: e.w, height: e.h, coverage };
}

/** Blends the text into a float image at (x, y) with ink level `ink`. */
export function drawText(
  img: { width: number; height: number; data: Float32Array },
  t: RenderedText,
  x: number,
  y: number,
  ink: number,
): void {
  for (let j = 0; j < t.height; j++)
    for (let i = 0; i < t.width; i++) {
      const px = x + i;
      const py = y + j;
      if (px < 0 || py < 0 || px >= img.width || py >= img.height) continue;
      const a = t.coverage[j * t.width + i]!;
      const k = py * img.width + px;
      img.data[k] = img.data[k]! * (1 - a) + ink * a;
    }
}
