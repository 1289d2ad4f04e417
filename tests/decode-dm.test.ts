/**
 * Gatan DM3/DM4 and MRC input, on files written in code: every pixel type in both versions and byte orders, the
 * thumbnail that comes first, calibration in nm/µm/Å through readMetadata and calibrate, stacks, and hostile
 * files (truncated anywhere, absurd counts and sizes, deep nesting, unknown encodings) that must fail fast with
 * one line naming the file.
 */
import { describe, expect, it } from 'vitest';
import { calibrate, readMetadata } from '../src/core/calibrate/index';
import { decodeImage } from '../src/core/decode/index';
import { toGrey } from '../src/core/normalise';
import { InputError } from '../src/core/types';
import {
  dmImageFile,
  rootCountOffset,
  thumbnail,
  writeDm,
  type DmEntry,
  type DmImageSpec,
  type DmWriteOptions,
} from './helpers/dm';

const W = 7;
const H = 5;

function errorOf(bytes: Uint8Array, name: string): string {
  let err: unknown;
  try {
    decodeImage(bytes, name);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  const msg = (err as Error).message;
  expect(msg.startsWith(`${name}: `)).toBe(true);
  expect(msg).not.toMatch(/\n/);
  return msg;
}

/** Known pixel values for each DM data type, chosen to use the type's range (signs, top bits). */
const TYPES: Array<{ dataType: number; what: string; values: number[]; bitDepth: number }> = [
  { dataType: 9, what: 'int8', values: ramp((i) => ((i * 37) % 256) - 128), bitDepth: 32 },
  { dataType: 6, what: 'uint8', values: ramp((i) => (i * 37) % 256), bitDepth: 8 },
  { dataType: 1, what: 'int16', values: ramp((i) => ((i * 4099) % 65536) - 32768), bitDepth: 32 },
  { dataType: 10, what: 'uint16', values: ramp((i) => (i * 4099) % 65536), bitDepth: 16 },
  { dataType: 7, what: 'int32', values: ramp((i) => (i - 17) * 2 ** 26), bitDepth: 32 },
  { dataType: 11, what: 'uint32', values: ramp((i) => i * 2 ** 26 + 3 * i), bitDepth: 32 },
  { dataType: 2, what: 'float32', values: ramp((i) => (i - 10) * 0.375), bitDepth: 32 },
  { dataType: 12, what: 'float64', values: ramp((i) => (i - 10) * 1.5e-3), bitDepth: 32 },
];

function ramp(f: (i: number) => number): number[] {
  return Array.from({ length: W * H }, (_, i) => f(i));
}

const ORDERS: DmWriteOptions[] = [
  { version: 3, littleEndian: true },
  { version: 3, littleEndian: false },
  { version: 4, littleEndian: true },
  { version: 4, littleEndian: false },
];

const axes = (scale: number, units: string): DmImageSpec['calibration'] => [
  { scale, units },
  { scale, units },
];
const nm = (scale: number) => axes(scale, 'nm');

describe('DM3/DM4 pixels', () => {
  for (const o of ORDERS) {
    const tag = `DM${o.version} ${o.littleEndian ? 'little' : 'big'} endian`;
    for (const t of TYPES) {
      it(`${tag}: ${t.what} pixels exactly, behind a thumbnail`, () => {
        const bytes = dmImageFile(
          [thumbnail(), { dims: [W, H], dataType: t.dataType, values: t.values, calibration: nm(0.5) }],
          o,
        );
        const d = decodeImage(bytes, `a.dm${o.version}`);
        expect(d.meta.format).toBe(`dm${o.version}`);
        expect(d.raster).toMatchObject({ width: W, height: H, channels: 1, bitDepth: t.bitDepth });
        expect(Array.from(d.raster.data)).toEqual(t.values.map((v) => Math.fround(v)));
      });
    }
  }

  it('binary images become 0/255', () => {
    const values = ramp((i) => (i % 3 === 0 ? 1 : 0));
    const d = decodeImage(dmImageFile([{ dims: [W, H], dataType: 14, values }], ORDERS[2]), 'b.dm4');
    expect(Array.from(d.raster.data)).toEqual(values.map((v) => v * 255));
  });

  it('picks the largest grey image, wherever the thumbnail and other images sit', () => {
    const small = { dims: [3, 2], dataType: 10, values: [1, 2, 3, 4, 5, 6] };
    const big = TYPES[3];
    const bytes = dmImageFile(
      [small, thumbnail(40, 40), { dims: [W, H], dataType: 10, values: big.values }],
      ORDERS[0],
    );
    const d = decodeImage(bytes, 'c.dm3');
    expect([d.raster.width, d.raster.height]).toEqual([W, H]);
    expect(Array.from(d.raster.data)).toEqual(big.values);
  });

  it('a 3-D stack gives its first frame and says so', () => {
    const frames = 3;
    const values = Array.from(
      { length: W * H * frames },
      (_, i) => 1000 * Math.floor(i / (W * H)) + (i % (W * H)),
    );
    const bytes = dmImageFile(
      [thumbnail(), { dims: [W, H, frames], dataType: 10, values, calibration: nm(0.25) }],
      ORDERS[3],
    );
    const d = decodeImage(bytes, 'stack.dm4');
    expect(d.meta.pages).toBe(3);
    expect(Array.from(d.raster.data)).toEqual(values.slice(0, W * H));
    const m = readMetadata(d.meta, W);
    expect(m.warnings).toEqual(['DM4 file holds a stack of 3 frames; only the first is analysed']);
    expect(m.pixelSizeNm).toBeCloseTo(0.25, 7);
  });
});

describe('DM3/DM4 calibration and instrument', () => {
  const values = TYPES[3].values;

  it('nm calibration and the microscope tags reach calibrate() as metadata', () => {
    const bytes = dmImageFile(
      [
        thumbnail(),
        {
          dims: [W, H],
          dataType: 10,
          values,
          calibration: nm(0.512),
          microscope: { name: 'JEM-ARM200F', voltage: 200000, magnification: 5000000, mode: 'STEM' },
        },
      ],
      ORDERS[2],
    );
    const decoded = decodeImage(bytes, 'stem.dm4');
    const m = readMetadata(decoded.meta, W);
    expect(m.pixelSizeNm).toBe(0.512);
    expect(m.detail).toBe('DM4 calibration 0.512 nm/px');
    expect(m.instrument).toEqual({
      vendor: 'JEM-ARM200F',
      magnification: '5000000 x',
      voltage: '200 kV',
      mode: 'STEM',
    });
    const cal = calibrate({
      decoded,
      grey: toGrey(decoded.raster),
      options: { banner: 'off', pixelSizeOverride: null },
    }).calibration;
    expect(cal).toMatchObject({ unit: 'nm', source: 'metadata', detail: 'DM4 calibration 0.512 nm/px' });
    expect(cal.pixelSize).toBe(0.512);
    expect(cal.instrument?.voltage).toBe('200 kV');
  });

  it('Å is converted to nm and µm reported as µm', () => {
    const a = decodeImage(
      dmImageFile(
        [{ dims: [W, H], dataType: 10, values, calibration: [{ scale: 2.5, units: 'Å' }] }],
        ORDERS[1],
      ),
      'a.dm3',
    );
    const ma = readMetadata(a.meta, W);
    expect(ma.pixelSizeNm).toBeCloseTo(0.25, 7);
    expect(ma.detail).toBe('DM3 calibration 2.5 Å/px (0.25 nm)');

    const u = decodeImage(
      dmImageFile(
        [
          {
            dims: [W, H],
            dataType: 10,
            values,
            calibration: axes(1.25, 'µm'),
          },
        ],
        ORDERS[0],
      ),
      'u.dm3',
    );
    const mu = readMetadata(u.meta, W);
    expect(mu.pixelSizeNm).toBeCloseTo(1250, 3);
    expect(mu.detail).toBe('DM3 calibration 1.25 µm/px (1250 nm)');
  });

  it('an uncalibrated image has no pixel size; a diffraction pattern (1/nm) says why not', () => {
    const plain = decodeImage(dmImageFile([{ dims: [W, H], dataType: 10, values }], ORDERS[2]), 'p.dm4');
    const mp = readMetadata(plain.meta, W);
    expect(mp.pixelSizeNm).toBeNull();
    expect(mp.warnings).toEqual([]);

    const dp = decodeImage(
      dmImageFile(
        [
          {
            dims: [W, H],
            dataType: 2,
            values,
            calibration: axes(0.0125, '1/nm'),
          },
        ],
        ORDERS[2],
      ),
      'dp.dm4',
    );
    const md = readMetadata(dp.meta, W);
    expect(md.pixelSizeNm).toBeNull();
    expect(md.warnings).toEqual([
      'DM4 calibration 0.0125 1/nm/px: "1/nm" is not a length unit, so no pixel size',
    ]);
  });

  it('non-square pixels: the x size is used, with a warning', () => {
    const d = decodeImage(
      dmImageFile(
        [
          {
            dims: [W, H],
            dataType: 10,
            values,
            calibration: [
              { scale: 0.5, units: 'nm' },
              { scale: 0.6, units: 'nm' },
            ],
          },
        ],
        ORDERS[2],
      ),
      'ns.dm4',
    );
    const m = readMetadata(d.meta, W);
    expect(m.pixelSizeNm).toBeCloseTo(0.5, 7);
    expect(m.warnings).toEqual(['DM4 pixels are not square (x 0.5 nm, y 0.6 nm); the x size is used']);
  });
});

describe('hostile DM files', () => {
  const good = (o: DmWriteOptions) =>
    dmImageFile(
      [thumbnail(), { dims: [W, H], dataType: 10, values: TYPES[3].values, calibration: nm(0.5) }],
      o,
    );

  for (const o of [ORDERS[0], ORDERS[3]]) {
    it(`DM${o.version} cut at any point before its end marker: one 'truncated' line`, () => {
      const full = good(o);
      const start = rootCountOffset(o.version) + 1;
      // Every cut position would be 2k+ decodes; a prime stride still lands in every kind of field.
      for (let cut = start; cut < full.length - 8; cut += 7) {
        const msg = errorOf(full.subarray(0, cut), 'cut.dm');
        expect(msg).toMatch(new RegExp(`^cut\\.dm: truncated DM${o.version} file \\(ends inside `));
      }
    });
  }

  it('huge tag counts fail at once, without allocating', () => {
    for (const version of [3, 4] as const) {
      const b = good({ version, littleEndian: true }).slice();
      const at = rootCountOffset(version);
      // DM3: 2^32 - 1; DM4: 2^40, beyond any file but a finite word.
      if (version === 3) b.fill(0xff, at, at + 4);
      else b.set([0, 0, 1, 0, 0, 0, 0, 0], at);
      const t0 = performance.now();
      const msg = errorOf(b, 'huge.dm');
      expect(performance.now() - t0).toBeLessThan(50);
      const n = version === 3 ? 2 ** 32 - 1 : 2 ** 40;
      expect(msg).toBe(
        `huge.dm: corrupt DM${version} file (the root group claims ${n} entries, more than the file can hold)`,
      );
    }
  });

  it('an array claiming more values than the file holds fails at once', () => {
    const b = writeDm([{ name: 'X', node: { raw: [20, 4, 2 ** 50], data: new Uint8Array(4) } }], ORDERS[2]);
    expect(errorOf(b, 'arr.dm4')).toBe(
      `arr.dm4: corrupt DM4 file (tag X claims ${2 ** 50} values, more than the file holds)`,
    );
  });

  it('deep nesting is refused', () => {
    let node: DmEntry = { name: 'leaf', node: { scalar: 'int32', value: 1 } };
    for (let i = 0; i < 200; i++) node = { name: 'g', node: { group: [node] } };
    for (const o of [ORDERS[0], ORDERS[2]]) {
      expect(errorOf(writeDm([node], o), 'deep.dm')).toBe(
        `deep.dm: corrupt DM${o.version} file (tag groups nested deeper than 64)`,
      );
    }
  });

  it('wrong magic is not taken for DM', () => {
    const b = good(ORDERS[2]).slice();
    b[3] = 5;
    expect(errorOf(b, 'v5.dm4')).toBe(
      'v5.dm4: not an image (unknown format; expected PNG, JPEG, TIFF, DM3/DM4 or MRC)',
    );
  });

  it('a broken marker, a bad tag kind and an unknown encoding are named', () => {
    const marker = good(ORDERS[0]).slice();
    // The first data tag's marker: root flags/count, then kind, name length, "ApplicationBounds".
    const m = 12 + 2 + 4 + 3 + 'ApplicationBounds'.length;
    expect(String.fromCharCode(...marker.subarray(m, m + 4))).toBe('%%%%');
    marker[m] = 0x26;
    expect(errorOf(marker, 'm.dm3')).toBe(
      'm.dm3: corrupt DM3 file (tag ApplicationBounds lacks its %%%% marker)',
    );

    const kind = good(ORDERS[0]).slice();
    kind[18] = 7;
    expect(errorOf(kind, 'k.dm3')).toBe(
      'k.dm3: corrupt DM3 file (tag kind 7 at byte 18 is neither group nor data)',
    );

    const odd: DmEntry = { name: 'Odd', node: { raw: [99, 3], data: new Uint8Array(6) } };
    const img = (o: DmWriteOptions) => writeDm([odd, { name: 'ImageList', node: { group: [] } }], o);
    expect(errorOf(img(ORDERS[0]), 'u.dm3')).toBe('u.dm3: unsupported DM3 file (tag Odd has encoding 99,3)');
    // DM4 states each entry's size, so the reader steps over what it cannot read and goes on.
    expect(errorOf(img(ORDERS[2]), 'u.dm4')).toBe(
      'u.dm4: DM4 file holds no image (no ImageList entry with image data)',
    );
  });

  it('refuses RGB-only, complex and 1-D files by what they hold', () => {
    expect(errorOf(dmImageFile([thumbnail()], ORDERS[2]), 'rgb.dm4')).toBe(
      'rgb.dm4: unsupported DM4 image (RGB pixels); save it as a grey-level image',
    );
    const complex = { dims: [W, H], dataType: 3, values: ramp((i) => i).concat(ramp((i) => -i)) };
    expect(errorOf(dmImageFile([thumbnail(), complex], ORDERS[2]), 'fft.dm4')).toBe(
      'fft.dm4: unsupported DM4 image (complex (a Fourier transform?) pixels); save it as a grey-level image',
    );
    const spectrum = { dims: [2048], dataType: 2, values: new Array<number>(2048).fill(1) };
    expect(errorOf(dmImageFile([spectrum], ORDERS[0]), 'eels.dm3')).toBe(
      'eels.dm3: DM3 file holds a spectrum or profile (1-D data), not an image',
    );
  });

  it('dimensions that do not match the data, or are absurd, are refused', () => {
    const short = { dims: [W, H + 1], dataType: 10, values: TYPES[3].values };
    expect(errorOf(dmImageFile([short], ORDERS[2]), 's.dm4')).toBe(
      `s.dm4: corrupt DM4 file (image data holds ${W * H * 2} bytes; ${W}x${H + 1} uint16 needs ${W * (H + 1) * 2})`,
    );
    const absurd = { dims: [100000, 100000], dataType: 10, values: TYPES[3].values };
    expect(errorOf(dmImageFile([absurd], ORDERS[2]), 'x.dm4')).toMatch(
      /absurd image dimensions 100000x100000/,
    );
  });
});

describe('MRC', () => {
  interface MrcSpec {
    nx: number;
    ny: number;
    nz?: number;
    mode: number;
    values: number[];
    le?: boolean;
    cellX?: number;
    mx?: number;
    ext?: number;
    imodUnsigned?: boolean;
  }

  function mrc(s: MrcSpec): Uint8Array {
    const le = s.le ?? true;
    const bytes = ({ 0: 1, 1: 2, 2: 4, 6: 2, 12: 2 } as Record<number, number>)[s.mode] ?? 4;
    const ext = s.ext ?? 0;
    const b = new Uint8Array(1024 + ext + s.values.length * bytes);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, s.nx, le);
    dv.setInt32(4, s.ny, le);
    dv.setInt32(8, s.nz ?? 1, le);
    dv.setInt32(12, s.mode, le);
    dv.setInt32(28, s.mx ?? s.nx, le);
    dv.setInt32(32, s.ny, le);
    dv.setInt32(36, s.nz ?? 1, le);
    dv.setFloat32(40, s.cellX ?? 0, le);
    dv.setInt32(92, ext, le);
    if (s.imodUnsigned) {
      dv.setInt32(152, 1146047817, le);
      dv.setInt32(156, 0, le);
    }
    b.set([0x4d, 0x41, 0x50, 0x20], 208);
    b.set(le ? [0x44, 0x44, 0, 0] : [0x11, 0x11, 0, 0], 212);
    const at = 1024 + ext;
    s.values.forEach((v, i) => {
      if (s.mode === 0) dv.setInt8(at + i, v);
      else if (s.mode === 1) dv.setInt16(at + 2 * i, v, le);
      else if (s.mode === 2) dv.setFloat32(at + 4 * i, v, le);
      else dv.setUint16(at + 2 * i, v, le);
    });
    return b;
  }

  it('reads int16, float32 (big endian), uint16 and the pixel size in Å', () => {
    const v16 = ramp((i) => i * 300 - 5000);
    const a = decodeImage(mrc({ nx: W, ny: H, mode: 1, values: v16, cellX: W * 1.5 }), 'a.mrc');
    expect(a.meta).toMatchObject({ format: 'mrc', bitDepth: 16, pages: 1 });
    expect(Array.from(a.raster.data)).toEqual(v16);
    const m = readMetadata(a.meta, W);
    expect(m.pixelSizeNm).toBeCloseTo(0.15, 6);
    expect(m.detail).toBe('MRC header 1.5 Å/px (0.15 nm)');

    const vf = ramp((i) => (i - 3) * 0.25);
    const f = decodeImage(mrc({ nx: W, ny: H, mode: 2, values: vf, le: false, ext: 64 }), 'f.mrc');
    expect(Array.from(f.raster.data)).toEqual(vf);
    expect(readMetadata(f.meta, W).pixelSizeNm).toBeNull();

    const vu = ramp((i) => i * 1800);
    const u = decodeImage(mrc({ nx: W, ny: H, mode: 6, values: vu }), 'u.mrc');
    expect(u.raster).toMatchObject({ bitDepth: 16, data: Uint16Array.from(vu) });
  });

  it('mode 0 is signed unless IMOD flags it unsigned; float16 is widened', () => {
    const vs = ramp((i) => i * 3 - 50);
    expect(Array.from(decodeImage(mrc({ nx: W, ny: H, mode: 0, values: vs }), 's.mrc').raster.data)).toEqual(
      vs,
    );
    const u = decodeImage(mrc({ nx: W, ny: H, mode: 0, values: vs, imodUnsigned: true }), 'u.mrc');
    expect(u.raster.bitDepth).toBe(8);
    expect(Array.from(u.raster.data)).toEqual(vs.map((v) => (v + 256) % 256));
    // 0x3c00 = 1, 0xc000 = -2, 0x3555 ~ 1/3, 0x0001 = 2^-24 (subnormal)
    const h = decodeImage(mrc({ nx: 4, ny: 1, mode: 12, values: [0x3c00, 0xc000, 0x3555, 0x0001] }), 'h.mrc');
    expect(Array.from(h.raster.data)).toEqual([1, -2, Math.fround(0.333251953125), Math.fround(2 ** -24)]);
  });

  it('a stack gives its first section; a 1 Å cell is taken as unset', () => {
    const values = Array.from({ length: W * H * 2 }, (_, i) => i);
    const d = decodeImage(mrc({ nx: W, ny: H, nz: 2, mode: 6, values, cellX: W }), 'st.mrc');
    expect(Array.from(d.raster.data)).toEqual(values.slice(0, W * H));
    const m = readMetadata(d.meta, W);
    expect(m.pixelSizeNm).toBeNull();
    expect(m.warnings).toEqual([
      'MRC file holds a stack of 2 sections; only the first is analysed',
      'MRC header gives exactly 1 Å/px, the value written when the pixel size is unknown; ignored',
    ]);
  });

  it('truncated, absurd and complex MRC files get one line', () => {
    const full = mrc({ nx: W, ny: H, mode: 1, values: ramp((i) => i) });
    expect(errorOf(full.subarray(0, 600), 't.mrc')).toBe(
      't.mrc: truncated MRC file (600 bytes, header needs 1024)',
    );
    expect(errorOf(full.subarray(0, 1030), 't.mrc')).toBe(
      `t.mrc: truncated MRC file (image data ends at byte 1030, ${W}x${H} needs ${1024 + W * H * 2})`,
    );
    const big = mrc({ nx: 1 << 20, ny: 1 << 20, mode: 2, values: [] });
    expect(errorOf(big, 'big.mrc')).toMatch(/absurd image dimensions 1048576x1048576/);
    const ext = mrc({ nx: W, ny: H, mode: 1, values: ramp((i) => i), ext: 0 });
    new DataView(ext.buffer).setInt32(92, 1 << 30, true);
    expect(errorOf(ext, 'e.mrc')).toBe(
      `e.mrc: corrupt MRC file (extended header of ${1 << 30} bytes does not fit the file)`,
    );
    expect(errorOf(mrc({ nx: W, ny: H, mode: 4, values: [] }), 'c.mrc')).toBe(
      'c.mrc: unsupported MRC image (complex float32 pixels, mode 4)',
    );
  });
});
