import { decode as decodeJpegLib } from 'jpeg-js';
import type { DecodedImage } from '../types';
import { checkDimensions, inputError, wrapDecoderError, MAX_PIXELS } from './common';

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

interface JpegHeader {
  width: number;
  height: number;
  components: number;
  precision: number;
  /** Offset of the first byte after the first SOS header (entropy-coded data). */
  scanStart: number;
}

/**
 * Reads markers up to the first scan: gives size and component count (jpeg-js always returns RGB,
 * so a greyscale JPEG is recognised here and kept single-channel) and finds where the scan starts.
 */
function readHeader(name: string | undefined, b: Uint8Array): JpegHeader {
  let o = 2;
  let sof: Omit<JpegHeader, 'scanStart'> | null = null;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) throw inputError(name, 'corrupt JPEG (bad marker)');
    const marker = b[o + 1];
    if (marker === 0xff) {
      o++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      o += 2;
      continue;
    }
    const len = (b[o + 2] << 8) | b[o + 3];
    if (o + 2 + len > b.length) break;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (marker === 0xc3 || marker >= 0xc5) {
        throw inputError(name, 'unsupported JPEG variant (lossless/hierarchical/arithmetic coding)');
      }
      sof = {
        precision: b[o + 4],
        height: (b[o + 5] << 8) | b[o + 6],
        width: (b[o + 7] << 8) | b[o + 8],
        components: b[o + 9],
      };
    }
    if (marker === 0xda) {
      if (!sof) throw inputError(name, 'corrupt JPEG (scan before frame header)');
      return { ...sof, scanStart: o + 2 + len };
    }
    if (marker === 0xd9) break;
    o += 2 + len;
  }
  throw inputError(name, 'truncated JPEG (file ends before the image data)');
}

export function decodeJpeg(bytes: Uint8Array, name?: string): DecodedImage {
  const h = readHeader(name, bytes);
  checkDimensions(name, h.width, h.height);
  if (h.precision !== 8) throw inputError(name, `unsupported JPEG variant (${h.precision}-bit samples)`);
  // Entropy-coded data escapes 0xFF as FF00, so FF D9 after the first scan is the real end marker.
  let hasEoi = false;
  for (let i = bytes.length - 2; i >= h.scanStart; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) {
      hasEoi = true;
      break;
    }
  }
  if (!hasEoi) throw inputError(name, 'truncated JPEG (no end-of-image marker)');
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decodeJpegLib(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: 4096,
    });
  } catch (err) {
    throw wrapDecoderError(name, 'JPEG', err);
  }
  const { width, height } = decoded;
  const n = width * height;
  const rgb = decoded.data;
  if (rgb.length < n * 3) throw inputError(name, 'truncated JPEG (image data is short)');
  if (h.components === 1) {
    const grey = new Uint8Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 3) grey[i] = rgb[j];
    return {
      raster: { width, height, data: grey, bitDepth: 8, channels: 1 },
      meta: { format: 'jpeg', bitDepth: 8, channels: 1 },
    };
  }
  return {
    raster: {
      width,
      height,
      data: rgb.length === n * 3 ? rgb : rgb.subarray(0, n * 3),
      bitDepth: 8,
      channels: 3,
    },
    meta: { format: 'jpeg', bitDepth: 8, channels: h.components },
  };
}
