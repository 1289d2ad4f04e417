import { convertIndexedToRgb, decode as decodePngLib } from 'fast-png';
import type { DecodedPng } from 'fast-png';
import type { Raster } from '../raster';
import type { DecodedImage } from '../types';
import { checkDimensions, inputError, wrapDecoderError } from './common';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Uint8Array): boolean {
  if (b.length < 8) return false;
  for (let i = 0; i < 8; i++) if (b[i] !== SIGNATURE[i]) return false;
  return true;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/**
 * Walks the chunk list before decoding: the header gives the size (so absurd dimensions are refused
 * before allocating), and a chunk running past the end of the file or a missing IEND means truncation,
 * which fast-png would otherwise report obscurely or not at all.
 */
function scanChunks(name: string | undefined, b: Uint8Array): { width: number; height: number } {
  if (b.length < 33) throw inputError(name, 'truncated PNG (file ends inside the header)');
  if (readU32(b, 12) !== 0x49484452) throw inputError(name, 'corrupt PNG (first chunk is not IHDR)');
  const width = readU32(b, 16);
  const height = readU32(b, 20);
  checkDimensions(name, width, height);
  let o = 8;
  let sawData = false;
  while (o + 8 <= b.length) {
    const len = readU32(b, o);
    const type = readU32(b, o + 4);
    if (o + 12 + len > b.length) {
      throw inputError(name, `truncated PNG (file ends inside a chunk, ${b.length} bytes)`);
    }
    if (type === 0x49444154) sawData = true;
    if (type === 0x49454e44) return { width, height };
    o += 12 + len;
  }
  throw inputError(name, sawData ? 'truncated PNG (no IEND chunk)' : 'truncated PNG (no image data)');
}

/** Spreads 1/2/4-bit grey samples to 8 bits (0..255), so the rest of the core sees one layout. */
function unpackLowDepth(png: DecodedPng): Uint8Array {
  const { width, height, depth, channels } = png;
  const src = png.data as Uint8Array;
  const out = new Uint8Array(width * height * channels);
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const maxV = (1 << depth) - 1;
  const scale = 255 / maxV;
  for (let y = 0; y < height; y++) {
    let bit = y * rowBytes * 8;
    const base = y * perRow;
    for (let i = 0; i < perRow; i++, bit += depth) {
      const byte = src[bit >> 3];
      const v = (byte >> (8 - depth - (bit & 7))) & maxV;
      out[base + i] = Math.round(v * scale);
    }
  }
  return out;
}

export function decodePng(bytes: Uint8Array, name?: string): DecodedImage {
  scanChunks(name, bytes);
  let png: DecodedPng;
  try {
    png = decodePngLib(bytes, { checkCrc: false });
  } catch (err) {
    throw wrapDecoderError(name, 'PNG', err);
  }
  checkDimensions(name, png.width, png.height);
  let raster: Raster;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    const channels = png.palette[0].length as 3 | 4;
    raster = { width: png.width, height: png.height, data: rgb, bitDepth: 8, channels };
  } else {
    const channels = png.channels as 1 | 2 | 3 | 4;
    if (png.depth === 16) {
      raster = {
        width: png.width,
        height: png.height,
        data: png.data as Uint16Array,
        bitDepth: 16,
        channels,
      };
    } else {
      const data =
        png.depth === 8
          ? new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length)
          : unpackLowDepth(png);
      raster = { width: png.width, height: png.height, data, bitDepth: 8, channels };
    }
  }
  const expected = raster.width * raster.height * raster.channels;
  if (raster.data.length < expected) throw inputError(name, 'truncated PNG (image data is short)');
  return {
    raster,
    meta: {
      format: 'png',
      bitDepth: png.depth,
      channels: png.palette ? png.palette[0].length : png.channels,
    },
  };
}
