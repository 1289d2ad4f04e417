/**
 * A small PNG writer for tests: any colour type and bit depth, chosen row filters, Adam7 interlacing,
 * PLTE/tRNS, IDAT split into several chunks and arbitrary extra chunks, so decoders can be fed both valid
 * files whose pixels are known and precisely broken ones (with correct CRCs, so the break is the one meant).
 */
import { zlibSync } from 'fflate';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC (over type + data). */
export function chunk(type: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function ihdr(
  width: number,
  height: number,
  depth: number,
  colourType: number,
  interlace = 0,
): Uint8Array {
  const d = new Uint8Array(13);
  const dv = new DataView(d.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  d.set([depth, colourType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export interface PngSpec {
  width: number;
  height: number;
  depth: 1 | 2 | 4 | 8 | 16;
  colourType: 0 | 2 | 3 | 4 | 6;
  /** Samples in row-major order, one number per sample (palette: the index). */
  samples: ArrayLike<number>;
  interlace?: boolean;
  /** Filter for row r (cycled); default 0. Applied exactly as an encoder would. */
  filters?: number[];
  palette?: [number, number, number][];
  trns?: number[];
  /** Split the zlib stream into IDAT chunks of this many bytes. */
  idatSize?: number;
  /** Chunks inserted before the first IDAT. */
  before?: Uint8Array[];
  /** Replaces the compressed image data (the zlib stream) when given. */
  zlib?: (filtered: Uint8Array) => Uint8Array;
}

/** Packs one row of samples at the bit depth (MSB first). */
function packRow(vals: number[], depth: number): Uint8Array {
  if (depth === 16) {
    const out = new Uint8Array(vals.length * 2);
    vals.forEach((v, i) => {
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
    return out;
  }
  const out = new Uint8Array(Math.ceil((vals.length * depth) / 8));
  vals.forEach((v, i) => {
    const bit = i * depth;
    out[bit >> 3] |= v << (8 - depth - (bit & 7));
  });
  return out;
}

function filterRow(row: Uint8Array, prev: Uint8Array | null, bpp: number, f: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = f;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev ? prev[i] : 0;
    const c = prev && i >= bpp ? prev[i - bpp] : 0;
    let pred = 0;
    if (f === 1) pred = a;
    else if (f === 2) pred = b;
    else if (f === 3) pred = (a + b) >> 1;
    else if (f === 4) {
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    out[i + 1] = (row[i] - pred) & 0xff;
  }
  return out;
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** The filtered, uncompressed image data (what IDAT inflates to). */
export function filteredData(spec: PngSpec): Uint8Array {
  const ch = CHANNELS[spec.colourType];
  const bpp = Math.max(1, (ch * spec.depth) >> 3);
  const passes = spec.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const rows: Uint8Array[] = [];
  let r = 0;
  for (const [x0, y0, dx, dy] of passes) {
    let prev: Uint8Array | null = null;
    for (let y = y0; y < spec.height; y += dy) {
      const vals: number[] = [];
      for (let x = x0; x < spec.width; x += dx)
        for (let c = 0; c < ch; c++) vals.push(spec.samples[(y * spec.width + x) * ch + c]);
      if (vals.length === 0) continue;
      const row = packRow(vals, spec.depth);
      const f = spec.filters ? spec.filters[r % spec.filters.length] : 0;
      rows.push(filterRow(row, prev, bpp, f));
      prev = row;
      r++;
    }
  }
  return concat(rows);
}

export function buildPng(spec: PngSpec): Uint8Array {
  const filtered = filteredData(spec);
  const z = spec.zlib ? spec.zlib(filtered) : zlibSync(filtered);
  const size = spec.idatSize ?? z.length;
  const idats: Uint8Array[] = [];
  for (let o = 0; o < z.length || idats.length === 0; o += size)
    idats.push(chunk('IDAT', z.subarray(o, o + size)));
  const parts = [
    SIGNATURE,
    ihdr(spec.width, spec.height, spec.depth, spec.colourType, spec.interlace ? 1 : 0),
  ];
  if (spec.palette) parts.push(chunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.trns) parts.push(chunk('tRNS', Uint8Array.from(spec.trns)));
  parts.push(...(spec.before ?? []), ...idats, chunk('IEND'));
  return concat(parts);
}

/** Recomputes the CRC of the chunk starting at byte `at` (after a test has edited its data). */
export function fixCrc(b: Uint8Array, at: number): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = dv.getUint32(at);
  dv.setUint32(at + 8 + len, crc32(b.subarray(at + 4, at + 8 + len)));
  return b;
}

/** Byte offset of the first chunk of this type, or -1. */
export function findChunk(b: Uint8Array, type: string): number {
  let o = 8;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (o + 8 <= b.length) {
    const t = String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
    if (t === type) return o;
    o += 12 + dv.getUint32(o);
  }
  return -1;
}
