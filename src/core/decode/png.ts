/**
 * PNG decoder: our own chunk reader, unfilter and de-interlace over fflate's inflate (see inflate.ts).
 *
 * We used fast-png before. It accepted a palette image without PLTE (an all-black picture), passed library
 * words through ("Unsupported filter: undefined/241", "Error while decompressing the data:"), inflated every
 * iCCP profile whatever its size and the image data without a bound. Making it strict would have meant
 * re-doing each of its steps beside it, so the steps are here, each checked:
 * - critical chunks (IHDR, PLTE, IDAT, IEND) and tRNS are CRC-checked; ancillary chunks are skipped unread
 *   (never inflated: iCCP, zTXt, iTXt cannot be bombs here); an unknown critical chunk is refused, as the
 *   PNG specification requires;
 * - the header's bit depth, colour type, compression, filter and interlace methods are validated, and the
 *   memory the decode needs is checked before anything is allocated;
 * - the image data must inflate to exactly the byte count the header implies, every row filter must be 0-4
 *   and every palette index must exist.
 * fast-png stays in the project for writing PNGs (label images, overlays), which it does well.
 */
import type { Raster } from '../raster';
import type { DecodedImage } from '../types';
import { checkDecodeMemory, checkDimensions, inputError } from './common';
import { inflateInto } from './inflate';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Uint8Array): boolean {
  if (b.length < 8) return false;
  for (let i = 0; i < 8; i++) if (b[i] !== SIGNATURE[i]) return false;
  return true;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 over b[from, to) as PNG computes it (over the chunk type and data). */
function crc32(b: Uint8Array, from: number, to: number): number {
  let c = -1;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const IHDR = 0x49484452;
const PLTE = 0x504c5445;
const IDAT = 0x49444154;
const IEND = 0x49454e44;
const TRNS = 0x74524e53;

/** Channels per colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA) and the bit depths allowed. */
const COLOUR_TYPES: Record<number, { channels: number; depths: number[]; label: string }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16], label: 'grey' },
  2: { channels: 3, depths: [8, 16], label: 'RGB' },
  3: { channels: 1, depths: [1, 2, 4, 8], label: 'palette' },
  4: { channels: 2, depths: [8, 16], label: 'grey+alpha' },
  6: { channels: 4, depths: [8, 16], label: 'RGBA' },
};

interface PngStructure {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  interlaced: boolean;
  /** RGB triples. */
  palette: Uint8Array | null;
  /** Palette alpha (tRNS), one byte per leading palette entry. */
  paletteAlpha: Uint8Array | null;
  idat: Uint8Array[];
}

function chunkName(t: number): string {
  let s = '';
  for (let k = 24; k >= 0; k -= 8) {
    const c = (t >>> k) & 0xff;
    s += c >= 32 && c < 127 ? String.fromCharCode(c) : '?';
  }
  return s;
}

function readStructure(name: string | undefined, b: Uint8Array): PngStructure {
  if (b.length < 33) throw inputError(name, 'truncated PNG (file ends inside the header)');
  if (readU32(b, 8) !== 13 || readU32(b, 12) !== IHDR)
    throw inputError(name, 'corrupt PNG (first chunk is not a 13-byte IHDR)');
  if (crc32(b, 12, 29) !== readU32(b, 29)) throw inputError(name, 'corrupt PNG (IHDR chunk fails its CRC)');
  const width = readU32(b, 16);
  const height = readU32(b, 20);
  const depth = b[24];
  const colourType = b[25];
  checkDimensions(name, width, height);
  const ct = COLOUR_TYPES[colourType];
  if (!ct) throw inputError(name, `corrupt PNG (colour type ${colourType} does not exist)`);
  if (!ct.depths.includes(depth))
    throw inputError(name, `corrupt PNG (bit depth ${depth} is not allowed for ${ct.label} images)`);
  if (b[26] !== 0) throw inputError(name, `corrupt PNG (compression method ${b[26]} does not exist)`);
  if (b[27] !== 0) throw inputError(name, `corrupt PNG (filter method ${b[27]} does not exist)`);
  if (b[28] > 1) throw inputError(name, `corrupt PNG (interlace method ${b[28]} does not exist)`);

  let palette: Uint8Array | null = null;
  let paletteAlpha: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let o = 33;
  while (o + 8 <= b.length) {
    const len = readU32(b, o);
    const type = readU32(b, o + 4);
    if (len > 0x7fffffff || o + 12 + len > b.length) {
      throw inputError(
        name,
        idat.length > 0 || type === IDAT
          ? `truncated PNG (file ends inside the image data, ${b.length} bytes)`
          : `truncated PNG (file ends inside a ${chunkName(type)} chunk, ${b.length} bytes)`,
      );
    }
    const data = o + 8;
    const critical = (type & 0x20000000) === 0;
    if (critical || type === TRNS) {
      if (crc32(b, o + 4, data + len) !== readU32(b, data + len)) {
        throw inputError(name, `corrupt PNG (${chunkName(type)} chunk at byte ${o} fails its CRC)`);
      }
    }
    if (type === IDAT) {
      idat.push(b.subarray(data, data + len));
    } else if (type === IEND) {
      if (idat.length === 0) throw inputError(name, 'corrupt PNG (no IDAT image data before IEND)');
      if (colourType === 3 && !palette)
        throw inputError(name, 'corrupt PNG (palette image without a PLTE chunk: its colours are missing)');
      return { width, height, depth, colourType, interlaced: b[28] === 1, palette, paletteAlpha, idat };
    } else if (type === PLTE) {
      if (palette) throw inputError(name, 'corrupt PNG (more than one PLTE chunk)');
      if (idat.length > 0) throw inputError(name, 'corrupt PNG (PLTE chunk after the image data)');
      if (len === 0 || len % 3 !== 0 || len > 768)
        throw inputError(name, `corrupt PNG (PLTE chunk of ${len} bytes; it holds 1-256 RGB triples)`);
      // In RGB images PLTE is only a quantisation hint and grey images should not have one: neither changes
      // a pixel. A palette longer than the bit depth can index is harmless too; indices are checked below.
      if (colourType === 3) palette = b.subarray(data, data + len);
    } else if (type === TRNS) {
      if (colourType === 3) {
        if (!palette) throw inputError(name, 'corrupt PNG (tRNS chunk before PLTE)');
        if (len > palette.length / 3) {
          throw inputError(
            name,
            `corrupt PNG (tRNS holds ${len} alpha values for a ${palette.length / 3}-colour palette)`,
          );
        }
        paletteAlpha = b.subarray(data, data + len);
      }
      // Grey/RGB tRNS names one transparent colour; micrographs do not use it and it changes no pixel.
    } else if (critical) {
      throw inputError(name, `unsupported PNG (unknown critical chunk ${chunkName(type)})`);
    }
    o = data + len + 4;
  }
  throw inputError(name, idat.length > 0 ? 'truncated PNG (no IEND chunk)' : 'truncated PNG (no image data)');
}

/** Adam7 passes: x0, y0, dx, dy. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  w: number;
  h: number;
}

function passesOf(width: number, height: number, interlaced: boolean): Pass[] {
  if (!interlaced) return [{ x0: 0, y0: 0, dx: 1, dy: 1, w: width, h: height }];
  const out: Pass[] = [];
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = width > x0 ? Math.ceil((width - x0) / dx) : 0;
    const h = height > y0 ? Math.ceil((height - y0) / dy) : 0;
    if (w > 0 && h > 0) out.push({ x0, y0, dx, dy, w, h });
  }
  return out;
}

/** Reverses one row's filter in place; `prev` is the previous row of the same pass (unfiltered) or -1. */
function unfilterRow(raw: Uint8Array, at: number, prev: number, n: number, bpp: number, f: number): void {
  const s = at + 1;
  const p = prev + 1;
  switch (f) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) raw[s + i] = (raw[s + i] + raw[s + i - bpp]) & 0xff;
      return;
    case 2:
      if (prev < 0) return;
      for (let i = 0; i < n; i++) raw[s + i] = (raw[s + i] + raw[p + i]) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? raw[s + i - bpp] : 0;
        const up = prev >= 0 ? raw[p + i] : 0;
        raw[s + i] = (raw[s + i] + ((left + up) >> 1)) & 0xff;
      }
      return;
    default:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? raw[s + i - bpp] : 0;
        const b = prev >= 0 ? raw[p + i] : 0;
        const c = i >= bpp && prev >= 0 ? raw[p + i - bpp] : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        raw[s + i] = (raw[s + i] + pred) & 0xff;
      }
  }
}

export function decodePng(bytes: Uint8Array, name?: string): DecodedImage {
  const st = readStructure(name, bytes);
  const { width, height, depth, colourType } = st;
  const samples = COLOUR_TYPES[colourType].channels;
  const palette = st.palette;
  const outChannels = palette ? (st.paletteAlpha ? 4 : 3) : samples;
  const outBytes = depth === 16 ? 2 : 1;
  const bitsPerPixel = samples * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = passesOf(width, height, st.interlaced);
  let rawLen = 0;
  for (const p of passes) rawLen += p.h * (1 + Math.ceil((p.w * bitsPerPixel) / 8));
  const n = width * height;
  const label = `${width}x${height} ${depth}-bit ${COLOUR_TYPES[colourType].label}`;
  checkDecodeMemory(name, rawLen + n * outChannels * outBytes, `a ${label} PNG`);

  const raw = new Uint8Array(rawLen);
  const res = inflateInto(st.idat, raw);
  if (res.status !== 'ok') {
    if (res.status === 'long')
      throw inputError(name, `corrupt PNG (the image data holds more than ${label} pixels)`);
    if (res.status === 'corrupt') throw inputError(name, `corrupt PNG (image data: ${res.detail})`);
    if (res.written >= rawLen)
      throw inputError(name, 'truncated PNG (the compressed image data stops before its end)');
    const p0 = passes[0];
    const rows = st.interlaced ? null : Math.floor(res.written / (1 + Math.ceil((p0.w * bitsPerPixel) / 8)));
    throw inputError(
      name,
      rows !== null
        ? `truncated PNG (the image data ends after ${rows} of ${height} rows)`
        : `truncated PNG (the image data ends after ${res.written} of ${rawLen} bytes)`,
    );
  }

  const out8 = outBytes === 1 ? new Uint8Array(n * outChannels) : null;
  const out16 = outBytes === 2 ? new Uint16Array(n * samples) : null;
  const maxV = (1 << depth) - 1;
  const entries = palette ? palette.length / 3 : 0;
  let at = 0;
  for (let pi = 0; pi < passes.length; pi++) {
    const p = passes[pi];
    const rowBytes = Math.ceil((p.w * bitsPerPixel) / 8);
    let prev = -1;
    for (let r = 0; r < p.h; r++) {
      const f = raw[at];
      if (f > 4) {
        const where = st.interlaced ? `row ${r} of interlace pass ${pi + 1}` : `row ${r}`;
        throw inputError(name, `corrupt PNG (${where} has filter type ${f}; only 0-4 exist)`);
      }
      unfilterRow(raw, at, prev, rowBytes, bpp, f);
      const s = at + 1;
      const y = p.y0 + r * p.dy;
      if (out16 && p.dx === 1) {
        const base = y * width * samples;
        for (let i = 0, k = s; i < rowBytes >> 1; i++, k += 2) out16[base + i] = (raw[k] << 8) | raw[k + 1];
      } else if (out16) {
        for (let i = 0; i < p.w; i++) {
          const o = (y * width + p.x0 + i * p.dx) * samples;
          for (let c = 0; c < samples; c++) {
            const k = s + (i * samples + c) * 2;
            out16[o + c] = (raw[k] << 8) | raw[k + 1];
          }
        }
      } else if (depth === 8 && !palette) {
        if (p.dx === 1) out8!.set(raw.subarray(s, s + rowBytes), y * width * samples);
        else
          for (let i = 0; i < p.w; i++) {
            const o = (y * width + p.x0 + i * p.dx) * samples;
            for (let c = 0; c < samples; c++) out8![o + c] = raw[s + i * samples + c];
          }
      } else {
        for (let i = 0; i < p.w; i++) {
          const v =
            depth === 8
              ? raw[s + i]
              : (raw[s + ((i * depth) >> 3)] >> (8 - depth - ((i * depth) & 7))) & maxV;
          const x = p.x0 + i * p.dx;
          if (palette) {
            if (v >= entries) {
              throw inputError(
                name,
                `corrupt PNG (pixel ${x},${y} uses palette entry ${v}; PLTE holds ${entries} colours)`,
              );
            }
            const o = (y * width + x) * outChannels;
            out8![o] = palette[3 * v];
            out8![o + 1] = palette[3 * v + 1];
            out8![o + 2] = palette[3 * v + 2];
            if (outChannels === 4) {
              const alpha = st.paletteAlpha!;
              out8![o + 3] = v < alpha.length ? alpha[v] : 255;
            }
          } else {
            // Low-depth grey spreads to 0..255 so the rest of the core sees one layout.
            out8![y * width + x] = Math.round((v * 255) / maxV);
          }
        }
      }
      prev = at;
      at += 1 + rowBytes;
    }
  }

  const raster: Raster = out16
    ? { width, height, data: out16, bitDepth: 16, channels: samples as 1 | 2 | 3 | 4 }
    : { width, height, data: out8!, bitDepth: 8, channels: outChannels as 1 | 2 | 3 | 4 };
  return { raster, meta: { format: 'png', bitDepth: depth, channels: outChannels } };
}
