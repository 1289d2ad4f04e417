import { decode as decodeJpegLib } from 'jpeg-js';
import type { DecodedImage } from '../types';
import { InputError } from '../types';
import { checkDecodeMemory, checkDimensions, inputError, MAX_DECODE_BYTES, MAX_PIXELS } from './common';

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

interface JpegComponent {
  id: number;
  h: number;
  v: number;
  tq: number;
}

interface JpegHeader {
  width: number;
  height: number;
  components: JpegComponent[];
  progressive: boolean;
}

const hex = (m: number) => `0xFF${m.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Walks every marker from SOI to EOI (skipping each scan's entropy-coded data) and checks what jpeg-js would
 * otherwise trip over with its own words or, worse, decode silently as grey: segment lengths, one 8-bit
 * frame with sane sampling factors, tables defined before the scans that use them, scans naming components
 * of the frame, and an end-of-image marker after the last scan. Gives size and component count (jpeg-js
 * always returns RGB, so a greyscale JPEG is recognised here and kept single-channel).
 */
function readStructure(name: string | undefined, b: Uint8Array): JpegHeader {
  const corrupt = (what: string) => inputError(name, `corrupt JPEG (${what})`);
  const u16 = (o: number) => (b[o] << 8) | b[o + 1];
  let frame: JpegHeader | null = null;
  const quant = new Set<number>();
  const dc = new Set<number>();
  const ac = new Set<number>();
  let scans = 0;
  let o = 2;
  for (;;) {
    if (o >= b.length) {
      throw inputError(
        name,
        scans > 0
          ? 'truncated JPEG (no end-of-image marker)'
          : 'truncated JPEG (file ends before the image data)',
      );
    }
    if (b[o] !== 0xff) throw corrupt(`no marker at byte ${o}; the data between segments is damaged`);
    while (o + 1 < b.length && b[o + 1] === 0xff) o++; // fill bytes
    if (o + 1 >= b.length) throw inputError(name, 'truncated JPEG (file ends inside a marker)');
    const m = b[o + 1];
    if (m === 0xd9) break;
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      o += 2;
      continue;
    }
    if (m === 0x00 || m === 0xd8) throw corrupt(`unexpected marker ${hex(m)} at byte ${o}`);
    if (o + 4 > b.length) throw inputError(name, 'truncated JPEG (file ends inside a marker)');
    const len = u16(o + 2);
    const seg = o + 4;
    const end = o + 2 + len;
    if (len < 2) throw corrupt(`segment ${hex(m)} at byte ${o} has length ${len}`);
    if (end > b.length)
      throw inputError(name, `truncated JPEG (file ends inside the ${hex(m)} segment at byte ${o})`);

    if ((m >= 0xe0 && m <= 0xef) || m === 0xfe || m === 0xdc) {
      // APPn, COM, DNL: nothing we need.
    } else if (m === 0xdb) {
      for (let k = seg; k < end;) {
        const pq = b[k] >> 4;
        const tq = b[k] & 15;
        if (pq > 1 || tq > 3) throw corrupt(`quantisation table spec 0x${b[k].toString(16)} is invalid`);
        k += 1 + 64 * (pq + 1);
        if (k > end) throw corrupt('quantisation table segment is shorter than its tables');
        quant.add(tq);
      }
    } else if (m === 0xc4) {
      for (let k = seg; k < end;) {
        const tc = b[k] >> 4;
        const th = b[k] & 15;
        if (tc > 1 || th > 3) throw corrupt(`Huffman table spec 0x${b[k].toString(16)} is invalid`);
        if (k + 17 > end) throw corrupt('Huffman table segment is shorter than its tables');
        let count = 0;
        for (let i = 1; i <= 16; i++) count += b[k + i];
        if (count > 256) throw corrupt(`Huffman table of ${count} codes (at most 256 exist)`);
        k += 17 + count;
        if (k > end) throw corrupt('Huffman table segment is shorter than its tables');
        (tc === 0 ? dc : ac).add(th);
      }
    } else if (m === 0xdd) {
      if (len !== 4) throw corrupt(`restart interval segment of length ${len}`);
    } else if (m === 0xc0 || m === 0xc1 || m === 0xc2) {
      if (frame) throw corrupt('more than one frame header');
      const precision = b[seg];
      const height = u16(seg + 1);
      const width = u16(seg + 3);
      const nc = b[seg + 5];
      if (len < 8 || len !== 8 + 3 * nc) throw corrupt(`frame header of length ${len} for ${nc} components`);
      if (precision !== 8) throw inputError(name, `unsupported JPEG variant (${precision}-bit samples)`);
      if (height === 0)
        throw inputError(name, 'unsupported JPEG variant (height given later in a DNL marker)');
      checkDimensions(name, width, height);
      if (nc === 4) throw inputError(name, 'unsupported JPEG variant (CMYK, 4 components)');
      if (nc !== 1 && nc !== 3) throw corrupt(`frame of ${nc} components (1 or 3 expected)`);
      const components: JpegComponent[] = [];
      for (let i = 0; i < nc; i++) {
        const k = seg + 6 + 3 * i;
        const c = { id: b[k], h: b[k + 1] >> 4, v: b[k + 1] & 15, tq: b[k + 2] };
        if (c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4)
          throw corrupt(`component ${c.id} has sampling factors ${c.h}x${c.v} (1 to 4 allowed)`);
        if (c.tq > 3) throw corrupt(`component ${c.id} uses quantisation table ${c.tq} (0 to 3 exist)`);
        if (components.some((x) => x.id === c.id)) throw corrupt(`component id ${c.id} appears twice`);
        components.push(c);
      }
      frame = { width, height, components, progressive: m === 0xc2 };
    } else if (m === 0xda) {
      if (!frame) throw corrupt('scan before frame header');
      const ns = b[seg];
      if (ns < 1 || ns > 4 || len !== 6 + 2 * ns)
        throw corrupt(`scan header of length ${len} for ${ns} components`);
      const ss = b[seg + 1 + 2 * ns];
      const ah = b[seg + 3 + 2 * ns] >> 4;
      for (let i = 0; i < ns; i++) {
        const id = b[seg + 1 + 2 * i];
        const td = b[seg + 2 + 2 * i] >> 4;
        const ta = b[seg + 2 + 2 * i] & 15;
        const c = frame.components.find((x) => x.id === id);
        if (!c) throw corrupt(`scan ${scans + 1} names component ${id}, which the frame does not have`);
        if (!quant.has(c.tq)) throw corrupt(`quantisation table ${c.tq} is used but never defined`);
        const needDc = !frame.progressive || (ss === 0 && ah === 0);
        const needAc = !frame.progressive || ss > 0;
        if (needDc && !dc.has(td)) throw corrupt(`DC Huffman table ${td} is used but never defined`);
        if (needAc && !ac.has(ta)) throw corrupt(`AC Huffman table ${ta} is used but never defined`);
      }
      scans++;
      // Entropy-coded data: 0xFF is escaped as FF00 and restart markers FFD0-FFD7 sit inside it.
      let k = end;
      while (k + 1 < b.length && !(b[k] === 0xff && b[k + 1] !== 0 && (b[k + 1] < 0xd0 || b[k + 1] > 0xd7)))
        k++;
      if (k + 1 >= b.length) throw inputError(name, 'truncated JPEG (file ends inside the image data)');
      o = k;
      continue;
    } else if (m === 0xc3 || (m >= 0xc5 && m <= 0xcf)) {
      throw inputError(name, 'unsupported JPEG variant (lossless/hierarchical/arithmetic coding)');
    } else if (m >= 0xf0 && m <= 0xfd) {
      throw inputError(name, `unsupported JPEG variant (extension marker ${hex(m)}, e.g. JPEG-LS)`);
    } else {
      throw corrupt(`unknown marker ${hex(m)} at byte ${o}`);
    }
    o = end;
  }
  if (!frame || scans === 0) throw inputError(name, 'truncated JPEG (file ends before the image data)');
  return frame;
}

/** Our words for what jpeg-js throws once the structure is known to be sound: damage inside a scan. */
function jpegLibraryError(name: string | undefined, err: unknown): InputError {
  if (err instanceof InputError) return err;
  const msg = err instanceof Error ? err.message : '';
  if (/unexpected marker|marker was not found/.test(msg))
    return inputError(name, 'corrupt JPEG (the compressed image data ends early or is damaged)');
  if (/huffman table/i.test(msg)) return inputError(name, 'corrupt JPEG (a Huffman table is invalid)');
  if (/huffman|ACn/i.test(msg))
    return inputError(name, 'corrupt JPEG (invalid Huffman code in the compressed image data)');
  return inputError(name, 'corrupt JPEG (the compressed image data is damaged)');
}

export function decodeJpeg(bytes: Uint8Array, name?: string): DecodedImage {
  const h = readStructure(name, bytes);
  const grey = h.components.length === 1;
  // jpeg-js keeps every 8x8 block of coefficients as its own Int32Array (256 bytes plus object overhead),
  // then 8-bit component planes, then the RGB output.
  const maxH = Math.max(...h.components.map((c) => c.h));
  const maxV = Math.max(...h.components.map((c) => c.v));
  const mcuX = Math.ceil(h.width / 8 / maxH);
  const mcuY = Math.ceil(h.height / 8 / maxV);
  let blocks = 0;
  for (const c of h.components) blocks += mcuX * c.h * mcuY * c.v;
  const n = h.width * h.height;
  const need = blocks * (256 + 96 + 64) + n * 3 + (grey ? n : 0);
  checkDecodeMemory(name, need, `a ${h.width}x${h.height} ${grey ? 'grey' : 'colour'} JPEG`);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decodeJpegLib(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: Math.ceil(MAX_DECODE_BYTES / 2 ** 20),
    });
  } catch (err) {
    throw jpegLibraryError(name, err);
  }
  const { width, height } = decoded;
  const rgb = decoded.data;
  if (width !== h.width || height !== h.height || rgb.length < n * 3)
    throw inputError(name, 'corrupt JPEG (the decoded image does not match its frame header)');
  if (grey) {
    const plane = new Uint8Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 3) plane[i] = rgb[j];
    return {
      raster: { width, height, data: plane, bitDepth: 8, channels: 1 },
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
    meta: { format: 'jpeg', bitDepth: 8, channels: h.components.length },
  };
}
