/**
 * The micrograph as the page shows it: the pipeline's grey image contrast-stretched once in the worker (no
 * second decode), kept as 8 bits per pixel (what the cache stores and the overlay export draws on) and sent to
 * the page as an ImageBitmap (transferred) no larger than a screen needs.
 */
import type { GreyF32 } from '../core/raster';
import { stretchToBytes } from '../core/normalise';
import type { Grey8 } from './api';

/** Stretch limits for display: wide enough to look like the original, narrow enough to lift 16-bit data. */
const LOW_PCT = 0.1;
const HIGH_PCT = 99.9;
/**
 * Longest side of the bitmap the page draws (px). Larger images are drawn from a downscaled bitmap (the view
 * scales it to the image's size): an 8192 x 8192 RGBA bitmap alone is 256 MB, and no screen shows that many
 * pixels at once. The full-size 8-bit preview stays in the worker for the overlay export.
 */
export const MAX_BITMAP_SIDE = 4096;

export function previewFromGrey(grey: GreyF32): Grey8 {
  return { width: grey.width, height: grey.height, data: stretchToBytes(grey, LOW_PCT, HIGH_PCT) };
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

/** Size of the bitmap for an image of w x h: the image's own, or scaled to fit MAX_BITMAP_SIDE. */
export function bitmapSize(w: number, h: number): { width: number; height: number } {
  const s = Math.min(1, MAX_BITMAP_SIDE / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

export function previewBitmap(grey: Grey8): Promise<ImageBitmap> {
  const image = new ImageData(greyToRgba(grey), grey.width, grey.height);
  const { width, height } = bitmapSize(grey.width, grey.height);
  if (width === grey.width && height === grey.height) return createImageBitmap(image);
  return createImageBitmap(image, { resizeWidth: width, resizeHeight: height, resizeQuality: 'medium' });
}
