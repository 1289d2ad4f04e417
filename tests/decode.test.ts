import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/core/decode/index';
import { InputError } from '../src/core/types';
import { findChunk, fixCrc } from './helpers/png';
import { encodeTiff, latin1 } from './helpers/tiff';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

function ramp16(n: number): Uint16Array {
  return Uint16Array.from({ length: n }, (_, i) => (i * 997) % 65536);
}

function expectInputError(bytes: Uint8Array, pattern: RegExp, name = 'bad.file'): void {
  let err: unknown;
  try {
    decodeImage(bytes, name);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  const msg = (err as Error).message;
  expect(msg).toMatch(pattern);
  expect(msg.startsWith(`${name}: `)).toBe(true);
  expect(msg).not.toMatch(/\n/);
}

describe('PNG', () => {
  it('decodes 8-bit grey exactly', () => {
    const data = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const d = decodeImage(encodePng({ width: 4, height: 3, data, depth: 8, channels: 1 }), 'a.png');
    expect(d.meta).toMatchObject({ format: 'png', bitDepth: 8, channels: 1 });
    expect(d.raster).toMatchObject({ width: 4, height: 3, bitDepth: 8, channels: 1 });
    expect(Array.from(d.raster.data)).toEqual(Array.from(data));
  });

  it('keeps 16-bit grey at full range', () => {
    const data = ramp16(35);
    const d = decodeImage(encodePng({ width: 7, height: 5, data, depth: 16, channels: 1 }));
    expect(d.raster.bitDepth).toBe(16);
    expect(d.raster.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(d.raster.data)).toEqual(Array.from(data));
  });

  it('decodes RGB and RGBA interleaved', () => {
    const rgb = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 10);
    const d = decodeImage(encodePng({ width: 2, height: 2, data: rgb, depth: 8, channels: 3 }));
    expect(d.raster.channels).toBe(3);
    expect(Array.from(d.raster.data)).toEqual(Array.from(rgb));
    const rgba = Uint8Array.from({ length: 2 * 2 * 4 }, (_, i) => 255 - i);
    const e = decodeImage(encodePng({ width: 2, height: 2, data: rgba, depth: 8, channels: 4 }));
    expect(e.raster.channels).toBe(4);
    expect(Array.from(e.raster.data)).toEqual(Array.from(rgba));
  });

  it('expands palette images to RGB', () => {
    const idx = new Uint8Array([0, 1, 1, 0]);
    const palette = [
      [10, 20, 30],
      [200, 100, 50],
    ];
    const d = decodeImage(encodePng({ width: 2, height: 2, data: idx, depth: 8, channels: 1, palette }));
    expect(d.raster.channels).toBe(3);
    expect(Array.from(d.raster.data.subarray(0, 6))).toEqual([10, 20, 30, 200, 100, 50]);
  });

  it('spreads 1-bit grey to 0/255', () => {
    // Rows of 3 pixels, padded to a byte: 101, 010.
    const packed = new Uint8Array([0b10100000, 0b01000000]);
    const d = decodeImage(encodePng({ width: 3, height: 2, data: packed, depth: 1, channels: 1 }));
    expect(Array.from(d.raster.data)).toEqual([255, 0, 255, 0, 255, 0]);
  });
});

describe('JPEG', () => {
  it('decodes baseline RGB within JPEG error', () => {
    const w = 16;
    const h = 8;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([120, 120, 120, 255], i * 4);
    const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data);
    const d = decodeImage(bytes, 'x.jpg');
    expect(d.meta).toMatchObject({ format: 'jpeg', bitDepth: 8, channels: 3 });
    expect(d.raster).toMatchObject({ width: w, height: h, channels: 3, bitDepth: 8 });
    for (const v of d.raster.data) expect(Math.abs(v - 120)).toBeLessThanOrEqual(2);
  });

  // Many SEMs save 8-bit greyscale JPEGs (one component). Fixtures written by PIL (quality 95): a ramp 40 + 4x
  // across 40 x 24 pixels with a bright disc (250) of radius 6 at (28, 12).
  it.each(['grey-baseline.jpg', 'grey-progressive.jpg'])(
    'decodes a greyscale JPEG as one channel: %s',
    (f) => {
      const d = decodeImage(new Uint8Array(readFileSync(path.join(FIXTURES, f))), f);
      expect(d.meta).toMatchObject({ format: 'jpeg', bitDepth: 8, channels: 1 });
      expect(d.raster).toMatchObject({ width: 40, height: 24, channels: 1, bitDepth: 8 });
      expect(d.raster.data).toHaveLength(40 * 24);
      const at = (x: number, y: number) => d.raster.data[y * 40 + x];
      for (const x of [0, 10, 20, 39]) expect(Math.abs(at(x, 2) - (40 + 4 * x))).toBeLessThanOrEqual(4);
      expect(Math.abs(at(28, 12) - 250)).toBeLessThanOrEqual(4);
    },
  );
});

describe('TIFF', () => {
  const w = 5;
  const h = 4;
  const n = w * h;

  it('decodes 8-bit grey', () => {
    const data = Uint8Array.from({ length: n }, (_, i) => i * 12);
    const d = decodeImage(encodeTiff({ width: w, height: h, data, bitsPerSample: 8 }), 'g8.tif');
    expect(d.meta).toMatchObject({ format: 'tiff', bitDepth: 8, channels: 1, pages: 1 });
    expect(d.raster).toMatchObject({ width: w, height: h, bitDepth: 8, channels: 1 });
    expect(Array.from(d.raster.data)).toEqual(Array.from(data));
  });

  it('decodes 16-bit grey in both byte orders, several strips', () => {
    const data = ramp16(n);
    for (const littleEndian of [true, false]) {
      const bytes = encodeTiff(
        { width: w, height: h, data, bitsPerSample: 16, rowsPerStrip: 3 },
        { littleEndian },
      );
      const d = decodeImage(bytes);
      expect(d.raster.bitDepth).toBe(16);
      expect(d.raster.data).toBeInstanceOf(Uint16Array);
      expect(Array.from(d.raster.data)).toEqual(Array.from(data));
    }
  });

  it('decodes 32-bit float and 32-bit integer grey as float', () => {
    const f = Float32Array.from({ length: n }, (_, i) => i * 0.25 - 1.5);
    for (const littleEndian of [true, false]) {
      const d = decodeImage(
        encodeTiff({ width: w, height: h, data: f, bitsPerSample: 32, sampleFormat: 3 }, { littleEndian }),
      );
      expect(d.raster.bitDepth).toBe(32);
      expect(d.raster.data).toBeInstanceOf(Float32Array);
      expect(Array.from(d.raster.data)).toEqual(Array.from(f));
    }
    const u = Uint32Array.from({ length: n }, (_, i) => i * 100000);
    const d = decodeImage(encodeTiff({ width: w, height: h, data: u, bitsPerSample: 32 }));
    expect(d.meta.bitDepth).toBe(32);
    expect(Array.from(d.raster.data)).toEqual(Array.from(u));
    const s = Int16Array.from({ length: n }, (_, i) => i * 100 - 1000);
    const e = decodeImage(encodeTiff({ width: w, height: h, data: s, bitsPerSample: 16, sampleFormat: 2 }));
    expect(Array.from(e.raster.data)).toEqual(Array.from(s));
  });

  it('decodes RGB 8-bit and 16-bit', () => {
    const rgb = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 7) % 256);
    const d = decodeImage(
      encodeTiff({ width: w, height: h, data: rgb, bitsPerSample: 8, samplesPerPixel: 3 }),
    );
    expect(d.raster).toMatchObject({ channels: 3, bitDepth: 8 });
    expect(Array.from(d.raster.data)).toEqual(Array.from(rgb));
    const rgb16 = ramp16(n * 3);
    const e = decodeImage(
      encodeTiff(
        { width: w, height: h, data: rgb16, bitsPerSample: 16, samplesPerPixel: 3 },
        { littleEndian: false },
      ),
    );
    expect(e.raster).toMatchObject({ channels: 3, bitDepth: 16 });
    expect(Array.from(e.raster.data)).toEqual(Array.from(rgb16));
  });

  it('reads the first page of a multi-page file and counts pages', () => {
    const p1 = Uint8Array.from({ length: n }, (_, i) => i);
    const p2 = new Uint8Array(8 * 8).fill(9);
    const bytes = encodeTiff([
      {
        width: w,
        height: h,
        data: p1,
        bitsPerSample: 8,
        extraTags: [{ tag: 270, type: 'ascii', value: 'first' }],
      },
      {
        width: 8,
        height: 8,
        data: p2,
        bitsPerSample: 8,
        extraTags: [{ tag: 270, type: 'ascii', value: 'second' }],
      },
      { width: 8, height: 8, data: p2, bitsPerSample: 8 },
    ]);
    const d = decodeImage(bytes);
    expect(d.meta.pages).toBe(3);
    expect(d.raster.width).toBe(w);
    expect(Array.from(d.raster.data)).toEqual(Array.from(p1));
    expect(d.meta.tiffTags?.[270]).toBe('first');
  });

  it('decodes PackBits, Deflate and tiled files', () => {
    const data = ramp16(40 * 37);
    for (const page of [
      { compression: 32773 },
      { compression: 8 },
      { tileSize: 16 },
      { tileSize: 16, compression: 8 },
    ]) {
      const d = decodeImage(
        encodeTiff({ width: 40, height: 37, data, bitsPerSample: 16, rowsPerStrip: 10, ...page }),
      );
      expect(Array.from(d.raster.data)).toEqual(Array.from(data));
    }
  });

  it('decodes LZW (as ImageJ and most microscope software save), across code widths and table restarts', () => {
    // Noisy 16-bit data: tens of thousands of codes, so 9- to 12-bit codes and several Clear codes occur.
    const w = 211;
    const h = 157;
    const data = new Uint16Array(w * h);
    let seed = 7;
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      data[i] = ((i % w) * 300 + (seed >>> 24)) & 0xffff;
    }
    for (const page of [{ rowsPerStrip: h }, { rowsPerStrip: 20 }, { tileSize: 32 }]) {
      const d = decodeImage(
        encodeTiff({ width: w, height: h, data, bitsPerSample: 16, compression: 5, ...page }),
      );
      expect(Array.from(d.raster.data)).toEqual(Array.from(data));
    }
    // 8-bit grey with long flat runs (the table's long strings)
    const flat = new Uint8Array(w * h);
    for (let i = 0; i < flat.length; i++) flat[i] = (Math.floor(i / 997) * 37) & 0xff;
    const d8 = decodeImage(encodeTiff({ width: w, height: h, data: flat, bitsPerSample: 8, compression: 5 }));
    expect(Array.from(d8.raster.data)).toEqual(Array.from(flat));
  });

  it('decodes 1-bit, palette and WhiteIsZero grey', () => {
    const bits = new Uint8Array([0b10100000, 0b01000000]);
    const d = decodeImage(encodeTiff({ width: 3, height: 2, data: bits, bitsPerSample: 1 }));
    expect(Array.from(d.raster.data)).toEqual([255, 0, 255, 0, 255, 0]);
    const map = new Array(768).fill(0);
    map[1] = 0xffff; // red of index 1
    map[512 + 2] = 0x8000; // blue of index 2
    const e = decodeImage(
      encodeTiff({
        width: 3,
        height: 1,
        data: new Uint8Array([0, 1, 2]),
        bitsPerSample: 8,
        photometric: 3,
        colorMap: map,
      }),
    );
    expect(Array.from(e.raster.data)).toEqual([0, 0, 0, 255, 0, 0, 0, 0, 128]);
    const f = decodeImage(
      encodeTiff({ width: 2, height: 1, data: new Uint8Array([0, 200]), bitsPerSample: 8, photometric: 0 }),
    );
    expect(Array.from(f.raster.data)).toEqual([255, 55]);
  });

  it('keeps first-IFD tags by numeric id, vendor text tags as strings', () => {
    const zeiss = 'AP_PIXEL_SIZE\r\nPixel Size = 2.5 nm\r\nAP_MAG\r\nMag = 50.00 K X\r\nµ';
    const fei = '[Scan]\r\nPixelWidth=1.2e-09\r\nPixelHeight=1.2e-09\r\n';
    const bytes = encodeTiff({
      width: w,
      height: h,
      data: new Uint8Array(n),
      bitsPerSample: 8,
      extraTags: [
        { tag: 34118, type: 'ascii', value: zeiss, latin1: true },
        { tag: 34682, type: 'bytes', value: new TextEncoder().encode(fei) },
        { tag: 282, type: 'rational', value: [300, 1] },
        { tag: 65000, type: 'bytes', value: new Uint8Array([0, 1, 2, 200, 3]) },
        { tag: 65001, type: 'double', value: [1.5, 2.5] },
      ],
    });
    const tags = decodeImage(bytes).meta.tiffTags!;
    expect(tags[34118]).toBe(zeiss);
    expect(tags[34682]).toBe(fei);
    expect(tags[282]).toBe(300);
    expect(tags[256]).toBe(w);
    expect(tags[258]).toBe(8);
    expect(tags[65000]).toEqual(new Uint8Array([0, 1, 2, 200, 3]));
    expect(tags[65001]).toEqual([1.5, 2.5]);
    expect(latin1('µ')[0]).toBe(0xb5);
  });
});

describe('bad input', () => {
  const good8 = encodeTiff({
    width: 64,
    height: 64,
    data: new Uint8Array(64 * 64).fill(7),
    bitsPerSample: 8,
  });
  const png = encodePng({
    width: 64,
    height: 64,
    data: new Uint8Array(64 * 64).fill(3),
    depth: 8,
    channels: 1,
  });
  const rgba = new Uint8Array(32 * 32 * 4).fill(128);
  const jpg = new Uint8Array(jpeg.encode({ width: 32, height: 32, data: rgba }, 90).data);

  it('refuses an empty file', () => expectInputError(new Uint8Array(0), /empty file \(0 bytes\)/));

  it('names what a non-image looks like', () => {
    const te = new TextEncoder();
    expectInputError(te.encode('%PDF-1.7\n%âãÏÓ\n1 0 obj'), /not an image \(looks like a PDF document\)/);
    expectInputError(te.encode('particle,area\n1,20\n'), /not an image \(looks like a text file\)/);
    expectInputError(te.encode('<!DOCTYPE html><html></html>'), /not an image \(looks like an HTML page\)/);
    expectInputError(te.encode('GIF89a\x01\x00\x01\x00'), /unsupported image format \(GIF\)/);
    expectInputError(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), /ZIP/);
    expectInputError(
      Uint8Array.from({ length: 256 }, (_, i) => (i * 73 + 11) & 0xff),
      /not an image \(unknown format/,
    );
  });

  it('reports truncated PNG, JPEG and TIFF', () => {
    expectInputError(png.subarray(0, png.length - 20), /truncated PNG/);
    expectInputError(png.subarray(0, 20), /truncated PNG/);
    expectInputError(jpg.subarray(0, jpg.length - 50), /truncated JPEG/);
    expectInputError(jpg.subarray(0, 100), /truncated JPEG/);
    expectInputError(good8.subarray(0, 2000), /truncated TIFF/);
    expectInputError(good8.subarray(0, 6), /truncated TIFF/);
    expectInputError(new Uint8Array([0x89, 0x50, 0x4e]), /truncated file/);
  });

  it('reports zero-size and absurd dimensions before allocating', () => {
    const patch = (b: Uint8Array, at: number, v: number) => {
      const c = b.slice();
      new DataView(c.buffer).setUint32(at, v);
      return fixCrc(c, 8); // the IHDR's CRC, so the header's values are what is tested
    };
    expectInputError(patch(png, 16, 0), /zero size \(0x64/);
    expectInputError(patch(png, 16, 40000), /absurd image dimensions 40000x64/);
    expectInputError(patch(patch(png, 16, 25000), 20, 25000), /absurd image dimensions 25000x25000.*400 Mpx/);
    const big = encodeTiff({
      width: 4,
      height: 4,
      data: new Uint8Array(16),
      bitsPerSample: 8,
      extraTags: [],
    });
    // Width tag is the first entry; rewrite its value in place (little-endian LONG at IFD + 2 + 8).
    const ifd = new DataView(big.buffer).getUint32(4, true);
    const huge = big.slice();
    new DataView(huge.buffer).setUint32(ifd + 2 + 8, 100000, true);
    expectInputError(huge, /absurd image dimensions 100000x4/);
    const zero = big.slice();
    new DataView(zero.buffer).setUint32(ifd + 2 + 8, 0, true);
    expectInputError(zero, /zero size/);
  });

  it('refuses unsupported TIFF variants with the reason', () => {
    const px = new Uint8Array(16);
    expectInputError(
      encodeTiff({ width: 4, height: 4, data: px, bitsPerSample: 8, compression: 7 }),
      /unsupported TIFF variant \(compression JPEG\)/,
    );
    expectInputError(
      encodeTiff({ width: 4, height: 4, data: px, bitsPerSample: 8, compression: 50000 }),
      /compression Zstandard/,
    );
    expectInputError(
      encodeTiff({
        width: 4,
        height: 2,
        data: new Uint8Array(24),
        bitsPerSample: 8,
        samplesPerPixel: 3,
        planarConfig: 2,
      }),
      /planar configuration 2/,
    );
    expectInputError(encodeTiff({ width: 4, height: 4, data: px, bitsPerSample: 8, photometric: 5 }), /CMYK/);
    expectInputError(
      encodeTiff({
        width: 4,
        height: 4,
        data: new Float32Array(16),
        bitsPerSample: 32,
        sampleFormat: 3,
        predictor: 3,
      }),
      /floating-point predictor/,
    );
    expectInputError(new Uint8Array([0x49, 0x49, 43, 0, 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0]), /BigTIFF/);
  });

  it('names damaged compressed data in our words, with the file name', () => {
    // Valid chunk structure and CRCs, garbage compressed data.
    const broken = png.slice();
    const idat = findChunk(broken, 'IDAT');
    for (let i = idat + 10; i < idat + 30; i++) broken[i] = 0xff;
    expectInputError(
      fixCrc(broken, idat),
      /^broken\.png: corrupt PNG \(image data: invalid \w/,
      'broken.png',
    );
  });

  it('a corrupt LZW strip is an error, not a hang', () => {
    // (utif2's own LZW decoder gave garbage pixels without a word here, and never returned at all on a stream
    // whose code width grew one code too early, which stalled the whole batch.)
    const w = 64;
    const h = 48;
    const px = new Uint8Array(w * h);
    for (let i = 0; i < px.length; i++) px[i] = (i * 7) & 0xff;
    const tif = encodeTiff({ width: w, height: h, data: px, bitsPerSample: 8, compression: 5 });
    // The pixel data follows the IFD; overwrite a run of its codes with all-ones (codes far beyond the table).
    const good = decodeImage(tif);
    expect(Array.from(good.raster.data)).toEqual(Array.from(px));
    const broken = tif.slice();
    for (let i = broken.length - 300; i < broken.length - 280; i++) broken[i] = 0xff;
    expectInputError(
      broken,
      /^broken\.tif: corrupt TIFF \(LZW data of strip 1 of 1: code \d+ before the table holds it/,
      'broken.tif',
    );
  });
});
