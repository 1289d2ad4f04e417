/**
 * Minimal TIFF writer for the calibration tests: one 8-bit grey page, uncompressed, with any extra tags a
 * microscope vendor writes (ASCII text, raw bytes, rationals, shorts). Little-endian.
 */
export type ExtraTag =
  | { tag: number; type: 'ascii'; value: string }
  | { tag: number; type: 'bytes'; value: Uint8Array }
  | { tag: number; type: 'rational'; value: [number, number] }
  | { tag: number; type: 'short'; value: number };

/** Latin-1 bytes (as SmartSEM writes its µ), not UTF-8. */
export function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

export function encodeGreyTiff(
  width: number,
  height: number,
  pixels: Uint8Array,
  extra: ExtraTag[] = [],
): Uint8Array {
  if (pixels.length !== width * height) throw new Error('pixel count does not match size');
  interface Entry {
    tag: number;
    type: number;
    count: number;
    data: Uint8Array;
  }
  const u16 = (v: number): Uint8Array => new Uint8Array([v & 0xff, (v >> 8) & 0xff]);
  const u32 = (v: number): Uint8Array =>
    new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
  const entries: Entry[] = [
    { tag: 256, type: 4, count: 1, data: u32(width) },
    { tag: 257, type: 4, count: 1, data: u32(height) },
    { tag: 258, type: 3, count: 1, data: u16(8) },
    { tag: 259, type: 3, count: 1, data: u16(1) },
    { tag: 262, type: 3, count: 1, data: u16(1) },
    { tag: 273, type: 4, count: 1, data: u32(0) }, // patched below
    { tag: 277, type: 3, count: 1, data: u16(1) },
    { tag: 278, type: 4, count: 1, data: u32(height) },
    { tag: 279, type: 4, count: 1, data: u32(width * height) },
  ];
  for (const e of extra) {
    if (e.type === 'ascii') {
      const b = latin1(e.value + '\0');
      entries.push({ tag: e.tag, type: 2, count: b.length, data: b });
    } else if (e.type === 'bytes')
      entries.push({ tag: e.tag, type: 1, count: e.value.length, data: e.value });
    else if (e.type === 'rational') {
      const b = new Uint8Array(8);
      b.set(u32(e.value[0]), 0);
      b.set(u32(e.value[1]), 4);
      entries.push({ tag: e.tag, type: 5, count: 1, data: b });
    } else entries.push({ tag: e.tag, type: 3, count: 1, data: u16(e.value) });
  }
  entries.sort((a, b) => a.tag - b.tag);
  const ifdOff = 8;
  const ifdSize = 2 + entries.length * 12 + 4;
  let dataOff = ifdOff + ifdSize;
  const blobs: { off: number; data: Uint8Array }[] = [];
  const offsets = new Map<Entry, number>();
  for (const e of entries) {
    if (e.data.length > 4) {
      offsets.set(e, dataOff);
      blobs.push({ off: dataOff, data: e.data });
      dataOff += e.data.length + (e.data.length & 1);
    }
  }
  const pixOff = dataOff;
  entries.find((e) => e.tag === 273)!.data = u32(pixOff);
  const out = new Uint8Array(pixOff + pixels.length);
  out.set([0x49, 0x49, 42, 0], 0);
  out.set(u32(ifdOff), 4);
  out.set(u16(entries.length), ifdOff);
  let p = ifdOff + 2;
  for (const e of entries) {
    out.set(u16(e.tag), p);
    out.set(u16(e.type), p + 2);
    out.set(u32(e.count), p + 4);
    const o = offsets.get(e);
    if (o !== undefined) out.set(u32(o), p + 8);
    else out.set(e.data, p + 8);
    p += 12;
  }
  out.set(u32(0), p);
  for (const b of blobs) out.set(b.data, b.off);
  out.set(pixels, pixOff);
  return out;
}
