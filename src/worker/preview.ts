/**
 * The micrograph as the page shows it: decoded, turned grey and contrast-stretched once in the worker,
 * kept as 8 bits per pixel (what the cache stores) and sent to the page as an ImageBitmap (transferred).
 */
import { decodeImage } from '../core/decode/index';
import { percentileStretch, toGrey } from '../core/normalise';
import type { Grey8 } from './api';

/** Stretch limits for display: wide enough to look like the original, narrow enough to lift 16-bit data. */
const LOW_PCT = 0.1;
const HIGH_PCT = 99.9;

export function makePreview(bytes: Uint8Array, name: string): Grey8 {
  const decoded = decodeImage(bytes, name);
  const stretched = percentileStretch(toGrey(decoded.raster), LOW_PCT, HIGH_PCT);
  const src = stretched.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.round(src[i] * 255);
  return { width: stretched.width, height: stretched.height, data: out };
}

export function greyToRgba(grey: Grey8): Uint8ClampedArray<ArrayBuffer> {
  const n = grey.width * grey.height;
  const rgba = new Uint8ClampedArray(n * 4);
  // Write whole pixels as one 32-bit word (little-endian ABGR) instead of four byte stores.
  const words = new Uint32Array(rgba.buffer);
  const g = grey.data;
  for (let i = 0; i < n; i++) {
    const v = g[i];
    words[i] = 0xff000000 | (v << 16) | (v << 8) | v;
  }
  return rgba;
}

export function previewBitmap(grey: Grey8): Promise<ImageBitmap> {
  return createImageBitmap(new ImageData(greyToRgba(grey), grey.width, grey.height));
}
