import { decodeTiffLzw } from './lzw';
import { inflateInto } from './inflate';
import type { Raster } from '../raster';
import type { DecodedImage, TagValue } from '../types';
import {
  bytesToString,
  checkDecodeMemory,
  checkDimensions,
  inputError,
  looksLikeText,
  MAX_SIDE,
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

/** Raw IFD values by 't<tag>': number[] | string[] | Uint8Array (rationals as [num, den] pairs). */
type IfdValue = number[] | string[] | number[][] | Uint8Array;

interface ParsedTiff {
  le: boolean;
  /** First IFD, raw values (the decoder's view). */
  ifd: Record<string, IfdValue>;
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
/**
 * Compressions we decode: none, LZW, Deflate (8 and the old 32946), PackBits. All four codecs are ours or
 * checked by us (lzw.ts, inflate.ts, unpackBits); utif2, used before, left short strips half-filled, dropped
 * over-long Deflate output and let PackBits runs overrun, all without a word.
 */
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
  const ifd: Record<string, IfdValue> = {};
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

function num(ifd: Record<string, IfdValue>, tag: number, dflt: number): number {
  const v = ifd['t' + tag];
  if (!v || v.length === 0 || typeof v[0] !== 'number') return dflt;
  return v[0] as number;
}

function nums(ifd: Record<string, IfdValue>, tag: number): number[] | null {
  const v = ifd['t' + tag];
  if (!v || v instanceof Uint8Array || typeof v[0] !== 'number') return null;
  return v as number[];
}

/** Reverses the bits of every byte (FillOrder 2: the first pixel in the low bit), as libtiff does first. */
function reverseBits(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let v = src[i];
    v = ((v & 0xf0) >> 4) | ((v & 0x0f) << 4);
    v = ((v & 0xcc) >> 2) | ((v & 0x33) << 2);
    out[i] = ((v & 0xaa) >> 1) | ((v & 0x55) << 1);
  }
  return out;
}

/**
 * PackBits (compression 32773) into `out`. A run that crosses the end, or further complete runs once `out` is
 * full, is an overrun; a header byte without its data at the very end is padding (some writers add one).
 */
function unpackBits(src: Uint8Array, out: Uint8Array): { written: number; overrun: boolean } {
  const cap = out.length;
  let i = 0;
  let o = 0;
  while (i < src.length) {
    const h = src[i++];
    if (h === 128) continue; // no-op
    const literal = h < 128;
    const count = literal ? h + 1 : 257 - h;
    const need = literal ? count : 1;
    if (i + need > src.length) {
      // Cut off inside a run: report what it did deliver (a lone header at the end delivers nothing).
      const got = literal ? Math.min(src.length - i, cap - o) : 0;
      out.set(src.subarray(i, i + got), o);
      return { written: o + got, overrun: false };
    }
    if (o + count > cap) return { written: o, overrun: true };
    if (literal) out.set(src.subarray(i, i + count), o);
    else out.fill(src[i], o, o + count);
    i += need;
    o += count;
  }
  return { written: o, overrun: false };
}

interface Layout {
  cmpr: number;
  fillOrder: number;
  predictor: number;
  le: boolean;
  bps: number;
  spp: number;
}

const CODEC_NAMES: Record<number, string> = { 5: 'LZW', 8: 'Deflate', 32946: 'Deflate', 32773: 'PackBits' };

/**
 * Decompresses one strip or tile (`len` bytes at `off`) into `target`, which it must fill at least up to
 * `need` bytes and may fill up to its length (a last strip padded to RowsPerStrip); then undoes the byte
 * order and predictor row by row. Anything else is an error naming the strip or tile.
 */
function decodeBlock(
  name: string | undefined,
  b: Uint8Array,
  off: number,
  len: number,
  target: Uint8Array,
  need: number,
  rowBytes: number,
  what: string,
  L: Layout,
): void {
  let src = b.subarray(off, off + len);
  if (L.fillOrder === 2) src = reverseBits(src);
  const codec = CODEC_NAMES[L.cmpr];
  let written: number;
  const overrun = (): never => {
    throw inputError(
      name,
      `corrupt TIFF (${codec} data of ${what} decodes to more than its ${target.length} bytes)`,
    );
  };
  if (L.cmpr === 1) {
    target.set(src.subarray(0, need));
    written = need;
  } else if (L.cmpr === 5) {
    let r;
    try {
      r = decodeTiffLzw(src, 0, src.length, target, 0);
    } catch (e) {
      throw inputError(name, `corrupt TIFF (LZW data of ${what}: ${(e as Error).message})`);
    }
    if (r.overrun) overrun();
    written = r.written;
  } else if (L.cmpr === 32773) {
    const r = unpackBits(src, target);
    if (r.overrun) overrun();
    written = r.written;
  } else {
    const r = inflateInto([src], target);
    if (r.status === 'long') overrun();
    if (r.status === 'corrupt') throw inputError(name, `corrupt TIFF (Deflate data of ${what}: ${r.detail})`);
    if (r.status === 'truncated') {
      throw inputError(
        name,
        `corrupt TIFF (Deflate data of ${what} is cut off after ${r.written} of its ${need} bytes)`,
      );
    }
    written = r.written;
  }
  if (written < need) {
    throw inputError(
      name,
      `corrupt TIFF (${codec} data of ${what} decodes to ${written} of its ${need} bytes: short or damaged)`,
    );
  }
  const rows = Math.floor(written / rowBytes);
  if (L.bps === 16 && !L.le) {
    // 16-bit samples go little-endian here (the rest of the decoder reads them so); 32-bit are swapped later.
    for (let i = 0; i + 1 < rows * rowBytes; i += 2) {
      const t = target[i];
      target[i] = target[i + 1];
      target[i + 1] = t;
    }
  }
  if (L.predictor === 2) undoPredictor(target, rows, rowBytes, L.bps, L.spp);
}

/** Horizontal differencing (Predictor 2) back to samples, per row and sample; 16-bit already little-endian. */
function undoPredictor(t: Uint8Array, rows: number, rowBytes: number, bps: number, spp: number): void {
  if (bps === 16) {
    const step = 2 * spp;
    for (let y = 0; y < rows; y++) {
      const r = y * rowBytes;
      for (let j = r + step; j + 1 < r + rowBytes; j += 2) {
        const v = (t[j] | (t[j + 1] << 8)) + (t[j - step] | (t[j - step + 1] << 8));
        t[j] = v & 0xff;
        t[j + 1] = (v >>> 8) & 0xff;
      }
    }
  } else if (bps === 8) {
    for (let y = 0; y < rows; y++) {
      const r = y * rowBytes;
      for (let j = r + spp; j < r + rowBytes; j++) t[j] = (t[j] + t[j - spp]) & 0xff;
    }
  }
}

/**
 * Decompresses all strips or tiles into one row-major byte buffer (16-bit samples little-endian). Every
 * offset, count and size is checked against the file and the image before the pixel buffer is allocated.
 */
function readPixels(
  name: string | undefined,
  b: Uint8Array,
  p: ParsedTiff,
  width: number,
  height: number,
  bipp: number,
  extraBytes: number,
  label: string,
): Uint8Array {
  const { ifd } = p;
  const L: Layout = {
    cmpr: num(ifd, 259, 1),
    fillOrder: num(ifd, 266, 1),
    predictor: num(ifd, 317, 1),
    le: p.le,
    bps: bipp / num(ifd, 277, 1),
    spp: num(ifd, 277, 1),
  };
  const tiled = ifd.t322 != null || ifd.t323 != null;
  const offsets = nums(ifd, tiled ? 324 : 273);
  const counts = nums(ifd, tiled ? 325 : 279);
  if (!offsets || offsets.length === 0) throw inputError(name, 'corrupt TIFF (no image data offsets)');
  const rowBytes = Math.ceil((width * bipp) / 8);
  const imageBytes = rowBytes * height;

  const checkSpan = (off: number, len: number, what: string) => {
    if (off + len > b.length)
      throw inputError(
        name,
        `truncated TIFF (${what} ends at byte ${off + len}; the file has ${b.length} bytes)`,
      );
  };

  if (tiled) {
    const tw = num(ifd, 322, 0);
    const th = num(ifd, 323, 0);
    if (tw <= 0 || th <= 0) throw inputError(name, 'corrupt TIFF (zero tile size)');
    const tileRow = Math.ceil((tw * bipp) / 8);
    const tileBytes = tileRow * th;
    // A tile may be larger than a small image (256 x 256 is usual), never absurdly so.
    if (tw > MAX_SIDE || th > MAX_SIDE || tileBytes > Math.max(4 * imageBytes, 16 * 1024 * 1024)) {
      throw inputError(name, `corrupt TIFF (tiles of ${tw}x${th} pixels for a ${width}x${height} image)`);
    }
    if ((tw * bipp) % 8 !== 0)
      throw inputError(name, `unsupported TIFF variant (tile width ${tw} is not a whole number of bytes)`);
    checkDecodeMemory(name, imageBytes + tileBytes + extraBytes, label);
    const tx = Math.ceil(width / tw);
    const ty = Math.ceil(height / th);
    if (offsets.length < tx * ty || (L.cmpr !== 1 && (!counts || counts.length < tx * ty))) {
      throw inputError(name, `corrupt TIFF (${offsets.length} tile offsets for ${tx * ty} tiles)`);
    }
    const lens: number[] = [];
    for (let i = 0; i < tx * ty; i++) {
      const len = L.cmpr === 1 ? tileBytes : counts![i];
      checkSpan(offsets[i], len, `tile ${i + 1} of ${tx * ty}`);
      lens.push(len);
    }
    const out = new Uint8Array(imageBytes);
    const tbuf = new Uint8Array(tileBytes);
    for (let y = 0; y < ty; y++) {
      for (let x = 0; x < tx; x++) {
        const i = y * tx + x;
        const what = `tile ${i + 1} of ${tx * ty}`;
        decodeBlock(name, b, offsets[i], lens[i], tbuf, tileBytes, tileRow, what, L);
        const x0 = (x * tw * bipp) / 8;
        const n = Math.min(tileRow, rowBytes - x0);
        for (let r = 0; r < th && y * th + r < height; r++) {
          out.set(tbuf.subarray(r * tileRow, r * tileRow + n), (y * th + r) * rowBytes + x0);
        }
      }
    }
    return out;
  }

  const rpsTag = num(ifd, 278, height);
  if (rpsTag <= 0) throw inputError(name, 'corrupt TIFF (RowsPerStrip is 0)');
  const rps = Math.min(rpsTag, height);
  const strips = Math.ceil(height / rps);
  const cap = rowBytes * rps;
  checkDecodeMemory(name, imageBytes + (strips > 1 ? cap : 0) + extraBytes, label);
  if (offsets.length < strips)
    throw inputError(name, `truncated TIFF (${offsets.length} strip offsets for ${strips} strips)`);
  if (L.cmpr !== 1 && (!counts || counts.length < strips))
    throw inputError(name, `corrupt TIFF (${counts?.length ?? 0} strip byte counts for ${strips} strips)`);
  const lens: number[] = [];
  for (let i = 0; i < strips; i++) {
    const rows = Math.min(rps, height - i * rps);
    // Uncompressed: trust the geometry, not a byte count that some writers get wrong.
    const len = L.cmpr === 1 ? rowBytes * rows : counts![i];
    checkSpan(offsets[i], len, `strip ${i + 1} of ${strips}`);
    lens.push(len);
  }
  const out = new Uint8Array(imageBytes);
  for (let i = 0; i < strips; i++) {
    const toff = i * cap;
    const need = Math.min(cap, imageBytes - toff);
    // Decode in place; only a last strip padded to RowsPerStrip needs room beyond the image.
    const inPlace = toff + cap <= out.length;
    const target: Uint8Array = inPlace ? out.subarray(toff, toff + cap) : new Uint8Array(cap);
    decodeBlock(name, b, offsets[i], lens[i], target, need, rowBytes, `strip ${i + 1} of ${strips}`, L);
    if (!inPlace) out.set(target.subarray(0, need), toff);
  }
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

  if (photometric === 3) {
    const map = nums(ifd, 320) as number[];
    if (map.length < 3 * 256) {
      throw inputError(
        name,
        `corrupt TIFF (ColorMap holds ${map.length} values; an 8-bit palette needs 768, 256 per colour)`,
      );
    }
  }

  // Buffers the conversion below allocates beside the decoded bytes.
  const n0 = width * height;
  const extraBytes =
    bps === 1
      ? n0
      : photometric === 3
        ? 3 * n0
        : sampleFormat === 2 || (bps === 32 && sampleFormat !== 3)
          ? 4 * n0 * spp
          : 0;
  const kind = sampleFormat === 3 ? ' float' : sampleFormat === 2 ? ' signed' : '';
  const label = `a ${width}x${height} ${bps}-bit${kind} ${spp}-sample TIFF`;
  const pixels = readPixels(name, bytes, p, width, height, bps * spp, extraBytes, label);
  if (bps === 32 && !p.le) swap32(pixels);

  const n = n0;
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
