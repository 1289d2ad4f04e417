/**
 * Gatan DigitalMicrograph DM3 and DM4 files: a tree of named tags (groups and typed data) whose ImageList holds
 * one or more images, usually a small RGB thumbnail first and the micrograph after it.
 *
 * Layout: a header of big-endian integers (version 3 or 4; root length, 4 bytes in DM3 and 8 in DM4; the data
 * byte order, 1 = little endian), then the root tag group. Structure words (counts, lengths, type words) are
 * always big endian and 4 bytes wide in DM3, 8 in DM4; tag values follow the byte-order flag. DM4 also puts the
 * byte size of every entry after its name.
 *
 * The reader is our own and bounds-checks every read: a count or length is compared with what is left of the file
 * before anything is allocated or looped over, nesting depth and the number of tags are capped, and big arrays
 * (the pixels) are kept as offsets into the file, never expanded into numbers while the tree is read.
 */
import type { Raster } from '../raster';
import type { DecodedImage, EmbeddedCalibration, InstrumentInfo } from '../types';
import { checkDimensions, inputError, MAX_PIXELS, wrapDecoderError } from './common';

/** Real files nest about 8 deep; a deeper tree is corrupt or built to exhaust the stack. */
const MAX_DEPTH = 64;
/** Real files hold thousands of tags; this is far above any of them and bounds the work on a hostile one. */
const MAX_TAGS = 500_000;
/** Type words of one data tag: a struct of n fields needs 5 + 2n, and DM structs have a handful of fields. */
const MAX_INFO = 1024;
/** Larger than any image we accept (MAX_PIXELS of float64); an array beyond it is corruption, not a cut. */
const MAX_ARRAY_BYTES = 8 * MAX_PIXELS;
/** Longest text we decode from a tag (units, names); longer arrays are data, not text. */
const MAX_TEXT = 4096;

/** Byte size of the simple encoded types. */
const SIMPLE_SIZE: Record<number, number> = {
  2: 2,
  3: 4,
  4: 2,
  5: 4,
  6: 4,
  7: 8,
  8: 1,
  9: 1,
  10: 1,
  11: 8,
  12: 8,
};
const T_STRUCT = 15;
const T_STRING = 18;
const T_ARRAY = 20;
const K_GROUP = 20;
const K_DATA = 21;

/** A run of values left in the file: `elem` is the encoded type, or T_STRUCT with `fields` giving its members. */
interface DmArray {
  elem: number;
  fields?: number[];
  count: number;
  offset: number;
}

type DmValue = number | string | number[] | DmArray;

interface DmTag {
  name: string;
  group?: DmGroup;
  value?: DmValue;
}

interface DmGroup {
  tags: DmTag[];
}

/**
 * DM magic: version 3 or 4 as a big-endian int32, a byte-order word of 0 or 1, then the root group's two flag
 * bytes (sorted, open), each 0 or 1.
 */
export function isDm(b: Uint8Array): boolean {
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0 || b[2] !== 0 || (b[3] !== 3 && b[3] !== 4)) return false;
  const o = b[3] === 3 ? 8 : 12;
  if (b.length < o + 6) return false;
  return b[o] === 0 && b[o + 1] === 0 && b[o + 2] === 0 && b[o + 3] <= 1 && b[o + 4] <= 1 && b[o + 5] <= 1;
}

class TagReader {
  pos: number;
  tags = 0;
  readonly dv: DataView;
  readonly width: number;
  readonly label: string;

  constructor(
    readonly b: Uint8Array,
    readonly v4: boolean,
    readonly le: boolean,
    readonly name: string | undefined,
    start: number,
  ) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.width = v4 ? 8 : 4;
    this.label = v4 ? 'DM4' : 'DM3';
    this.pos = start;
  }

  fail(problem: string): never {
    throw inputError(this.name, problem);
  }

  left(): number {
    return this.b.length - this.pos;
  }

  need(n: number, what: string): void {
    if (!(n <= this.left())) this.fail(`truncated ${this.label} file (ends inside ${what})`);
  }

  /** One structure word; Infinity when a DM4 word exceeds 2^53, which no file can hold and callers reject. */
  word(what: string): number {
    this.need(this.width, what);
    const p = this.pos;
    this.pos += this.width;
    if (!this.v4) return this.dv.getUint32(p, false);
    const hi = this.dv.getUint32(p, false);
    if (hi > 0x1fffff) return Infinity;
    return hi * 2 ** 32 + this.dv.getUint32(p + 4, false);
  }

  group(path: string, depth: number): DmGroup {
    const where = path ? `tag group ${path}` : 'the root group';
    if (depth > MAX_DEPTH)
      this.fail(`corrupt ${this.label} file (tag groups nested deeper than ${MAX_DEPTH})`);
    this.need(2, where);
    this.pos += 2; // sorted and open flags: nothing to do with them
    const count = this.word(where);
    // The smallest entry is an empty group: kind, name length, [DM4 size], flags, count.
    const minEntry = this.v4 ? 21 : 9;
    if (count > this.left() / minEntry) {
      // A plausible count that runs past the end is a cut-off file; an absurd one is corruption.
      if (count <= MAX_TAGS) this.fail(`truncated ${this.label} file (ends inside ${where})`);
      const n = Number.isFinite(count) ? String(count) : 'more than 2^53';
      this.fail(`corrupt ${this.label} file (${where} claims ${n} entries, more than the file can hold)`);
    }
    const tags: DmTag[] = [];
    for (let i = 0; i < count; i++) tags.push(this.entry(path, i, depth));
    return { tags };
  }

  entry(parent: string, index: number, depth: number): DmTag {
    if (++this.tags > MAX_TAGS) this.fail(`corrupt ${this.label} file (more than ${MAX_TAGS} tags)`);
    const at = this.pos;
    this.need(3, `a tag of ${parent || 'the root group'}`);
    const kind = this.b[this.pos];
    const len = this.dv.getUint16(this.pos + 1, false);
    this.pos += 3;
    this.need(len, 'a tag name');
    const name = latin1(this.b, this.pos, len);
    this.pos += len;
    const label = name || `[${index}]`;
    const path = parent ? `${parent}.${label}` : label;
    let end = -1;
    if (this.v4) {
      const size = this.word(`tag ${path}`);
      if (size > this.left()) this.fail(`truncated ${this.label} file (ends inside tag ${path})`);
      end = this.pos + size;
    }
    if (kind === K_GROUP) return { name, group: this.group(path, depth + 1) };
    if (kind === K_DATA) return { name, value: this.data(path, end) };
    return this.fail(`corrupt ${this.label} file (tag kind ${kind} at byte ${at} is neither group nor data)`);
  }

  data(path: string, end: number): DmValue | undefined {
    this.need(4, `tag ${path}`);
    const b = this.b;
    const p = this.pos;
    if (b[p] !== 0x25 || b[p + 1] !== 0x25 || b[p + 2] !== 0x25 || b[p + 3] !== 0x25)
      this.fail(`corrupt ${this.label} file (tag ${path} lacks its %%%% marker)`);
    this.pos += 4;
    const n = this.word(`tag ${path}`);
    if (!(n >= 1 && n <= MAX_INFO)) this.fail(`corrupt ${this.label} file (tag ${path} has ${n} type words)`);
    this.need(n * this.width, `tag ${path}`);
    const info: number[] = [];
    for (let i = 0; i < n; i++) info.push(this.word(`tag ${path}`));
    const t = info[0];
    const size = SIMPLE_SIZE[t];
    if (size !== undefined) {
      this.need(size, `tag ${path}`);
      const v = readSimple(this.dv, t, this.pos, this.le);
      this.pos += size;
      return v;
    }
    if (t === T_STRING && n >= 2) {
      this.need(info[1], `tag ${path}`);
      const s = latin1(b, this.pos, Math.min(info[1], MAX_TEXT));
      this.pos += info[1];
      return s;
    }
    if (t === T_STRUCT && n >= 3) {
      const fields = this.fieldTypes(info, 2, path);
      if (fields) {
        const bytes = fields.reduce((s, f) => s + SIMPLE_SIZE[f], 0);
        this.need(bytes, `tag ${path}`);
        const vals: number[] = [];
        for (const f of fields) {
          vals.push(readSimple(this.dv, f, this.pos, this.le));
          this.pos += SIMPLE_SIZE[f];
        }
        return vals;
      }
    }
    if (t === T_ARRAY && n >= 3) {
      const elem = info[1];
      let fields: number[] | undefined;
      let count: number;
      let elemSize: number | undefined = SIMPLE_SIZE[elem];
      if (elem === T_STRUCT && n >= 4) {
        fields = this.fieldTypes(info, 3, path);
        count = info[4 + 2 * info[3]];
        elemSize = fields ? fields.reduce((s, f) => s + SIMPLE_SIZE[f], 0) : undefined;
      } else count = info[2];
      if (elemSize !== undefined && count !== undefined) {
        // Compare before multiplying: count may be anything up to 2^53.
        if (count > this.left() / Math.max(1, elemSize)) {
          if (count * elemSize <= MAX_ARRAY_BYTES)
            this.fail(`truncated ${this.label} file (ends inside the data of tag ${path})`);
          const n = Number.isFinite(count) ? String(count) : 'more than 2^53';
          this.fail(`corrupt ${this.label} file (tag ${path} claims ${n} values, more than the file holds)`);
        }
        const arr: DmArray = { elem, fields, count, offset: this.pos };
        this.pos += count * elemSize;
        return arr;
      }
    }
    // DM4 says how long each entry is, so an encoding we do not read can be stepped over.
    if (end >= this.pos) {
      this.pos = end;
      return undefined;
    }
    return this.fail(`unsupported ${this.label} file (tag ${path} has encoding ${info.join(',')})`);
  }

  /** Field types of a struct whose field count sits at info[at]; undefined when a field is not a simple type. */
  fieldTypes(info: number[], at: number, path: string): number[] | undefined {
    const nf = info[at];
    if (!(info.length >= at + 1 + 2 * nf + (at === 3 ? 1 : 0)))
      this.fail(
        `corrupt ${this.label} file (tag ${path} has a struct of ${nf} fields in ${info.length} words)`,
      );
    const out: number[] = [];
    for (let k = 0; k < nf; k++) {
      const f = info[at + 2 + 2 * k];
      if (SIMPLE_SIZE[f] === undefined) return undefined;
      out.push(f);
    }
    return out;
  }
}

function readSimple(dv: DataView, t: number, at: number, le: boolean): number {
  switch (t) {
    case 2:
      return dv.getInt16(at, le);
    case 3:
      return dv.getInt32(at, le);
    case 4:
      return dv.getUint16(at, le);
    case 5:
      return dv.getUint32(at, le);
    case 6:
      return dv.getFloat32(at, le);
    case 7:
      return dv.getFloat64(at, le);
    case 8:
    case 10:
      return dv.getUint8(at);
    case 9:
      return dv.getInt8(at);
    case 11:
      return Number(dv.getBigInt64(at, le));
    default:
      return Number(dv.getBigUint64(at, le));
  }
}

/** Tag names and byte strings: DigitalMicrograph writes Latin-1 ("µ" as 0xB5). */
function latin1(b: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[at + i]);
  return s;
}

function child(g: DmGroup | undefined, name: string): DmTag | undefined {
  return g?.tags.find((t) => t.name === name);
}

function sub(g: DmGroup | undefined, ...names: string[]): DmGroup | undefined {
  for (const n of names) g = child(g, n)?.group;
  return g;
}

function num(t: DmTag | undefined): number | null {
  return typeof t?.value === 'number' && Number.isFinite(t.value) ? t.value : null;
}

/** Text of a tag: DM stores most strings as uint16 arrays (UTF-16 code units), some as byte arrays. */
function text(r: TagReader, t: DmTag | undefined): string | null {
  const v = t?.value;
  if (typeof v === 'string') return v.replace(/\0+$/, '');
  if (!v || typeof v !== 'object' || Array.isArray(v) || v.count > MAX_TEXT) return null;
  let s = '';
  if (v.elem === 4) {
    for (let i = 0; i < v.count; i++) s += String.fromCharCode(r.dv.getUint16(v.offset + 2 * i, r.le));
  } else if (v.elem === 9 || v.elem === 10) s = latin1(r.b, v.offset, v.count);
  else return null;
  return s.replace(/\0+$/, '');
}

/** DM image data types we read: bytes per pixel and the source bit depth. */
const DATA_TYPES: Record<number, { bytes: number; bits: number; what: string }> = {
  1: { bytes: 2, bits: 16, what: 'int16' },
  2: { bytes: 4, bits: 32, what: 'float32' },
  6: { bytes: 1, bits: 8, what: 'uint8' },
  7: { bytes: 4, bits: 32, what: 'int32' },
  9: { bytes: 1, bits: 8, what: 'int8' },
  10: { bytes: 2, bits: 16, what: 'uint16' },
  11: { bytes: 4, bits: 32, what: 'uint32' },
  12: { bytes: 8, bits: 64, what: 'float64' },
  14: { bytes: 1, bits: 8, what: 'binary' },
};

const RGB_TYPES = new Set([8, 23]);

const REFUSED_TYPES: Record<number, string> = {
  3: 'complex (a Fourier transform?)',
  5: 'packed complex (a Fourier transform?)',
  13: 'complex (a Fourier transform?)',
};

interface Candidate {
  image: DmGroup;
  data: DmGroup;
  dims: number[];
  dataType: number;
  pixels: DmArray;
}

function candidates(list: DmGroup | undefined): Candidate[] {
  const out: Candidate[] = [];
  for (const entry of list?.tags ?? []) {
    const image = entry.group;
    const data = sub(image, 'ImageData');
    const dimTags = sub(data, 'Dimensions')?.tags ?? [];
    const dims = dimTags.map(num);
    const pixels = child(data, 'Data')?.value;
    const dataType = num(child(data, 'DataType'));
    if (!image || !data || dataType === null || dims.some((d) => d === null)) continue;
    if (!pixels || typeof pixels !== 'object' || Array.isArray(pixels)) continue;
    out.push({ image, data, dims: dims as number[], dataType, pixels });
  }
  return out;
}

function area(c: Candidate): number {
  return c.dims[0] * c.dims[1];
}

/** The first of the largest, so of two equal images the earlier one wins. */
function largest(cs: Candidate[]): Candidate {
  return cs.reduce((a, x) => (area(x) > area(a) ? x : a));
}

function fmt(n: number): string {
  return String(Number(n.toPrecision(4)));
}

function instrumentOf(r: TagReader, image: DmGroup): InstrumentInfo | undefined {
  const mi = sub(image, 'ImageTags', 'Microscope Info');
  if (!mi) return undefined;
  const info: InstrumentInfo = {};
  const scope = text(r, child(mi, 'Microscope'))?.trim();
  // Presets key on vendor + model; the microscope's own name is the useful part of that here.
  info.vendor = scope || 'Gatan DigitalMicrograph';
  const mag = num(child(mi, 'Indicated Magnification')) ?? num(child(mi, 'Actual Magnification'));
  if (mag !== null && mag > 0) info.magnification = `${fmt(mag)} x`;
  const v = num(child(mi, 'Voltage'));
  if (v !== null && v > 0) info.voltage = v >= 1000 ? `${fmt(v / 1000)} kV` : `${fmt(v)} V`;
  const mode = text(r, child(mi, 'Illumination Mode')) ?? text(r, child(mi, 'Operation Mode'));
  if (mode?.trim()) info.mode = mode.trim();
  return info;
}

function calibrationOf(
  r: TagReader,
  c: Candidate,
  warnings: string[],
): { scale: number | null; unit: string } {
  const dims = sub(c.data, 'Calibrations', 'Dimension')?.tags ?? [];
  const axis = (i: number) => {
    const g = dims[i]?.group;
    const raw = num(child(g, 'Scale'));
    // Scale is a float32: 0.512 reads back as 0.51200002; seven digits are all it holds.
    const scale = raw === null ? null : Number(raw.toPrecision(7));
    const unit = text(r, child(g, 'Units'))?.trim() ?? '';
    return { scale, unit };
  };
  const x = axis(0);
  if (x.scale === null || !(x.scale > 0) || x.unit === '') return { scale: null, unit: x.unit };
  const y = axis(1);
  if (y.scale !== null && y.unit === x.unit && Math.abs(y.scale / x.scale - 1) > 0.01) {
    warnings.push(
      `${r.label} pixels are not square (x ${fmt(x.scale)} ${x.unit}, y ${fmt(y.scale)} ${y.unit}); the x size is used`,
    );
  }
  return x;
}

function readPixels(r: TagReader, c: Candidate, width: number, height: number): Raster {
  const t = DATA_TYPES[c.dataType];
  const n = width * height;
  const { dv, le } = r;
  const at = c.pixels.offset;
  const elemSize = c.pixels.fields
    ? c.pixels.fields.reduce((s, f) => s + SIMPLE_SIZE[f], 0)
    : SIMPLE_SIZE[c.pixels.elem];
  if (c.pixels.count * elemSize < n * t.bytes) {
    r.fail(
      `corrupt ${r.label} file (image data holds ${c.pixels.count * elemSize} bytes; ${width}x${height} ${t.what} needs ${n * t.bytes})`,
    );
  }
  if (c.dataType === 6 || c.dataType === 14) {
    const data = r.b.slice(at, at + n);
    // Binary images hold 0/1; spread them over the 8-bit range like any other mask.
    if (c.dataType === 14) for (let i = 0; i < n; i++) data[i] = data[i] ? 255 : 0;
    return { width, height, data, bitDepth: 8, channels: 1 };
  }
  if (c.dataType === 10) {
    const data = new Uint16Array(n);
    for (let i = 0; i < n; i++) data[i] = dv.getUint16(at + 2 * i, le);
    return { width, height, data, bitDepth: 16, channels: 1 };
  }
  // Signed and wide types go to float, as the TIFF decoder does, so no value is clipped or wrapped.
  const data = new Float32Array(n);
  switch (c.dataType) {
    case 1:
      for (let i = 0; i < n; i++) data[i] = dv.getInt16(at + 2 * i, le);
      break;
    case 2:
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(at + 4 * i, le);
      break;
    case 7:
      for (let i = 0; i < n; i++) data[i] = dv.getInt32(at + 4 * i, le);
      break;
    case 9:
      for (let i = 0; i < n; i++) data[i] = dv.getInt8(at + i);
      break;
    case 11:
      for (let i = 0; i < n; i++) data[i] = dv.getUint32(at + 4 * i, le);
      break;
    default:
      for (let i = 0; i < n; i++) data[i] = dv.getFloat64(at + 8 * i, le);
  }
  return { width, height, data, bitDepth: 32, channels: 1 };
}

export function decodeDm(bytes: Uint8Array, name?: string): DecodedImage {
  try {
    return decode(bytes, name);
  } catch (err) {
    // Every expected failure is already an InputError; this keeps an overlooked RangeError to one line too.
    throw wrapDecoderError(name, bytes[3] === 4 ? 'DM4' : 'DM3', err);
  }
}

function decode(bytes: Uint8Array, name: string | undefined): DecodedImage {
  const v4 = bytes[3] === 4;
  const orderAt = v4 ? 12 : 8;
  const label = v4 ? 'DM4' : 'DM3';
  if (bytes.length < orderAt + 4) throw inputError(name, `truncated ${label} file (ends inside the header)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dv.getUint32(orderAt, false) === 1;
  const r = new TagReader(bytes, v4, le, name, orderAt + 4);
  const root = r.group('', 0);

  const all = candidates(sub(root, 'ImageList'));
  if (all.length === 0) r.fail(`${label} file holds no image (no ImageList entry with image data)`);
  const images = all.filter((c) => c.dims.length >= 2);
  if (images.length === 0) {
    r.fail(`${label} file holds a spectrum or profile (1-D data), not an image`);
  }
  // The thumbnail (a small RGB view) usually comes first; the micrograph is the largest image that is not RGB.
  const grey = images.filter((c) => !RGB_TYPES.has(c.dataType));
  if (grey.length === 0) r.fail(`unsupported ${label} image (RGB pixels); save it as a grey-level image`);
  const c = largest(grey);
  if (DATA_TYPES[c.dataType] === undefined) {
    const what = REFUSED_TYPES[c.dataType] ?? `data type ${c.dataType}`;
    r.fail(`unsupported ${label} image (${what} pixels); save it as a grey-level image`);
  }
  const [width, height] = c.dims;
  checkDimensions(name, width, height);
  if (!c.dims.every((d) => Number.isInteger(d) && d >= 1))
    r.fail(`corrupt ${label} file (image dimensions ${c.dims.join('x')} are not whole numbers)`);
  const frames = c.dims.slice(2).reduce((p, d) => p * d, 1);

  const warnings: string[] = [];
  if (frames > 1)
    warnings.push(`${label} file holds a stack of ${frames} frames; only the first is analysed`);
  if (grey.filter((x) => area(x) === area(c)).length > 1) {
    warnings.push(`${label} file holds several images of ${width}x${height}; the first is analysed`);
  }
  const raster = readPixels(r, c, width, height);
  const cal = calibrationOf(r, c, warnings);
  const embedded: EmbeddedCalibration = {
    source: `${label} calibration`,
    scale: cal.scale,
    unit: cal.unit,
    instrument: instrumentOf(r, c.image),
    warnings,
  };
  return {
    raster,
    meta: {
      format: v4 ? 'dm4' : 'dm3',
      bitDepth: DATA_TYPES[c.dataType].bits,
      channels: 1,
      pages: frames,
      embedded,
    },
  };
}
