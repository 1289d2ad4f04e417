/**
 * A small TIFF writer for tests: any number of pages, 1/8/16/32-bit samples (uint, int, float), grey, RGB
 * or RGBA, either byte order, strips or tiles, no compression, LZW, PackBits or Deflate, and arbitrary extra
 * tags (ASCII text, raw bytes, shorts, longs, rationals, doubles) such as the private tags microscope
 * vendors write (34118 Zeiss SmartSEM, 34682 FEI/Thermo). Written to exercise decoders, not for speed.
 */
import { zlibSync } from 'fflate';

export type TiffTagSpec =
  | { tag: number; type: 'ascii'; value: string; latin1?: boolean }
  | { tag: number; type: 'bytes' | 'undefined'; value: Uint8Array }
  | { tag: number; type: 'short' | 'long'; value: number | number[] }
  | { tag: number; type: 'rational'; value: [number, number] | [number, number][] }
  | { tag: number; type: 'double'; value: number | number[] };

export interface TiffPage {
  width: number;
  height: number;
  /** Interleaved samples; for 1-bit, packed rows (MSB first, rows padded to a byte). */
  data: Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array;
  bitsPerSample: 1 | 8 | 16 | 32;
  samplesPerPixel?: number;
  /** 1 uint (default), 2 signed int, 3 float. */
  sampleFormat?: 1 | 2 | 3;
  /** Default: 1 (BlackIsZero) for grey, 2 (RGB) for 3+ samples. */
  photometric?: number;
  /** 1 none, 5 LZW, 8 Deflate, 32773 PackBits; other codes are written as given with raw data (to test refusals). */
  compression?: number;
  rowsPerStrip?: number;
  /** Square tiles of this size (multiple of 16) instead of strips. */
  tileSize?: number;
  /** Extra sample meaning for a 2nd/4th sample (2 = unassociated alpha). */
  extraSamples?: number[];
  /** Palette (ColorMap, 3 x 2^bits shorts) for photometric 3. */
  colorMap?: number[];
  /** 2 applies horizontal differencing to the samples before compression (and writes the tag). */
  predictor?: number;
  /** 2 stores the compressed bytes bit-reversed (and writes the FillOrder tag). */
  fillOrder?: number;
  /** Stored as the strips' (or tiles') data instead of compressing `data`: for broken streams. */
  rawStrips?: Uint8Array[];
  /** Encode the last strip with RowsPerStrip rows (zero rows after the image), as some writers do. */
  padLastStrip?: boolean;
  planarConfig?: number;
  extraTags?: TiffTagSpec[];
}

export function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

class Writer {
  buf = new Uint8Array(1 << 16);
  len = 0;
  constructor(readonly le: boolean) {}
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    new DataView(this.buf.buffer).setUint16(this.len, v, this.le);
    this.len += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.len, v >>> 0, this.le);
    this.len += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  align(): void {
    if (this.len & 1) this.u8(0);
  }
  patch32(at: number, v: number): void {
    new DataView(this.buf.buffer).setUint32(at, v >>> 0, this.le);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Sample bytes of the whole page in the file's byte order. */
function sampleBytes(p: TiffPage, le: boolean): Uint8Array {
  const d = p.data;
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  const size = p.bitsPerSample === 32 ? 4 : p.bitsPerSample === 16 ? 2 : 1;
  if (!le && size > 1) {
    for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  }
  return bytes;
}

/** PackBits with literal runs only: valid, simple, and enough to exercise the decoder. */
function packBits(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 128) {
    const n = Math.min(128, b.length - i);
    out.push(n - 1);
    for (let k = 0; k < n; k++) out.push(b[i + k]);
  }
  return new Uint8Array(out);
}

/**
 * TIFF LZW (compression 5) as libtiff writes it: MSB-first codes of 9-12 bits, Clear (256) first, EOI (257)
 * last; the width grows once the table holds 512, 1024, 2048 entries (one code early as the decoder sees it,
 * the Aldus "early change"), and the table restarts with a Clear at 4094.
 */
function lzw(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  let width = 9;
  const put = (code: number): void => {
    acc = (acc << width) | code;
    nbits += width;
    while (nbits >= 8) {
      out.push((acc >>> (nbits - 8)) & 0xff);
      nbits -= 8;
    }
    acc &= (1 << nbits) - 1;
  };
  let table = new Map<number, number>();
  let next = 258;
  put(256);
  if (b.length === 0) {
    put(257);
  } else {
    let prefix = b[0];
    for (let i = 1; i < b.length; i++) {
      const key = prefix * 256 + b[i];
      const code = table.get(key);
      if (code !== undefined) {
        prefix = code;
        continue;
      }
      put(prefix);
      table.set(key, next++);
      if (next === 1 << width && width < 12) width++;
      if (next === 4094) {
        put(256);
        table = new Map();
        next = 258;
        width = 9;
      }
      prefix = b[i];
    }
    put(prefix);
    // The decoder adds a table entry on reading that last code too: the EOI follows the width that implies.
    next++;
    if (next === 4094) {
      put(256);
      width = 9;
    } else if (next === 1 << width && width < 12) width++;
    put(257);
  }
  if (nbits > 0) out.push((acc << (8 - nbits)) & 0xff);
  return new Uint8Array(out);
}

function compress(b: Uint8Array, c: number): Uint8Array {
  if (c === 32773) return packBits(b);
  if (c === 5) return lzw(b);
  if (c === 8) return zlibSync(b);
  return b;
}

/** Horizontal differencing (Predictor 2) of 8- or 16-bit samples in place, per row; samples in file order. */
function difference(all: Uint8Array, p: TiffPage, le: boolean): void {
  const spp = p.samplesPerPixel ?? 1;
  const size = p.bitsPerSample / 8;
  const rowBytes = p.width * spp * size;
  const get = (o: number) =>
    size === 1 ? all[o] : le ? all[o] | (all[o + 1] << 8) : (all[o] << 8) | all[o + 1];
  const set = (o: number, v: number) => {
    if (size === 1) {
      all[o] = v & 0xff;
      return;
    }
    all[o + (le ? 0 : 1)] = v & 0xff;
    all[o + (le ? 1 : 0)] = (v >> 8) & 0xff;
  };
  const mask = size === 1 ? 0xff : 0xffff;
  for (let y = 0; y < p.height; y++) {
    const r = y * rowBytes;
    for (let j = r + rowBytes - size; j >= r + spp * size; j -= size)
      set(j, (get(j) - get(j - spp * size)) & mask);
  }
}

/** Splits the page into strips or tiles of (uncompressed) bytes. */
function chunks(p: TiffPage, le: boolean): { parts: Uint8Array[]; rowsPerStrip: number } {
  const spp = p.samplesPerPixel ?? 1;
  const all = sampleBytes(p, le);
  if (p.predictor === 2) difference(all, p, le);
  const rowBytes = Math.ceil((p.width * spp * p.bitsPerSample) / 8);
  if (p.tileSize) {
    const t = p.tileSize;
    const pxBytes = (spp * p.bitsPerSample) / 8;
    const parts: Uint8Array[] = [];
    for (let ty = 0; ty < p.height; ty += t) {
      for (let tx = 0; tx < p.width; tx += t) {
        const tile = new Uint8Array(t * t * pxBytes);
        for (let y = 0; y < t && ty + y < p.height; y++) {
          const n = Math.min(t, p.width - tx) * pxBytes;
          const src = (ty + y) * rowBytes + tx * pxBytes;
          tile.set(all.subarray(src, src + n), y * t * pxBytes);
        }
        parts.push(tile);
      }
    }
    return { parts, rowsPerStrip: 0 };
  }
  const rps = Math.min(p.rowsPerStrip ?? p.height, p.height);
  const parts: Uint8Array[] = [];
  for (let y = 0; y < p.height; y += rps) {
    const part = all.subarray(y * rowBytes, Math.min(p.height, y + rps) * rowBytes);
    if (p.padLastStrip && part.length < rps * rowBytes) {
      const padded = new Uint8Array(rps * rowBytes);
      padded.set(part);
      parts.push(padded);
    } else parts.push(part);
  }
  return { parts, rowsPerStrip: rps };
}

const TYPE = { bytes: 1, ascii: 2, short: 3, long: 4, rational: 5, undefined: 7, double: 12 } as const;
const SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 12: 8 };

interface Entry {
  tag: number;
  type: number;
  count: number;
  write: (w: Writer) => void;
}

function entryOf(t: TiffTagSpec): Entry {
  const type = TYPE[t.type];
  switch (t.type) {
    case 'ascii': {
      const b = t.latin1 ? latin1(t.value) : new TextEncoder().encode(t.value);
      const z = new Uint8Array(b.length + 1);
      z.set(b);
      return { tag: t.tag, type, count: z.length, write: (w) => w.bytes(z) };
    }
    case 'bytes':
    case 'undefined':
      return { tag: t.tag, type, count: t.value.length, write: (w) => w.bytes(t.value) };
    case 'short':
    case 'long': {
      const v = Array.isArray(t.value) ? t.value : [t.value];
      return {
        tag: t.tag,
        type,
        count: v.length,
        write: (w) => v.forEach((x) => (t.type === 'short' ? w.u16(x) : w.u32(x))),
      };
    }
    case 'rational': {
      const v = (Array.isArray(t.value[0]) ? t.value : [t.value]) as [number, number][];
      return { tag: t.tag, type, count: v.length, write: (w) => v.forEach(([a, b]) => (w.u32(a), w.u32(b))) };
    }
    case 'double': {
      const v = Array.isArray(t.value) ? t.value : [t.value];
      return {
        tag: t.tag,
        type,
        count: v.length,
        write: (w) =>
          v.forEach((x) => {
            const b = new Uint8Array(8);
            new DataView(b.buffer).setFloat64(0, x, w.le);
            w.bytes(b);
          }),
      };
    }
  }
}

/** Byte offset of the IFD entry for `tag` in the first IFD (little-endian files), or -1. */
export function tagEntry(b: Uint8Array, tag: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ifd = dv.getUint32(4, true);
  const n = dv.getUint16(ifd, true);
  for (let i = 0; i < n; i++) if (dv.getUint16(ifd + 2 + 12 * i, true) === tag) return ifd + 2 + 12 * i;
  return -1;
}

/** Rewrites a one-value SHORT or LONG tag in place (little-endian files); returns a patched copy. */
export function patchTag(b: Uint8Array, tag: number, value: number): Uint8Array {
  const c = b.slice();
  const e = tagEntry(c, tag);
  if (e < 0) throw new Error(`tag ${tag} not in the file`);
  const dv = new DataView(c.buffer);
  if (dv.getUint16(e + 2, true) === 3) dv.setUint16(e + 8, value, true);
  else dv.setUint32(e + 8, value, true);
  return c;
}

export function encodeTiff(pages: TiffPage | TiffPage[], opts: { littleEndian?: boolean } = {}): Uint8Array {
  const list = Array.isArray(pages) ? pages : [pages];
  const le = opts.littleEndian ?? true;
  const w = new Writer(le);
  w.bytes(le ? new Uint8Array([0x49, 0x49]) : new Uint8Array([0x4d, 0x4d]));
  w.u16(42);
  let nextPtr = w.len;
  w.u32(0);
  for (const p of list) {
    const spp = p.samplesPerPixel ?? 1;
    const cmp = p.compression ?? 1;
    const { parts, rowsPerStrip } = chunks(p, le);
    const offsets: number[] = [];
    const counts: number[] = [];
    for (const [k, part] of parts.entries()) {
      let c = p.rawStrips?.[k] ?? compress(part, cmp);
      if (p.fillOrder === 2)
        c = c.map((v) => Number.parseInt(v.toString(2).padStart(8, '0').split('').reverse().join(''), 2));
      w.align();
      offsets.push(w.len);
      counts.push(c.length);
      w.bytes(c);
    }
    const tags: TiffTagSpec[] = [
      { tag: 256, type: 'long', value: p.width },
      { tag: 257, type: 'long', value: p.height },
      { tag: 258, type: 'short', value: new Array(spp).fill(p.bitsPerSample) },
      { tag: 259, type: 'short', value: cmp },
      { tag: 262, type: 'short', value: p.photometric ?? (spp >= 3 ? 2 : 1) },
      { tag: 277, type: 'short', value: spp },
      { tag: 284, type: 'short', value: p.planarConfig ?? 1 },
      { tag: 339, type: 'short', value: new Array(spp).fill(p.sampleFormat ?? 1) },
    ];
    if (p.tileSize) {
      tags.push({ tag: 322, type: 'long', value: p.tileSize }, { tag: 323, type: 'long', value: p.tileSize });
      tags.push({ tag: 324, type: 'long', value: offsets }, { tag: 325, type: 'long', value: counts });
    } else {
      tags.push({ tag: 273, type: 'long', value: offsets }, { tag: 278, type: 'long', value: rowsPerStrip });
      tags.push({ tag: 279, type: 'long', value: counts });
    }
    if (p.extraSamples) tags.push({ tag: 338, type: 'short', value: p.extraSamples });
    if (p.colorMap) tags.push({ tag: 320, type: 'short', value: p.colorMap });
    if (p.predictor) tags.push({ tag: 317, type: 'short', value: p.predictor });
    if (p.fillOrder) tags.push({ tag: 266, type: 'short', value: p.fillOrder });
    for (const t of p.extraTags ?? []) tags.push(t);
    const entries = tags.map(entryOf).sort((a, b) => a.tag - b.tag);

    w.align();
    const ifd = w.len;
    w.patch32(nextPtr, ifd);
    w.u16(entries.length);
    const valueSlots: { at: number; e: Entry }[] = [];
    for (const e of entries) {
      w.u16(e.tag);
      w.u16(e.type);
      w.u32(e.count);
      const size = SIZE[e.type] * e.count;
      if (size <= 4) {
        const start = w.len;
        e.write(w);
        while (w.len < start + 4) w.u8(0);
      } else {
        valueSlots.push({ at: w.len, e });
        w.u32(0);
      }
    }
    nextPtr = w.len;
    w.u32(0);
    for (const { at, e } of valueSlots) {
      w.align();
      w.patch32(at, w.len);
      e.write(w);
    }
  }
  return w.result();
}
