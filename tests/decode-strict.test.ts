/**
 * Hostile and broken inputs for the decoders (issues 23 and 25): each case is built here, with its exact
 * expected message, and none may decode to a silent partial image, leak a library's words, hang, or
 * allocate what the declared header implies before checking it.
 */
import { zlibSync } from 'fflate';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { MAX_DECODE_BYTES } from '../src/core/decode/common';
import { decodeImage } from '../src/core/decode/index';
import { InputError } from '../src/core/types';
import { buildPng, chunk, concat, findChunk, fixCrc, ihdr, SIGNATURE } from './helpers/png';
import { encodeTiff, patchTag, tagEntry } from './helpers/tiff';

function errorOf(bytes: Uint8Array, name: string): string {
  try {
    decodeImage(bytes, name);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg.startsWith(`${name}: `)).toBe(true);
    expect(msg).not.toMatch(/\n/);
    return msg.slice(name.length + 2);
  }
  throw new Error(`${name} decoded without an error`);
}

/** Seeded ramp so every pixel differs from its neighbours (filters and predictors all matter). */
function ramp(n: number, mod: number, seed = 1): number[] {
  const out: number[] = [];
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out.push(((i * 37) ^ (s >>> 20)) % mod);
  }
  return out;
}

/**
 * A zlib stream that inflates to `size` zero bytes in a few bits per 258 bytes (one fixed-Huffman block of
 * <length 258, distance 1> pairs): the decompression bomb, without allocating what it expands to.
 */
function zlibBomb(size: number): Uint8Array {
  const reps = Math.floor((size - 1) / 258);
  const out = new Uint8Array(2 + Math.ceil((3 + 8 + reps * 13 + 7) / 8) + 8 + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let bit = 16;
  const put = (v: number, n: number) => {
    for (let i = 0; i < n; i++, bit++) if ((v >> i) & 1) out[bit >> 3] |= 1 << (bit & 7);
  };
  // Huffman codes go most significant bit first.
  const code = (v: number, n: number) => {
    for (let i = n - 1; i >= 0; i--, bit++) if ((v >> i) & 1) out[bit >> 3] |= 1 << (bit & 7);
  };
  put(1, 1); // BFINAL
  put(1, 2); // fixed Huffman
  code(0x30, 8); // literal 0
  for (let r = 0; r < reps; r++) {
    code(0xc5, 8); // length 258 (symbol 285)
    code(0, 5); // distance 1
  }
  code(0, 7); // end of block
  return out.subarray(0, Math.ceil(bit / 8) + 4);
}

describe('PNG: broken streams are errors', () => {
  const W = 12;
  const H = 16;
  const grey = { width: W, height: H, depth: 8 as const, colourType: 0 as const, samples: ramp(W * H, 256) };

  it('decodes what it should, exactly: all five filters, Adam7, low depths, 16-bit, palette + tRNS', () => {
    const ok = decodeImage(buildPng({ ...grey, filters: [0, 1, 2, 3, 4] }), 'f.png');
    expect(Array.from(ok.raster.data)).toEqual(grey.samples);
    for (const [w, h] of [
      [1, 1],
      [3, 2],
      [9, 11],
      [17, 13],
    ]) {
      const s = ramp(w * h * 3, 65536, w);
      const d = decodeImage(
        buildPng({
          width: w,
          height: h,
          depth: 16,
          colourType: 2,
          samples: s,
          interlace: true,
          filters: [4, 1, 2, 3],
        }),
        'i.png',
      );
      expect(d.raster).toMatchObject({ width: w, height: h, channels: 3, bitDepth: 16 });
      expect(Array.from(d.raster.data)).toEqual(s);
    }
    for (const depth of [1, 2, 4] as const) {
      const s = ramp(7 * 5, 1 << depth, depth);
      const d = decodeImage(
        buildPng({ width: 7, height: 5, depth, colourType: 0, samples: s, interlace: depth === 2 }),
      );
      expect(Array.from(d.raster.data)).toEqual(s.map((v) => Math.round((v * 255) / ((1 << depth) - 1))));
    }
    const palette: [number, number, number][] = [
      [10, 20, 30],
      [200, 100, 50],
      [0, 255, 7],
    ];
    const idx = [0, 1, 2, 1, 0, 2];
    const p = decodeImage(
      buildPng({ width: 3, height: 2, depth: 4, colourType: 3, samples: idx, palette, trns: [0, 128] }),
    );
    expect(p.raster.channels).toBe(4);
    expect(Array.from(p.raster.data)).toEqual(idx.flatMap((i) => [...palette[i], [0, 128, 255][i]]));
  });

  it('a palette PNG without PLTE is refused (it decoded all black before)', () => {
    const b = buildPng({ width: 4, height: 4, depth: 8, colourType: 3, samples: new Array(16).fill(1) });
    expect(errorOf(b, 'nopal.png')).toBe(
      'corrupt PNG (palette image without a PLTE chunk: its colours are missing)',
    );
  });

  it('a palette index past the PLTE is refused by pixel', () => {
    const samples = [0, 1, 2, 3, 0, 1, 5, 0, 0];
    const b = buildPng({
      width: 3,
      height: 3,
      depth: 8,
      colourType: 3,
      samples,
      palette: [
        [1, 1, 1],
        [2, 2, 2],
        [3, 3, 3],
        [4, 4, 4],
      ],
    });
    expect(errorOf(b, 'idx.png')).toBe('corrupt PNG (pixel 0,2 uses palette entry 5; PLTE holds 4 colours)');
  });

  it('short image data (a complete stream with rows missing) says how many rows came', () => {
    const b = buildPng({ ...grey, zlib: (f) => zlibSync(f.subarray(0, 10 * (W + 1) + 5)) });
    expect(errorOf(b, 'short.png')).toBe('truncated PNG (the image data ends after 10 of 16 rows)');
  });

  it('a cut-off stream (IDAT shortened, CRCs right) is truncated, not "Unsupported filter: undefined"', () => {
    const b = buildPng({ ...grey, zlib: (f) => zlibSync(f).subarray(0, 40) });
    expect(errorOf(b, 'cut.png')).toMatch(/^truncated PNG \(the image data ends after \d+ of 16 rows\)$/);
    // Every row is there, in a stored block that is not marked final, and no final block follows
    // (then 4 bytes where the checksum would be).
    const n = grey.height * (grey.width + 1);
    const head = [0x78, 0x01, 0x00, n & 255, n >> 8, ~n & 255, (~n >> 8) & 255];
    const c = buildPng({ ...grey, zlib: (f) => concat([Uint8Array.from(head), f, new Uint8Array(4)]) });
    expect(errorOf(c, 'cut2.png')).toBe('truncated PNG (the compressed image data stops before its end)');
  });

  it('too much image data is refused', () => {
    const b = buildPng({ ...grey, zlib: (f) => zlibSync(concat([f, f])) });
    expect(errorOf(b, 'long.png')).toBe(
      'corrupt PNG (the image data holds more than 12x16 8-bit grey pixels)',
    );
  });

  it('an invalid row filter is named with its row', () => {
    const b = buildPng({
      ...grey,
      zlib: (f) => {
        const g = f.slice();
        g[3 * (W + 1)] = 241;
        return zlibSync(g);
      },
    });
    expect(errorOf(b, 'filter.png')).toBe('corrupt PNG (row 3 has filter type 241; only 0-4 exist)');
  });

  it('damaged compressed data and a failing CRC are ours, named', () => {
    const b = buildPng({
      ...grey,
      zlib: (f) => {
        const z = zlibSync(f, { level: 0 });
        z[2] = 0x07; // BFINAL 1, block type 3 (reserved)
        return z;
      },
    });
    expect(errorOf(b, 'bad.png')).toBe('corrupt PNG (image data: invalid block type)');
    const c = buildPng(grey);
    c[findChunk(c, 'IDAT') + 10] ^= 1;
    expect(errorOf(c, 'crc.png')).toBe('corrupt PNG (IDAT chunk at byte 33 fails its CRC)');
    const d = buildPng(grey);
    d[findChunk(d, 'IDAT') + 8] = 0x79; // zlib header check fails
    fixCrc(d, findChunk(d, 'IDAT'));
    expect(errorOf(d, 'hdr.png')).toBe('corrupt PNG (image data: not zlib data (bad stream header))');
  });

  it('header fields are validated; an unknown critical chunk is refused', () => {
    const withHeader = (depth: number, ct: number, il = 0) =>
      concat([
        SIGNATURE,
        ihdr(4, 4, depth, ct, il),
        chunk('IDAT', zlibSync(new Uint8Array(20))),
        chunk('IEND'),
      ]);
    expect(errorOf(withHeader(3, 0), 'd.png')).toBe(
      'corrupt PNG (bit depth 3 is not allowed for grey images)',
    );
    expect(errorOf(withHeader(4, 2), 'd.png')).toBe(
      'corrupt PNG (bit depth 4 is not allowed for RGB images)',
    );
    expect(errorOf(withHeader(8, 5), 'd.png')).toBe('corrupt PNG (colour type 5 does not exist)');
    expect(errorOf(withHeader(8, 0, 2), 'd.png')).toBe('corrupt PNG (interlace method 2 does not exist)');
    const b = buildPng({ ...grey, before: [chunk('ZZZZ', new Uint8Array(3))] });
    expect(errorOf(b, 'crit.png')).toBe('unsupported PNG (unknown critical chunk ZZZZ)');
  });

  it('ancillary chunks are never inflated: a garbage or bomb iCCP/zTXt/iTXt costs nothing', () => {
    const garbage = new Uint8Array(64).fill(0xee);
    const bomb = zlibBomb(1 << 30);
    const b = buildPng({
      ...grey,
      before: [
        chunk('iCCP', concat([new TextEncoder().encode('icc\0\0'), bomb])),
        chunk('zTXt', concat([new TextEncoder().encode('k\0\0'), garbage])),
        chunk('iTXt', concat([new TextEncoder().encode('k\0\x01\0\0\0'), bomb])),
      ],
    });
    const t = performance.now();
    const d = decodeImage(b, 'anc.png');
    expect(performance.now() - t).toBeLessThan(300);
    expect(Array.from(d.raster.data)).toEqual(grey.samples);
  });

  it('an IDAT bomb (1 GiB of zeros for a 12x16 image) stops at the overrun, fast', () => {
    const b = buildPng({ ...grey, zlib: () => zlibBomb(1 << 30) });
    const t = performance.now();
    expect(errorOf(b, 'bomb.png')).toBe(
      'corrupt PNG (the image data holds more than 12x16 8-bit grey pixels)',
    );
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('declared dimensions are checked against the memory budget before anything is allocated', () => {
    expect(MAX_DECODE_BYTES).toBe(1.5 * 1024 ** 3);
    const b = concat([SIGNATURE, ihdr(20000, 20000, 16, 6), chunk('IDAT', zlibBomb(1 << 20)), chunk('IEND')]);
    expect(errorOf(b, 'huge.png')).toBe(
      'image too large to decode: a 20000x20000 16-bit RGBA PNG needs about 5.96 GiB of memory (limit 1.50 GiB)',
    );
    // 20000 x 20000 8-bit grey is 0.75 GiB: within budget, so the decode proceeds (and finds the data short).
    const g = concat([SIGNATURE, ihdr(20000, 20000, 8, 0), chunk('IDAT', zlibBomb(1 << 20)), chunk('IEND')]);
    expect(errorOf(g, 'big.png')).toMatch(/^corrupt PNG \(row 0 has filter type|^truncated PNG/);
  });
});

describe('TIFF: broken strips are errors', () => {
  const W = 24;
  const H = 10;
  const px16 = Uint16Array.from(ramp(W * H, 65536));
  const px8 = Uint8Array.from(ramp(W * H, 256));

  it('decodes predictor 2 (8/16-bit, both byte orders), FillOrder 2, and a last strip padded to RowsPerStrip', () => {
    for (const littleEndian of [true, false]) {
      for (const compression of [5, 8]) {
        const d = decodeImage(
          encodeTiff(
            {
              width: W,
              height: H,
              data: px16,
              bitsPerSample: 16,
              compression,
              predictor: 2,
              rowsPerStrip: 4,
            },
            { littleEndian },
          ),
        );
        expect(Array.from(d.raster.data)).toEqual(Array.from(px16));
      }
    }
    const rgb = Uint8Array.from(ramp(W * H * 3, 256, 5));
    const r = decodeImage(
      encodeTiff({
        width: W,
        height: H,
        data: rgb,
        bitsPerSample: 8,
        samplesPerPixel: 3,
        compression: 8,
        predictor: 2,
      }),
    );
    expect(Array.from(r.raster.data)).toEqual(Array.from(rgb));
    const bits = new Uint8Array([0b10110000, 0b01000000]);
    const f = decodeImage(encodeTiff({ width: 4, height: 2, data: bits, bitsPerSample: 1, fillOrder: 2 }));
    expect(Array.from(f.raster.data)).toEqual([255, 0, 255, 255, 0, 255, 0, 0]);
    for (const compression of [5, 8, 32773]) {
      const d = decodeImage(
        encodeTiff({
          width: W,
          height: H,
          data: px8,
          bitsPerSample: 8,
          compression,
          rowsPerStrip: 4,
          padLastStrip: true,
        }),
      );
      expect(Array.from(d.raster.data)).toEqual(Array.from(px8));
    }
  });

  /** The first strip's offset and byte count entries. */
  function strip0(b: Uint8Array): { off: number; count: number } {
    const dv = new DataView(b.buffer, b.byteOffset);
    return { off: dv.getUint32(tagEntry(b, 273) + 8, true), count: dv.getUint32(tagEntry(b, 279) + 8, true) };
  }

  it('truncated Deflate (the strip cut, its byte count matching) is an error naming the strip', () => {
    const t = encodeTiff({ width: W, height: H, data: px8, bitsPerSample: 8, compression: 8 });
    const { count } = strip0(t);
    expect(errorOf(patchTag(t, 279, count - 30), 'cut.tif')).toMatch(
      /^corrupt TIFF \(Deflate data of strip 1 of 1 is cut off after \d+ of its 240 bytes\)$/,
    );
  });

  it('a complete Deflate stream that is short, or too long, for its strip', () => {
    const page = { width: W, height: H, data: px8, bitsPerSample: 8 as const, compression: 8 };
    const s = encodeTiff({ ...page, rawStrips: [zlibSync(px8.subarray(0, 200))] });
    expect(errorOf(s, 's.tif')).toBe(
      'corrupt TIFF (Deflate data of strip 1 of 1 decodes to 200 of its 240 bytes: short or damaged)',
    );
    const bomb = encodeTiff({ ...page, rawStrips: [zlibBomb(1 << 30)] });
    const t0 = performance.now();
    expect(errorOf(bomb, 'bomb.tif')).toBe(
      'corrupt TIFF (Deflate data of strip 1 of 1 decodes to more than its 240 bytes)',
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('short LZW StripByteCounts: the strip decodes short, an error (it was zero-filled before)', () => {
    const t = encodeTiff({ width: W, height: H, data: px8, bitsPerSample: 8, compression: 5 });
    const { count } = strip0(t);
    expect(errorOf(patchTag(t, 279, Math.floor(count / 2)), 'lzw.tif')).toMatch(
      /^corrupt TIFF \(LZW data of strip 1 of 1 decodes to \d+ of its 240 bytes: short or damaged\)$/,
    );
  });

  it('an LZW stream holding more than its strip is an overrun', () => {
    const twice = encodeTiff({
      width: W,
      height: 2 * H,
      data: concat([px8, px8]),
      bitsPerSample: 8,
      compression: 5,
    });
    // The stream of 2H rows under a header that says H rows.
    const t = patchTag(patchTag(twice, 257, H), 278, H);
    expect(errorOf(t, 'lzwlong.tif')).toBe(
      'corrupt TIFF (LZW data of strip 1 of 1 decodes to more than its 240 bytes)',
    );
  });

  it('corrupt and overrunning PackBits are errors; one trailing pad byte is not', () => {
    const t = encodeTiff({ width: W, height: H, data: px8, bitsPerSample: 8, compression: 32773 });
    const { off } = strip0(t);
    // Literal runs of 128 bytes: cutting the strip in the middle of one leaves it short.
    expect(errorOf(patchTag(t, 279, 100), 'pb.tif')).toBe(
      'corrupt TIFF (PackBits data of strip 1 of 1 decodes to 99 of its 240 bytes: short or damaged)',
    );
    // A repeat run of 128 in place of the second literal header crosses the strip's end (128 + 128 > 240).
    const o = t.slice();
    o[off + 129] = 0x81;
    expect(errorOf(o, 'pbover.tif')).toBe(
      'corrupt TIFF (PackBits data of strip 1 of 1 decodes to more than its 240 bytes)',
    );
    // 32 x 4: one literal run of 128 exactly. A complete second run after it is an overrun.
    const px = Uint8Array.from(ramp(256, 256, 9));
    const run = (a: Uint8Array) => concat([new Uint8Array([a.length - 1]), a]);
    const page = {
      width: 32,
      height: 4,
      data: px.subarray(0, 128),
      bitsPerSample: 8 as const,
      compression: 32773,
    };
    const two = encodeTiff({
      ...page,
      rawStrips: [concat([run(px.subarray(0, 128)), run(px.subarray(128, 130))])],
    });
    expect(errorOf(two, 'pb2.tif')).toBe(
      'corrupt TIFF (PackBits data of strip 1 of 1 decodes to more than its 128 bytes)',
    );
    const pad = encodeTiff({ ...page, rawStrips: [concat([run(px.subarray(0, 128)), new Uint8Array([0])])] });
    expect(Array.from(decodeImage(pad).raster.data)).toEqual(Array.from(px.subarray(0, 128)));
  });

  it('a ColorMap of 3 entries is refused (its colours were read past the end before)', () => {
    const t = encodeTiff({
      width: 3,
      height: 1,
      data: new Uint8Array([0, 1, 2]),
      bitsPerSample: 8,
      photometric: 3,
      colorMap: [0xffff, 0, 0],
    });
    expect(errorOf(t, 'map.tif')).toBe(
      'corrupt TIFF (ColorMap holds 3 values; an 8-bit palette needs 768, 256 per colour)',
    );
  });

  it('tiles or strips far larger than the image or the file are refused before allocating', () => {
    const tiled = encodeTiff({
      width: 40,
      height: 37,
      data: Uint16Array.from(ramp(40 * 37, 65536)),
      bitsPerSample: 16,
      tileSize: 16,
    });
    const huge = patchTag(patchTag(tiled, 322, 65536), 323, 65536);
    expect(errorOf(huge, 'tiles.tif')).toBe('corrupt TIFF (tiles of 65536x65536 pixels for a 40x37 image)');
    const t = encodeTiff({ width: W, height: H, data: px8, bitsPerSample: 8, compression: 8 });
    expect(errorOf(patchTag(t, 279, 0x7fffffff), 'count.tif')).toMatch(
      /^truncated TIFF \(strip 1 of 1 ends at byte \d+; the file has \d+ bytes\)$/,
    );
    expect(errorOf(patchTag(t, 278, 0), 'rps.tif')).toBe('corrupt TIFF (RowsPerStrip is 0)');
    // 30000 x 12000 RGB float: within the pixel-count limit, far over the memory budget.
    const wide = patchTag(
      patchTag(
        encodeTiff({
          width: 4,
          height: 4,
          data: new Float32Array(48),
          bitsPerSample: 32,
          samplesPerPixel: 3,
          sampleFormat: 3,
        }),
        256,
        30000,
      ),
      257,
      12000,
    );
    expect(errorOf(wide, 'wide.tif')).toBe(
      'image too large to decode: a 30000x12000 32-bit float 3-sample TIFF needs about 4.02 GiB of memory (limit 1.50 GiB)',
    );
  });
});

describe('JPEG: broken streams are errors in our words', () => {
  const W = 32;
  const H = 24;
  const rgba = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([(i * 7) & 255, (i * 3) & 255, 90, 255], 4 * i);
  const good = new Uint8Array(jpeg.encode({ width: W, height: H, data: rgba }, 90).data);

  /** Offset of the first marker `m` (0xFFm) at segment level. */
  function marker(b: Uint8Array, m: number): number {
    let o = 2;
    while (o < b.length) {
      if (b[o + 1] === m) return o;
      o += 2 + ((b[o + 2] << 8) | b[o + 3]);
    }
    return -1;
  }

  it('garbage where a marker belongs ("unknown JPEG marker 111" before)', () => {
    const b = good.slice();
    b[marker(b, 0xe0) + 3] += 1; // the JFIF segment claims one byte more: the next "marker" is garbage
    expect(errorOf(b, 'm.jpg')).toMatch(
      /^corrupt JPEG \(no marker at byte \d+; the data between segments is damaged\)$/,
    );
    const c = good.slice();
    c[marker(c, 0xdb) + 1] = 0x6f;
    expect(errorOf(c, 'u.jpg')).toMatch(/^corrupt JPEG \(unknown marker 0xFF6F at byte \d+\)$/);
  });

  it('scan data cut short, with an end marker appended, is not decoded as grey', () => {
    const sos = marker(good, 0xda);
    const cut = concat([good.subarray(0, sos + 40), new Uint8Array([0xff, 0xd9])]);
    expect(errorOf(cut, 'cut.jpg')).toBe('corrupt JPEG (the compressed image data ends early or is damaged)');
    expect(errorOf(good.subarray(0, sos + 40), 'cut2.jpg')).toBe(
      'truncated JPEG (file ends inside the image data)',
    );
  });

  it('frame and scan headers are validated before jpeg-js sees them', () => {
    const sof = marker(good, 0xc0);
    const z = good.slice();
    z[sof + 4 + 6 + 1] = 0x01; // first component: sampling 0x1
    expect(errorOf(z, 'samp.jpg')).toBe(
      'corrupt JPEG (component 1 has sampling factors 0x1 (1 to 4 allowed))',
    );
    const sos = marker(good, 0xda);
    const t = good.slice();
    t[sos + 4 + 2] = 0x22; // first scan component: DC and AC table 2 (never defined)
    expect(errorOf(t, 'tab.jpg')).toBe('corrupt JPEG (DC Huffman table 2 is used but never defined)');
    const c = good.slice();
    c[sos + 4 + 1] = 9; // a component id the frame does not have
    expect(errorOf(c, 'comp.jpg')).toBe(
      'corrupt JPEG (scan 1 names component 9, which the frame does not have)',
    );
    const twice = concat([
      good.subarray(0, sos),
      good.subarray(sof, sof + 2 + ((good[sof + 2] << 8) | good[sof + 3])),
      good.subarray(sos),
    ]);
    expect(errorOf(twice, 'two.jpg')).toBe('corrupt JPEG (more than one frame header)');
  });

  it('the memory a JPEG decode needs is checked from its frame header', () => {
    const sof = marker(good, 0xc0);
    const b = good.slice();
    const dv = new DataView(b.buffer);
    dv.setUint16(sof + 5, 20000);
    dv.setUint16(sof + 7, 20000);
    expect(errorOf(b, 'big.jpg')).toMatch(
      /^image too large to decode: a 20000x20000 colour JPEG needs about \d+\.\d\d GiB/,
    );
  });
});

describe('every failure is ours: no library words, no hang', () => {
  const LIBRARY_WORDS =
    /undefined|Unsupported filter|Error while|unknown JPEG marker|typed array|Cannot read|is not a function|maxMemory|NaN/;

  function mutants(b: Uint8Array, seed: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let k = 1; k < 24; k++) out.push(b.subarray(0, Math.floor((b.length * k) / 24)));
    let s = seed;
    for (let k = 0; k < 60; k++) {
      const c = b.slice();
      for (let j = 0; j < 3; j++) {
        s = (s * 1103515245 + 12345) >>> 0;
        c[8 + ((s >>> 8) % (c.length - 8))] = s >>> 24;
      }
      out.push(c);
    }
    return out;
  }

  it.each([
    [
      'png',
      buildPng({ width: 20, height: 9, depth: 8, colourType: 2, samples: ramp(540, 256), filters: [1, 4] }),
    ],
    [
      'tif',
      encodeTiff({
        width: 20,
        height: 9,
        data: Uint8Array.from(ramp(180, 256)),
        bitsPerSample: 8,
        compression: 5,
        rowsPerStrip: 4,
      }),
    ],
    [
      'tif',
      encodeTiff({
        width: 20,
        height: 9,
        data: Uint8Array.from(ramp(180, 256)),
        bitsPerSample: 8,
        compression: 8,
      }),
    ],
    [
      'tif',
      encodeTiff({
        width: 20,
        height: 9,
        data: Uint8Array.from(ramp(180, 256)),
        bitsPerSample: 8,
        compression: 32773,
      }),
    ],
    [
      'jpg',
      new Uint8Array(jpeg.encode({ width: 20, height: 9, data: new Uint8Array(720).fill(99) }, 80).data),
    ],
  ] as const)('%s mutants', (ext, b) => {
    let failed = 0;
    for (const m of mutants(b, b.length)) {
      try {
        const d = decodeImage(m, `m.${ext}`);
        expect(d.raster.data.length).toBe(d.raster.width * d.raster.height * d.raster.channels);
      } catch (e) {
        failed++;
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toMatch(
          /^m\.\w+: (truncated|corrupt|unsupported|not an image|image too large|absurd|image has zero)/,
        );
        expect((e as Error).message).not.toMatch(LIBRARY_WORDS);
      }
    }
    expect(failed).toBeGreaterThan(20);
  });

  it('one NUL byte is not "a text file"', () => {
    expect(errorOf(new Uint8Array(1), 'nul.png')).toBe('not an image (a single zero byte)');
    expect(errorOf(new Uint8Array(5000), 'z.png')).toBe('not an image (all 5000 bytes are zero)');
  });
});
