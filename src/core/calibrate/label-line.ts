/**
 * The label network's input line, pixel for pixel as models/train/label_line.py makes its training lines (the
 * network was trained on those; tests/label-line.test.ts holds both to the same values): the crop is stretched
 * between its 1st and 99th percentile, shrunk by whole-pixel box averaging while it is at least twice the line
 * height, resized bilinearly to the line height, and padded on the right with its border median to a width that
 * is a multiple of the network's stride.
 */
import { resizeU8, stretchCrop, type GreyU8 } from './label-ocr';

export interface LineGeometry {
  /** Rows of the network's input. */
  height: number;
  /** Horizontal downsampling of the network: the width must be a multiple of it. */
  stride: number;
  minWidth: number;
  maxWidth: number;
}

function boxShrink(img: GreyU8, k: number): GreyU8 {
  const w = Math.floor(img.width / k);
  const h = Math.floor(img.height / k);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < k; dy++)
        for (let dx = 0; dx < k; dx++) s += img.data[(y * k + dy) * img.width + x * k + dx]!;
      out[y * w + x] = Math.round(s / (k * k));
    }
  return { width: w, height: h, data: out };
}

function borderMedian(img: GreyU8): number {
  const { width: w, height: h, data } = img;
  const b: number[] = [];
  for (let x = 0; x < w; x++) b.push(data[x]!, data[(h - 1) * w + x]!);
  for (let y = 0; y < h; y++) b.push(data[y * w]!, data[y * w + w - 1]!);
  b.sort((p, q) => p - q);
  return b[b.length >> 1]!;
}

/** The crop as the network reads it; null for a crop too small to hold a letter. */
export function netLine(crop: GreyU8, g: LineGeometry): GreyU8 | null {
  if (crop.width < 2 || crop.height < 2) return null;
  let a = stretchCrop(crop, { x0: 0, y0: 0, x1: crop.width, y1: crop.height });
  const k = Math.floor(a.height / g.height);
  if (k >= 2 && a.width >= k) a = boxShrink(a, k);
  const w = Math.min(g.maxWidth, Math.max(g.minWidth, Math.round((a.width * g.height) / a.height)));
  a = resizeU8(a, w, g.height);
  const padded = Math.ceil(w / g.stride) * g.stride;
  if (padded === w) return a;
  const fill = borderMedian(a);
  const out = new Uint8Array(padded * g.height).fill(fill);
  for (let y = 0; y < g.height; y++) out.set(a.data.subarray(y * w, (y + 1) * w), y * padded);
  return { width: padded, height: g.height, data: out };
}
