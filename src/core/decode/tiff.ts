import UTIF from 'utif2';
import { decodeTiffLzw } from './lzw';
import type { Raster } from '../raster';
import type { DecodedImage, TagValue } from '../types';
import {
  bytesToString,
  checkDimensions,
  exactBuffer,
  inputError,
  looksLikeText,
  wrapDecoderError,
} from './common';

export function isTiff(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const le = b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0;
  const be = b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42;
  return le || be;
}

export function isBigTiff(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  return (b[0] === 0x49 && b[1] === 0x49 && b[2] === 43) || (b[0] === 0x4d && b[1] === 0x4d && b[3] === 43);
}

/** utif2's own IFD shape: 't<tag>' -> number[] | string[] | Uint8Array (rationals as [num, den] pairs). */
type UtifValue = number[] | string[] | number[][] | Uint8Array;
type UtifIfd = Record<string, unknown> & {
  width?: number;
  height?: number;
  data?: Uint8Array;
  isLE?: boolean;
};

interface ParsedTiff {
  le: boolean;
  /** First IFD in utif2's representation, handed to its decompressors. */
  ifd: Record<string, UtifValue>;
  /** First IFD as exposed in ImageMeta.tiffTags. */
  tags: Record<number, TagValue>;
  pages: number;
}

const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

const COMPRESSION_NAMES: Record<number, string> = {
  2: 'CCITT RLE',
  3: 'CCITT fax 3',
  4: 'CCITT fax 4',
  6: 'old-style JPEG',
  7: 'JPEG',
  9: 'JBIG',
  34661: 'JBIG',
  34712: 'JPEG 2000',
  34887: 'LERC',
  34925: 'LZMA',
  50000: 'Zstandard',
  50001: 'WebP',
};
/** Compressions utif2 decodes faithfully for the sample layouts we accept. */
const SUPPORTED_COMPRESSION = new Set([1, 5, 8, 32946, 32773]);

/**
 * Reads the IFD chain ourselves (bounds-checked, cycle-safe) rather than through UTIF.decode, which loops
 * forever on a circular IFD chain, reads past the end of truncated files silently, and logs to the console.
 */
function parseTiff(name: string | undefined, b: Uint8Array): ParsedTiff {
  const le = b[0] === 0x49;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  if (b.length < 8) throw inputError(name, 'truncated TIFF (file ends inside the header)');
  const first = u32(4);
  if (first < 8 || first + 2 > b.length)
    throw inputError(name, 'truncated TIFF (first directory is past the end of the file)');

  const cnt = u16(first);
  if (first + 2 + cnt * 12 + 4 > b.length)
    throw inputError(name, 'truncated TIFF (file ends inside the first directory)');
  const ifd: Record<string, UtifValue> = {};
  const tags: Record<number, TagValue> = {};
  for (let i = 0; i < cnt; i++) {
    const e = first + 2 + i * 12;
    const tag = u16(e);
    const type = u16(e + 2);
    const num = u32(e + 4);
    const size = TYPE_SIZE[type] ?? 0;
    if (size === 0) continue; // unknown type: skip as libtiff does
    const bytes = size * num;
    const off = bytes <= 4 ? e + 8 : u32(e + 8);
    if (off + bytes > b.length) {
      throw inputError(name, `truncated TIFF (tag ${tag} points past the end of the file)`);
    }
    if (type === 1 || type === 6 || type === 7) {
      const raw = b.subarray(off, off + num);
      ifd['t' + tag] = raw;
      tags[tag] = raw.length >= 4 && looksLikeText(raw, raw.length) ? cleanText(raw) : raw.slice();
    } else if (type === 2) {
      const s = cleanText(b.subarray(off, off + num));
      ifd['t' + tag] = [s];
      tags[tag] = s;
    } else if (type === 5 || type === 10) {
      const pairs: number[][] = [];
      const vals: number[] = [];
      for (let j = 0; j < num; j++) {
        const n = type === 5 ? u32(off + 8 * j) : dv.getInt32(off + 8 * j, le);
        const d = type === 5 ? u32(off + 8 * j + 4) : dv.getInt32(off + 8 * j + 4, le);
        pairs.push([n, d]);
        vals.push(d === 0 ? NaN : n / d);
      }
      ifd['t' + tag] = pairs;
      tags[tag] = vals.length === 1 ? vals[0] : vals;
    } else {
      const vals: number[] = new Array(num);
      for (let j = 0; j < num; j++) {
        const o = off + size * j;
        switch (type) {
          case 3:
            vals[j] = u16(o);
            break;
          case 4:
          case 13:
            vals[j] = u32(o);
            break;
          case 8:
            vals[j] = dv.getInt16(o, le);
            break;
          case 9:
            vals[j] = dv.getInt32(o, le);
            break;
          case 11:
            vals[j] = dv.getFloat32(o, le);
            break;
          default:
            vals[j] = dv.getFloat64(o, le);
        }
      }
      ifd['t' + tag] = vals;
      tags[tag] = vals.length === 1 ? vals[0] : vals;
    }
  }

  // Count pages; a broken link after the first page costs nothing but the count.
  let pages = 1;
  const seen = new Set<number>([first]);
  let next = u32(first + 2 + cnt * 12);
  while (next !== 0 && next + 2 <= b.length && !seen.has(next) && pages < 100000) {
    seen.add(next);
    const c = u16(next);
    if (next + 2 + c * 12 + 4 > b.length) break;
    pages++;
    next = u32(next + 2 + c * 12);
  }
  return { le, ifd, tags, pages };
}

function cleanText(raw: Uint8Array): string {
  return bytesToString(raw).replace(/\0+/g, '\n');
}

function num(ifd: Record<string, UtifValue>, tag: number, dflt: number): number {
  const v = ifd['t' + tag];
  if (!v || v.length === 0 || typeof v[0] !== 'number') return dflt;
  return v[0] as number;
}

function nums(ifd: Record<string, UtifValue>, tag: number): number[] | null {
  const v = ifd['t' + tag];
  if (!v || v instanceof Uint8Array || typeof v[0] !== 'number') return null;
  return v as number[];
}

interface UtifInternals {
  decode: {
    _decompress: (
      img: UtifIfd,
      ifds: UtifIfd[],
      data: Uint8Array,
      off: number,
      len: number,
      cmpr: number,
      tgt: Uint8Array,
      toff: number,
      fo: number,
      w: number,
      h: number,
    ) => void;
    _decodeLZW: (data: Uint8Array, off: number, len: number, tgt: Uint8Array, toff: number) => void;
  };
  _copyTile: (
    tb: Uint8Array,
    tw: number,
    th: number,
    b: Uint8Array,
    w: number,
    h: number,
    x: number,
    y: number,
  ) => void;
}

// utif2's LZW codec never returns on some corrupt streams (see lzw.ts); its byte-order and predictor steps,
// which run after the codec inside _decompress, are kept.
(UTIF as unknown as UtifInternals).decode._decodeLZW = (data, off, len, tgt, toff) =>
  void decodeTiffLzw(data, off, len, tgt, toff);

/** Decompresses all strips or tiles into one row-major byte buffer (16-bit samples little-endian). */
function readPixels(
  name: string | undefined,
  b: Uint8Array,
  p: ParsedTiff,
  width: number,
  height: number,
  bipp: number,
): Uint8Array {
  const { ifd } = p;
  const cmpr = num(ifd, 259, 1);
  const fillOrder = num(ifd, 266, 1);
  const tiled = ifd.t322 != null;
  const offsets = nums(ifd, tiled ? 324 : 273);
  const counts = nums(ifd, tiled ? 325 : 279);
  if (!offsets || offsets.length === 0) throw inputError(name, 'corrupt TIFF (no image data offsets)');
  const rowBytes = Math.ceil((width * bipp) / 8);
  const out = new Uint8Array(rowBytes * height);
  const buf = new Uint8Array(exactBuffer(b));
  const img: UtifIfd = { ...ifd, width, height, isLE: p.le };
  const U = UTIF as unknown as UtifInternals;

  const checkSpan = (off: number, len: number) => {
    if (off + len > b.length)
      throw inputError(name, `truncated TIFF (image data ends at byte ${b.length}, needs ${off + len})`);
  };

  if (tiled) {
    const tw = num(ifd, 322, 0);
    const th = num(ifd, 323, 0);
    if (tw <= 0 || th <= 0) throw inputError(name, 'corrupt TIFF (zero tile size)');
    const tx = Math.ceil(width / tw);
    const ty = Math.ceil(height / th);
    if (offsets.length < tx * ty || !counts || counts.length < tx * ty) {
      throw inputError(name, 'corrupt TIFF (missing tiles)');
    }
    const tileRow = Math.ceil((tw * bipp) / 8);
    const tbuf = new Uint8Array(tileRow * th);
    for (let y = 0; y < ty; y++) {
      for (let x = 0; x < tx; x++) {
        const i = y * tx + x;
        checkSpan(offsets[i], counts[i]);
        tbuf.fill(0);
        U.decode._decompress(img, [img], buf, offsets[i], counts[i], cmpr, tbuf, 0, fillOrder, tw, th);
        U._copyTile(tbuf, tileRow, th, out, rowBytes, height, Math.ceil((x * tw * bipp) / 8), y * th);
      }
    }
    return out;
  }

  const rps = Math.min(num(ifd, 278, height), height);
  let toff = 0;
  const strip = new Uint8Array(rowBytes * rps);
  for (let i = 0; i < offsets.length && toff < out.length; i++) {
    const rows = Math.min(rps, height - i * rps);
    const need = rowBytes * rows;
    // Uncompressed: trust the geometry, not a byte count that some writers get wrong.
    const len = cmpr === 1 ? need : counts && counts[i] != null ? counts[i] : need;
    checkSpan(offsets[i], len);
    // A full-height strip buffer: some writers pad the last strip to RowsPerStrip rows.
    strip.fill(0);
    U.decode._decompress(img, [img], buf, offsets[i], len, cmpr, strip, 0, fillOrder, width, rows);
    out.set(strip.subarray(0, need), toff);
    toff += need;
  }
  if (toff < out.length) throw inputError(name, 'truncated TIFF (fewer strips than rows)');
  return out;
}

function swap32(a: Uint8Array): void {
  for (let i = 0; i + 3 < a.length; i += 4) {
    let t = a[i];
    a[i] = a[i + 3];
    a[i + 3] = t;
    t = a[i + 1];
    a[i + 1] = a[i + 2];
    a[i + 2] = t;
  }
}

export function decodeTiff(bytes: Uint8Array, name?: string): DecodedImage {
  if (isBigTiff(bytes)) throw inputError(name, 'unsupported TIFF variant (BigTIFF); save as a classic TIFF');
  const p = parseTiff(name, bytes);
  const { ifd } = p;
  const width = num(ifd, 256, 0);
  const height = num(ifd, 257, 0);
  checkDimensions(name, width, height);

  const cmpr = num(ifd, 259, 1);
  if (!SUPPORTED_COMPRESSION.has(cmpr)) {
    const what = COMPRESSION_NAMES[cmpr] ?? `code ${cmpr}`;
    throw inputError(
      name,
      `unsupported TIFF variant (compression ${what}); save as uncompressed, LZW or Deflate TIFF`,
    );
  }
  const spp = num(ifd, 277, 1);
  const bpsList = nums(ifd, 258) ?? [1];
  const bps = bpsList[0];
  if (bpsList.some((v) => v !== bps))
    throw inputError(name, `unsupported TIFF variant (mixed bits per sample ${bpsList.join('/')})`);
  const sampleFormat = num(ifd, 339, 1);
  const photometric = num(ifd, 262, spp >= 3 ? 2 : 1);
  const planar = num(ifd, 284, 1);
  const predictor = num(ifd, 317, 1);

  if (spp < 1 || spp > 4) throw inputError(name, `unsupported TIFF variant (${spp} samples per pixel)`);
  if (planar === 2 && spp > 1)
    throw inputError(name, 'unsupported TIFF variant (planar configuration 2, separate colour planes)');
  if (![1, 8, 16, 32].includes(bps))
    throw inputError(name, `unsupported TIFF variant (${bps} bits per sample)`);
  if (bps === 1 && spp !== 1) throw inputError(name, 'unsupported TIFF variant (1-bit colour)');
  if (sampleFormat === 3 && bps !== 32)
    throw inputError(name, `unsupported TIFF variant (${bps}-bit floating point)`);
  if (sampleFormat !== 1 && sampleFormat !== 2 && sampleFormat !== 3 && sampleFormat !== 4) {
    throw inputError(name, `unsupported TIFF variant (sample format ${sampleFormat})`);
  }
  if (predictor === 3) throw inputError(name, 'unsupported TIFF variant (floating-point predictor)');
  if (predictor === 2 && bps === 32)
    throw inputError(name, 'unsupported TIFF variant (horizontal predictor on 32-bit samples)');
  if (![0, 1, 2, 3].includes(photometric)) {
    const names: Record<number, string> = { 4: 'transparency mask', 5: 'CMYK', 6: 'YCbCr', 8: 'CIE L*a*b*' };
    throw inputError(
      name,
      `unsupported TIFF variant (${names[photometric] ?? `photometric ${photometric}`} colour)`,
    );
  }
  if (photometric === 2 && spp < 3) throw inputError(name, 'corrupt TIFF (RGB with fewer than 3 samples)');
  if (photometric === 3 && (bps !== 8 || spp !== 1 || !nums(ifd, 320))) {
    throw inputError(name, 'unsupported TIFF variant (palette image that is not 8-bit with a colour map)');
  }

  let pixels: Uint8Array;
  try {
    pixels = readPixels(name, bytes, p, width, height, bps * spp);
  } catch (err) {
    throw wrapDecoderError(name, 'TIFF', err);
  }
  if (bps === 32 && !p.le) swap32(pixels);

  const n = width * height;
  const channels = (photometric === 3 ? 3 : spp) as 1 | 2 | 3 | 4;
  let raster: Raster;
  if (bps === 1) {
    const out = new Uint8Array(n);
    const rowBytes = Math.ceil(width / 8);
    const on = photometric === 0 ? 0 : 255;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = (pixels[y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1;
        out[y * width + x] = bit ? on : 255 - on;
      }
    }
    raster = { width, height, data: out, bitDepth: 8, channels: 1 };
  } else if (photometric === 3) {
    const map = nums(ifd, 320) as number[];
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const v = pixels[i];
      out[3 * i] = map[v] >> 8;
      out[3 * i + 1] = map[256 + v] >> 8;
      out[3 * i + 2] = map[512 + v] >> 8;
    }
    raster = { width, height, data: out, bitDepth: 8, channels: 3 };
  } else if (bps === 8) {
    const data =
      sampleFormat === 2 ? toFloat(new Int8Array(pixels.buffer, 0, n * spp)) : pixels.subarray(0, n * spp);
    raster = { width, height, data, bitDepth: sampleFormat === 2 ? 32 : 8, channels };
  } else if (bps === 16) {
    const u = new Uint16Array(pixels.buffer, 0, n * spp);
    const data = sampleFormat === 2 ? toFloat(new Int16Array(pixels.buffer, 0, n * spp)) : u;
    raster = { width, height, data, bitDepth: sampleFormat === 2 ? 32 : 16, channels };
  } else {
    const data =
      sampleFormat === 3
        ? new Float32Array(pixels.buffer, 0, n * spp)
        : toFloat(
            sampleFormat === 2
              ? new Int32Array(pixels.buffer, 0, n * spp)
              : new Uint32Array(pixels.buffer, 0, n * spp),
          );
    raster = { width, height, data, bitDepth: 32, channels };
  }
  if (photometric === 0 && channels === 1 && bps !== 1) invert(raster);

  return {
    raster,
    meta: { format: 'tiff', bitDepth: bps, channels: spp, pages: p.pages, tiffTags: p.tags },
  };
}

function toFloat(a: Int8Array | Int16Array | Int32Array | Uint32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

/** WhiteIsZero: flip so that bright means bright everywhere downstream. */
function invert(r: Raster): void {
  const d = r.data;
  if (d instanceof Float32Array) {
    for (let i = 0; i < d.length; i++) d[i] = -d[i];
  } else {
    const max = r.bitDepth === 16 ? 65535 : 255;
    for (let i = 0; i < d.length; i++) d[i] = max - d[i];
  }
}
