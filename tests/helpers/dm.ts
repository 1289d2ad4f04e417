/**
 * A small Gatan DM3/DM4 writer for tests: any tag tree (groups, scalars, arrays, uint16 text, structs, arrays of
 * structs, raw encodings for hostile files), either data byte order, and `dmImageFile` for the usual layout of an
 * ImageList with a thumbnail and one or more images carrying calibration and microscope tags. Written to
 * exercise the decoder, not for speed.
 */

export type DmScalar =
  | 'int16'
  | 'int32'
  | 'uint16'
  | 'uint32'
  | 'float32'
  | 'float64'
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int64'
  | 'uint64';

const CODE: Record<DmScalar, number> = {
  int16: 2,
  int32: 3,
  uint16: 4,
  uint32: 5,
  float32: 6,
  float64: 7,
  bool: 8,
  int8: 9,
  uint8: 10,
  int64: 11,
  uint64: 12,
};
const SIZE: Record<DmScalar, number> = {
  int16: 2,
  int32: 4,
  uint16: 2,
  uint32: 4,
  float32: 4,
  float64: 8,
  bool: 1,
  int8: 1,
  uint8: 1,
  int64: 8,
  uint64: 8,
};

export type DmNode =
  | { group: DmEntry[] }
  | { scalar: DmScalar; value: number }
  | { array: DmScalar; values: ArrayLike<number> }
  /** Text as DigitalMicrograph stores it: an array of uint16 code units. */
  | { text: string }
  /** Type 18 string with its byte length in the type words. */
  | { string: string }
  | { struct: Array<[DmScalar, number]> }
  | { structArray: DmScalar[]; values: number[][] }
  /** Type words and data bytes as given: encodings the reader should refuse or step over. */
  | { raw: number[]; data: Uint8Array };

export interface DmEntry {
  name: string;
  node: DmNode;
}

export interface DmWriteOptions {
  version: 3 | 4;
  littleEndian: boolean;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A big-endian structure word: 4 bytes in DM3, 8 in DM4. */
function word(v: number, v4: boolean): Uint8Array {
  const b = new Uint8Array(v4 ? 8 : 4);
  const dv = new DataView(b.buffer);
  if (v4) dv.setBigUint64(0, BigInt(v), false);
  else dv.setUint32(0, v, false);
  return b;
}

function values(type: DmScalar, vals: ArrayLike<number>, le: boolean): Uint8Array {
  const size = SIZE[type];
  const b = new Uint8Array(size * vals.length);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < vals.length; i++) {
    const o = i * size;
    const v = vals[i];
    switch (type) {
      case 'int16':
        dv.setInt16(o, v, le);
        break;
      case 'int32':
        dv.setInt32(o, v, le);
        break;
      case 'uint16':
        dv.setUint16(o, v, le);
        break;
      case 'uint32':
        dv.setUint32(o, v, le);
        break;
      case 'float32':
        dv.setFloat32(o, v, le);
        break;
      case 'float64':
        dv.setFloat64(o, v, le);
        break;
      case 'int8':
        dv.setInt8(o, v);
        break;
      case 'bool':
      case 'uint8':
        dv.setUint8(o, v);
        break;
      case 'int64':
        dv.setBigInt64(o, BigInt(v), le);
        break;
      case 'uint64':
        dv.setBigUint64(o, BigInt(v), le);
    }
  }
  return b;
}

function dataBody(node: Exclude<DmNode, { group: DmEntry[] }>, o: DmWriteOptions): Uint8Array {
  const v4 = o.version === 4;
  const le = o.littleEndian;
  let info: number[];
  let data: Uint8Array;
  if ('scalar' in node) {
    info = [CODE[node.scalar]];
    data = values(node.scalar, [node.value], le);
  } else if ('array' in node) {
    info = [20, CODE[node.array], node.values.length];
    data = values(node.array, node.values, le);
  } else if ('text' in node) {
    const codes = Array.from(node.text, (c) => c.charCodeAt(0));
    info = [20, 4, codes.length];
    data = values('uint16', codes, le);
  } else if ('string' in node) {
    data = Uint8Array.from(node.string, (c) => c.charCodeAt(0));
    info = [18, data.length];
  } else if ('struct' in node) {
    info = [15, 0, node.struct.length, ...node.struct.flatMap(([t]) => [0, CODE[t]])];
    data = concat(node.struct.map(([t, v]) => values(t, [v], le)));
  } else if ('structArray' in node) {
    const f = node.structArray;
    info = [20, 15, 0, f.length, ...f.flatMap((t) => [0, CODE[t]]), node.values.length];
    data = concat(node.values.flatMap((row) => row.map((v, k) => values(f[k], [v], le))));
  } else {
    info = node.raw;
    data = node.data;
  }
  return concat([
    Uint8Array.from([0x25, 0x25, 0x25, 0x25]),
    word(info.length, v4),
    ...info.map((w) => word(w, v4)),
    data,
  ]);
}

function groupBody(entries: DmEntry[], o: DmWriteOptions, count = entries.length): Uint8Array {
  return concat([Uint8Array.from([1, 0]), word(count, o.version === 4), ...entries.map((e) => entry(e, o))]);
}

function entry(e: DmEntry, o: DmWriteOptions): Uint8Array {
  const name = Uint8Array.from(e.name, (c) => c.charCodeAt(0));
  const head = new Uint8Array(3);
  head[0] = 'group' in e.node ? 20 : 21;
  new DataView(head.buffer).setUint16(1, name.length, false);
  const body = 'group' in e.node ? groupBody(e.node.group, o) : dataBody(e.node, o);
  // DM4 gives each entry's size after its name.
  return concat(o.version === 4 ? [head, name, word(body.length, true), body] : [head, name, body]);
}

/** A whole file: header (version, root length, byte order), the root group, and the 8 zero bytes DM ends with. */
export function writeDm(root: DmEntry[], o: DmWriteOptions): Uint8Array {
  const v4 = o.version === 4;
  const body = concat([groupBody(root, o), new Uint8Array(8)]);
  const version = new Uint8Array(4);
  new DataView(version.buffer).setUint32(0, o.version, false);
  const order = new Uint8Array(4);
  new DataView(order.buffer).setUint32(0, o.littleEndian ? 1 : 0, false);
  return concat([version, word(body.length, v4), order, body]);
}

/** Byte offset of the root group's entry count (after the header and the two flag bytes). */
export function rootCountOffset(version: 3 | 4): number {
  return version === 4 ? 18 : 14;
}

/** DM image data type -> the array element type its pixels are stored as. */
const STORAGE: Record<number, DmScalar> = {
  1: 'int16',
  2: 'float32',
  3: 'float32',
  6: 'uint8',
  7: 'int32',
  8: 'uint32',
  9: 'int8',
  10: 'uint16',
  11: 'uint32',
  12: 'float64',
  13: 'float64',
  14: 'uint8',
  23: 'uint32',
};

export interface DmImageSpec {
  /** Dimensions as stored: [width, height] or [width, height, frames] (or [length] for a spectrum). */
  dims: number[];
  /** DM image data type (1 int16, 2 float32, 6 uint8, 7 int32, 9 int8, 10 uint16, 11 uint32, 12 float64 ...). */
  dataType: number;
  /** All pixels of all frames, row-major; complex types take two values per pixel. */
  values: ArrayLike<number>;
  /** Per-axis Scale and Units (Dimension[0], Dimension[1]). */
  calibration?: Array<{ scale: number; units: string }>;
  microscope?: { name?: string; voltage?: number; magnification?: number; mode?: string };
  name?: string;
}

function imageEntry(img: DmImageSpec): DmEntry {
  const cal = img.calibration ?? img.dims.map(() => ({ scale: 1, units: '' }));
  const imageData: DmEntry[] = [
    {
      name: 'Calibrations',
      node: {
        group: [
          {
            name: 'Brightness',
            node: {
              group: [
                { name: 'Origin', node: { scalar: 'float32', value: 0 } },
                { name: 'Scale', node: { scalar: 'float32', value: 1 } },
                { name: 'Units', node: { text: 'Counts' } },
              ],
            },
          },
          {
            name: 'Dimension',
            node: {
              group: cal.map((c) => ({
                name: '',
                node: {
                  group: [
                    { name: 'Origin', node: { scalar: 'float32', value: 0 } },
                    { name: 'Scale', node: { scalar: 'float32', value: c.scale } },
                    { name: 'Units', node: { text: c.units } },
                  ],
                },
              })),
            },
          },
          { name: 'DisplayCalibratedUnits', node: { scalar: 'bool', value: 1 } },
        ],
      },
    },
    { name: 'Data', node: { array: STORAGE[img.dataType] ?? 'uint8', values: img.values } },
    { name: 'DataType', node: { scalar: 'int32', value: img.dataType } },
    {
      name: 'Dimensions',
      node: { group: img.dims.map((d) => ({ name: '', node: { scalar: 'uint32', value: d } })) },
    },
    { name: 'PixelDepth', node: { scalar: 'uint32', value: SIZE[STORAGE[img.dataType] ?? 'uint8'] } },
  ];
  const tags: DmEntry[] = [];
  if (img.microscope) {
    const m = img.microscope;
    const info: DmEntry[] = [];
    if (m.name !== undefined) info.push({ name: 'Microscope', node: { text: m.name } });
    if (m.voltage !== undefined)
      info.push({ name: 'Voltage', node: { scalar: 'float64', value: m.voltage } });
    if (m.magnification !== undefined)
      info.push({ name: 'Indicated Magnification', node: { scalar: 'float64', value: m.magnification } });
    if (m.mode !== undefined) info.push({ name: 'Illumination Mode', node: { text: m.mode } });
    info.push({ name: 'Emission Current (\u00b5A)', node: { scalar: 'float32', value: 12.5 } });
    tags.push({ name: 'Microscope Info', node: { group: info } });
  }
  tags.push({ name: 'GMS Version', node: { group: [{ name: 'Created', node: { text: '3.42.2802.0' } }] } });
  return {
    name: '',
    node: {
      group: [
        {
          name: 'ImageData',
          node: { group: imageData },
        },
        {
          name: 'ImageTags',
          node: { group: tags },
        },
        { name: 'Name', node: { text: img.name ?? 'image' } },
        {
          name: 'UniqueID',
          node: {
            struct: [
              ['uint32', 1],
              ['uint32', 2],
              ['uint32', 3],
              ['uint32', 4],
            ],
          },
        },
      ],
    },
  };
}

/** The small RGBA preview DM puts first in the ImageList. */
export function thumbnail(width = 24, height = 18): DmImageSpec {
  const values = new Array<number>(width * height);
  for (let i = 0; i < values.length; i++) values[i] = 0xff000000 + ((i * 2654435761) % 0xffffff);
  return { dims: [width, height], dataType: 23, values, name: 'thumbnail' };
}

/** A file laid out as DigitalMicrograph writes one: document tags around an ImageList of the given images. */
export function dmImageFile(images: DmImageSpec[], o: DmWriteOptions): Uint8Array {
  const clut: number[][] = [];
  for (let i = 0; i < 256; i++) clut.push([i, i, i]);
  return writeDm(
    [
      {
        name: 'ApplicationBounds',
        node: {
          struct: [
            ['int32', 0],
            ['int32', 0],
            ['int32', 1200],
            ['int32', 1900],
          ],
        },
      },
      {
        name: 'DocumentObjectList',
        node: {
          group: [
            {
              name: '',
              node: {
                group: [
                  { name: 'AnnotationType', node: { scalar: 'int32', value: 20 } },
                  // A colour table as DM writes it: an array of RGB structs.
                  {
                    name: 'ImageDisplayInfo',
                    node: {
                      group: [
                        { name: 'CLUT', node: { structArray: ['int16', 'int16', 'int16'], values: clut } },
                      ],
                    },
                  },
                ],
              },
            },
          ],
        },
      },
      { name: 'HasWindowPosition', node: { scalar: 'bool', value: 1 } },
      { name: 'ImageList', node: { group: images.map(imageEntry) } },
      { name: 'ImageSourceList', node: { group: [{ name: 'Label', node: { string: 'source' } }] } },
      { name: 'InImageMode', node: { scalar: 'bool', value: 1 } },
      {
        name: 'Thumbnails',
        node: {
          group: [
            { name: '', node: { group: [{ name: 'ImageIndex', node: { scalar: 'uint64', value: 0 } }] } },
          ],
        },
      },
    ],
    o,
  );
}
