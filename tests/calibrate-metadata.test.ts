import { describe, expect, it } from 'vitest';
import {
  calibrate,
  calibrationFromLine,
  calibrationFromPreset,
  describeSource,
  formatInstrument,
  formatPixelSize,
  presetFromCalibration,
  toOverride,
} from '../src/core/calibrate/index';
import { normaliseUnit, parseJeol, readMetadata } from '../src/core/calibrate/metadata';
import { decodeImage } from '../src/core/decode/index';
import type { GreyF32 } from '../src/core/raster';
import type { AnalysisOptions, DecodedImage } from '../src/core/types';
import { encodeGreyTiff, latin1, type ExtraTag } from './calibrate-tiff';
import { makeScene } from './calibrate-scene';

const W = 96;
const H = 64;

function plainPixels(seed = 3): Uint8Array {
  // Noisy texture, no banner, no bar: calibration must come from the tags alone.
  const p = new Uint8Array(W * H);
  let s = seed;
  for (let i = 0; i < p.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    p[i] = 80 + ((s >>> 16) % 60);
  }
  return p;
}

function greyOf(d: DecodedImage): GreyF32 {
  const { width, height, data } = d.raster;
  return { width, height, data: Float32Array.from(data) };
}

const OPTS: Pick<AnalysisOptions, 'banner' | 'pixelSizeOverride'> = {
  banner: 'auto',
  pixelSizeOverride: null,
};

function run(extra: ExtraTag[], sidecarTexts?: string[], opts = OPTS) {
  const decoded = decodeImage(encodeGreyTiff(W, H, plainPixels(), extra), 'x.tif');
  return calibrate({ decoded, grey: greyOf(decoded), sidecarTexts, options: opts });
}

const ZEISS = [
  '0',
  ' 0',
  'AP_PIXEL_SIZE',
  'Image Pixel Size = 7.344 nm',
  'AP_MAG',
  'Mag = 50.00 K X',
  'AP_ACTUALKV',
  'EHT = 5.00 kV',
  'AP_WD',
  'WD = 4.2 mm',
  'DP_DETECTOR_CHANNEL',
  'Signal A = InLens',
  'END',
].join('\r\n');

const FEI = (section: 'Scan' | 'EScan', px: string): string =>
  [
    '[User]',
    'Date=11/24/2026',
    '[System]',
    'SystemType=Helios G4',
    '[Beam]',
    'HV=10000',
    '[EBeam]',
    'HV=10000',
    'WD=0.00412',
    'HorFieldsize=2.54e-06',
    `[${section}]`,
    `PixelWidth=${px}`,
    `PixelHeight=${px}`,
    '[Stage]',
    'WorkingDistance=0.00412',
  ].join('\r\n');

describe('calibrate: vendor TIFF metadata', () => {
  it('Zeiss SmartSEM tag 34118 (ASCII): Image Pixel Size in nm, instrument fields', () => {
    const r = run([{ tag: 34118, type: 'ascii', value: ZEISS }]);
    expect(r.calibration.source).toBe('metadata');
    expect(r.calibration.unit).toBe('nm');
    expect(r.calibration.pixelSize).toBeCloseTo(7.344, 6);
    expect(r.calibration.instrument).toMatchObject({
      vendor: 'Zeiss',
      magnification: '50.00 K X',
      voltage: '5.00 kV',
      workingDistance: '4.2 mm',
    });
    expect(r.calibration.detail).toContain('Image Pixel Size = 7.344 nm');
    expect(formatPixelSize(r.calibration)).toBe('7.344 nm/px (metadata)');
    expect(formatInstrument(r.calibration.instrument)).toBe(
      'Zeiss · Mag 50.00 K X · 5.00 kV · WD 4.2 mm · InLens',
    );
  });

  it('Zeiss as latin-1 bytes with a µm pixel size and the plain "Pixel Size" key', () => {
    const text = 'AP_PIXEL_SIZE\r\nPixel Size = 1.465 \xB5m\r\nAP_MAG\r\nMag = 200 X\r\n';
    const r = run([{ tag: 34118, type: 'bytes', value: latin1(text) }]);
    expect(r.calibration.unit).toBe('um');
    expect(r.calibration.pixelSize).toBeCloseTo(1.465, 6);
    expect(r.calibration.instrument?.magnification).toBe('200 X');
  });

  it('Zeiss in pm is converted to nm', () => {
    const r = run([{ tag: 34118, type: 'ascii', value: 'Image Pixel Size = 512.3 pm\r\n' }]);
    expect(r.calibration.unit).toBe('nm');
    expect(r.calibration.pixelSize).toBeCloseTo(0.5123, 6);
  });

  it('FEI/Thermo tag 34682 [Scan] PixelWidth in metres', () => {
    const r = run([{ tag: 34682, type: 'ascii', value: FEI('Scan', '1.9844e-009') }]);
    expect(r.calibration.source).toBe('metadata');
    expect(r.calibration.unit).toBe('nm');
    expect(r.calibration.pixelSize).toBeCloseTo(1.9844, 6);
    expect(r.calibration.instrument).toMatchObject({
      vendor: 'FEI/Thermo Fisher',
      voltage: '10 kV',
      workingDistance: '4.12 mm',
      model: 'Helios G4',
    });
  });

  it('FEI [EScan] PixelWidth (ESEM) and the older tag 34680', () => {
    const r = run([{ tag: 34680, type: 'ascii', value: FEI('EScan', '2.5e-07') }]);
    expect(r.calibration.pixelSize).toBeCloseTo(250, 6);
    expect(r.calibration.unit).toBe('nm');
    expect(r.calibration.detail).toContain('[EScan]');
    const big = run([{ tag: 34682, type: 'ascii', value: FEI('Scan', '2.5e-06') }]);
    expect(big.calibration.unit).toBe('um');
    expect(big.calibration.pixelSize).toBeCloseTo(2.5, 6);
  });

  it('Tescan tag 50431 PixelSizeX in metres', () => {
    const r = run([
      {
        tag: 50431,
        type: 'ascii',
        value: '[MAIN]\r\nPixelSizeX=4.5e-09\r\nPixelSizeY=4.5e-09\r\nHV=15000\r\n',
      },
    ]);
    expect(r.calibration.pixelSize).toBeCloseTo(4.5, 6);
    expect(r.calibration.instrument?.voltage).toBe('15 kV');
  });

  it.each([
    ['nm', 'unit=nm', [1000, 2345] as [number, number], 2.345, 'nm'],
    ['micron', 'unit=micron', [4, 1] as [number, number], 250, 'nm'],
    ['escaped µm', 'unit=\\u00B5m', [1, 2] as [number, number], 2, 'um'],
    ['um', 'unit=um', [50, 1] as [number, number], 20, 'nm'],
  ])('ImageJ description (%s) + XResolution', (_n, unitLine, xres, expected, unit) => {
    const desc = `ImageJ=1.54f\nimages=1\n${unitLine}\nloop=false\n`;
    const r = run([
      { tag: 270, type: 'ascii', value: desc },
      { tag: 282, type: 'rational', value: xres },
      { tag: 283, type: 'rational', value: xres },
      { tag: 296, type: 'short', value: 1 },
    ]);
    expect(r.calibration.source).toBe('metadata');
    expect(r.calibration.unit).toBe(unit);
    expect(r.calibration.pixelSize).toBeCloseTo(expected, 6);
  });

  it('ImageJ without a unit is uncalibrated', () => {
    const r = run([
      { tag: 270, type: 'ascii', value: 'ImageJ=1.54f\nimages=1\n' },
      { tag: 282, type: 'rational', value: [1, 1] },
    ]);
    expect(r.calibration.source).toBe('none');
    expect(r.calibration.unit).toBe('px');
    expect(r.calibration.pixelSize).toBeNull();
  });

  it('plain XResolution in px/cm is used when plausible for EM', () => {
    // 2e6 px/cm -> 5 nm per pixel
    const r = run([
      { tag: 282, type: 'rational', value: [2_000_000, 1] },
      { tag: 296, type: 'short', value: 3 },
    ]);
    expect(r.calibration.source).toBe('metadata');
    expect(r.calibration.pixelSize).toBeCloseTo(5, 6);
    expect(r.calibration.unit).toBe('nm');
    // 25400 px/inch -> 1 µm per pixel
    const r2 = run([
      { tag: 282, type: 'rational', value: [25_400, 1] },
      { tag: 296, type: 'short', value: 2 },
    ]);
    expect(r2.calibration.unit).toBe('um');
    expect(r2.calibration.pixelSize).toBeCloseTo(1, 6);
  });

  it.each([
    ['72 dpi', [72, 1], 2],
    ['96 dpi', [96, 1], 2],
    ['300 dpi', [300, 1], 2],
    ['300 dpi written as px/cm', [11811, 100], 3],
    ['unit none', [2_000_000, 1], 1],
    ['absurdly fine', [4_000_000_000, 1], 3],
  ] as const)('plain resolution ignored when implausible (%s)', (_n, xres, unit) => {
    const r = run([
      { tag: 282, type: 'rational', value: [xres[0], xres[1]] },
      { tag: 296, type: 'short', value: unit },
    ]);
    expect(r.calibration.source).toBe('none');
    expect(r.calibration.unit).toBe('px');
  });
});

describe('calibrate: side-car files', () => {
  it('Hitachi PixelSize in nm with instrument fields', () => {
    const txt = [
      '[SemImageFile]',
      'InstructName=S-4800',
      'DataSize=1280x960',
      'AcceleratingVoltage=15000 Volt',
      'Magnification=50000',
      'WorkingDistance=8100 um',
      'PixelSize=1.984375',
    ].join('\r\n');
    const r = run([], [txt]);
    expect(r.calibration.source).toBe('metadata');
    expect(r.calibration.pixelSize).toBeCloseTo(1.984375, 6);
    expect(r.calibration.unit).toBe('nm');
    expect(r.calibration.instrument).toMatchObject({
      vendor: 'Hitachi',
      magnification: '50000 x',
      voltage: '15 kV',
      workingDistance: '8.1 mm',
      model: 'S-4800',
    });
  });

  it('JEOL $$SM_MICRON_BAR / $$SM_MICRON_MARKER', () => {
    const txt = [
      '$CM_FORMAT JEOL/SEM',
      '$CM_INSTRUMENT JSM-7600F',
      '$CM_MAG 20000',
      '$CM_ACCEL_VOLT 5.00',
      `$CM_FULL_SIZE ${W} ${H}`,
      '$$SM_MICRON_BAR 160',
      '$$SM_MICRON_MARKER 200nm',
    ].join('\n');
    const r = run([], [txt]);
    expect(r.calibration.source).toBe('metadata');
    expect(r.calibration.pixelSize).toBeCloseTo(1.25, 6);
    expect(r.calibration.unit).toBe('nm');
    expect(r.calibration.instrument).toMatchObject({
      vendor: 'JEOL',
      magnification: '20000 x',
      voltage: '5.00 kV',
    });
    // Saved at half the scanned width: each pixel covers twice as much.
    const half = parseJeol(txt.replace(`$CM_FULL_SIZE ${W} ${H}`, '$CM_FULL_SIZE 1280 960'), 640);
    expect(half?.pixelSizeNm).toBeCloseTo(2.5, 6);
    const um = parseJeol('$$SM_MICRON_BAR 100\n$$SM_MICRON_MARKER 1\xB5m\n', 0);
    expect(um?.pixelSizeNm).toBeCloseTo(10, 6);
  });

  it('vendor tags win over a side-car, side-car over ImageJ; unrelated side-cars are ignored', () => {
    const r = run([{ tag: 34118, type: 'ascii', value: ZEISS }], ['PixelSize=3.0\r\n']);
    expect(r.calibration.pixelSize).toBeCloseTo(7.344, 6);
    const r2 = run(
      [
        { tag: 270, type: 'ascii', value: 'ImageJ=1.54f\nunit=nm\n' },
        { tag: 282, type: 'rational', value: [1, 9] },
      ],
      ['just some notes about the sample', 'PixelSize=3.0\r\n'],
    );
    expect(r2.calibration.pixelSize).toBeCloseTo(3, 6);
    expect(r2.calibration.detail).toContain('Hitachi');
  });

  it('normalises unit spellings', () => {
    expect(normaliseUnit('µm')).toBe('um');
    expect(normaliseUnit('\u03BCm')).toBe('um');
    expect(normaliseUnit('\\u00B5m')).toBe('um');
    expect(normaliseUnit('Âµm')).toBe('um');
    expect(normaliseUnit('micron')).toBe('um');
    expect(normaliseUnit('nm')).toBe('nm');
    expect(normaliseUnit('pixel')).toBeNull();
  });

  it('readMetadata on a PNG ignores resolution logic and returns nothing', () => {
    const m = readMetadata({ format: 'png', bitDepth: 8, channels: 1 }, 100, []);
    expect(m.pixelSizeNm).toBeNull();
  });
});

describe('calibrate: precedence and helpers', () => {
  it('manual override beats metadata (with a warning about the difference)', () => {
    const r = run([{ tag: 34118, type: 'ascii', value: ZEISS }], undefined, {
      banner: 'auto',
      pixelSizeOverride: { pixelSize: 2.5, unit: 'nm' },
    });
    expect(r.calibration).toMatchObject({ pixelSize: 2.5, unit: 'nm', source: 'manual' });
    expect(r.calibration.instrument?.vendor).toBe('Zeiss');
    expect(r.warnings.join(' ')).toContain('overrides');
  });

  it('scale bar is used when there is no metadata; none otherwise, with a warning', () => {
    const s = makeScene({
      seed: 11,
      width: 512,
      height: 400,
      banner: { height: 56 },
      bar: { lengthPx: 125, label: '500 nm' },
    });
    const decoded: DecodedImage = { raster: s.raster, meta: { format: 'png', bitDepth: 8, channels: 1 } };
    const r = calibrate({ decoded, grey: s.grey, options: OPTS });
    expect(r.calibration.source).toBe('scale-bar');
    expect(r.calibration.unit).toBe('nm');
    expect(r.calibration.pixelSize).toBeCloseTo(4, 6);
    expect(r.excluded).toEqual([{ y0: 344, y1: 400, reason: 'banner' }]);
    expect(r.scaleBar).toMatchObject({ lengthPx: 125, value: 500, unit: 'nm' });
    expect(formatPixelSize(r.calibration)).toBe('4 nm/px (scale-bar)');

    const plain = makeScene({ seed: 12, width: 300, height: 200 });
    const d2: DecodedImage = { raster: plain.raster, meta: { format: 'png', bitDepth: 8, channels: 1 } };
    const r2 = calibrate({ decoded: d2, grey: plain.grey, options: OPTS });
    expect(r2.calibration).toMatchObject({ pixelSize: null, unit: 'px', source: 'none' });
    expect(r2.excluded).toEqual([]);
    expect(r2.barNote).toMatch(/sizes are in px/);
    expect(formatPixelSize(r2.calibration)).toBe('uncalibrated: sizes in px (none)');
    expect(describeSource(r2.calibration)).toMatch(/Draw a line/);
  });

  it('banner option: off, and a manual band (clamped to the image)', () => {
    const s = makeScene({ seed: 13, width: 400, height: 300, banner: { height: 40 } });
    const decoded: DecodedImage = { raster: s.raster, meta: { format: 'png', bitDepth: 8, channels: 1 } };
    expect(calibrate({ decoded, grey: s.grey, options: { ...OPTS, banner: 'auto' } }).excluded).toEqual([
      { y0: 260, y1: 300, reason: 'banner' },
    ]);
    expect(calibrate({ decoded, grey: s.grey, options: { ...OPTS, banner: 'off' } }).excluded).toEqual([]);
    expect(
      calibrate({ decoded, grey: s.grey, options: { ...OPTS, banner: { y0: 250, y1: 900 } } }).excluded,
    ).toEqual([{ y0: 250, y1: 300, reason: 'manual' }]);
  });

  it('calibrationFromLine, presets and overrides', () => {
    const c = calibrationFromLine(250, 1, 'um');
    expect(c).toMatchObject({ pixelSize: 4, unit: 'nm', source: 'manual' });
    expect(c.detail).toBe('line of 250 px = 1 µm');
    expect(calibrationFromLine(100, 500, 'um')).toMatchObject({ pixelSize: 5, unit: 'um' });
    expect(() => calibrationFromLine(0, 1, 'nm')).toThrow(RangeError);
    expect(() => calibrationFromLine(10, -1, 'nm')).toThrow(RangeError);
    expect(toOverride(c)).toEqual({ pixelSize: 4, unit: 'nm' });
    const p = presetFromCalibration('Gemini 50kX', {
      ...c,
      instrument: { vendor: 'Zeiss', magnification: '50.00 K X' },
    });
    expect(p).toEqual({
      name: 'Gemini 50kX',
      instrument: 'Zeiss',
      magnification: '50.00 K X',
      pixelSize: 4,
      unit: 'nm',
    });
    expect(calibrationFromPreset(p)).toMatchObject({ pixelSize: 4, unit: 'nm', source: 'manual' });
    expect(() => presetFromCalibration('x', { pixelSize: null, unit: 'px', source: 'none' })).toThrow(
      RangeError,
    );
  });
});

describe('metadata parsing is linear and never calibrates from NaN, Infinity or 1e30', () => {
  const tiff = (tags: Record<number, string | number | number[]>) =>
    readMetadata({ format: 'tiff', bitDepth: 8, channels: 1, tiffTags: tags }, 1000, []);

  // Before: 5000 spaces took 38 s in the Zeiss key=value regex (it grows cubically), 80,000 newlines 11 s in
  // the Hitachi one and 47 s in the JEOL one (quadratically); so each case here would run for hours.
  it('a 600 KB Zeiss line without "=" and 400,000-newline side-cars parse in well under a second', () => {
    const long = ' '.repeat(300_000) + 'x'.repeat(300_000);
    const zeiss = `AP_PIXEL_SIZE\r\n${long}\r\n${' '.repeat(600_000)}\r\nImage Pixel Size = 2.5 nm\r\n`;
    let t = performance.now();
    const z = tiff({ 34118: zeiss });
    expect(performance.now() - t).toBeLessThan(500);
    expect(z.pixelSizeNm).toBeCloseTo(2.5, 9);
    const newlines = '\n'.repeat(400_000);
    t = performance.now();
    const h = readMetadata({ format: 'png', bitDepth: 8, channels: 1 }, 1000, [
      `${newlines}PixelSize=3.5\n${' \t'.repeat(300_000)}\n`,
    ]);
    expect(performance.now() - t).toBeLessThan(500);
    expect(h.pixelSizeNm).toBeCloseTo(3.5, 9);
    t = performance.now();
    const j = parseJeol(`$$SM_X\n${newlines}$$SM_MICRON_BAR 100\r\n$$SM_MICRON_MARKER 200nm\n${newlines}`, 0);
    expect(performance.now() - t).toBeLessThan(500);
    expect(j?.pixelSizeNm).toBeCloseTo(2, 9);
    // FEI/Tescan INI text and an ImageJ description with the same junk.
    t = performance.now();
    const f = tiff({ 34682: `[Scan]\n${'['.repeat(600_000)}\n${newlines}PixelWidth=1.5e-9\n` });
    expect(performance.now() - t).toBeLessThan(500);
    expect(f.pixelSizeNm).toBeCloseTo(1.5, 9);
  });

  it('lines longer than 4096 characters are skipped, the rest still read', () => {
    const z = tiff({ 34118: `Image Pixel Size = 9 nm${' '.repeat(5000)}\nPixel Size = 4 nm\n` });
    expect(z.pixelSizeNm).toBeCloseTo(4, 9);
  });

  it.each([
    ['Zeiss', { 34118: 'AP_PIXEL_SIZE\nImage Pixel Size = 1e30 nm\nMag = 5 K X\n' }],
    ['Zeiss', { 34118: 'Image Pixel Size = NaN nm\nPixel Size = Infinity nm\nMag = 5 K X\n' }],
    ['FEI', { 34682: '[Scan]\nPixelWidth=Infinity\n[EScan]\nPixelWidth=NaN\n[Beam]\nHV=5000\n' }],
    ['FEI', { 34682: '[Scan]\nPixelWidth=1e30\n[Beam]\nHV=5000\n' }],
    ['FEI', { 34680: '[Scan]\nPixelWidth=1e-30\n[Beam]\nHV=5000\n' }],
    ['Tescan', { 50431: 'PixelSizeX=1e30\nHV=5000\n' }],
    ['Tescan', { 50431: 'PixelSizeX=Infinity\nHV=5000\n' }],
    ['ImageJ', { 270: 'ImageJ=1.54f\nunit=nm\n', 282: 1e-30 }],
    ['ImageJ', { 270: 'ImageJ=1.54f\nunit=nm\n', 282: Infinity }],
    ['ImageJ', { 270: 'ImageJ=1.54f\nunit=nm\n', 282: NaN }],
    ['plain', { 282: 1e-30, 296: 3 }],
    ['plain', { 282: Infinity, 296: 3 }],
    ['plain', { 282: NaN, 296: 3 }],
  ] as const)('%s tags %j give no calibration', (_, tags) => {
    const m = tiff(tags as Record<number, string | number>);
    expect(m.pixelSizeNm).toBeNull();
  });

  it.each([
    'PixelSize=1e30',
    'PixelSize=Infinity',
    'PixelSize=NaN',
    'PixelSize=1e-30',
    '$$SM_MICRON_BAR Infinity\n$$SM_MICRON_MARKER 200nm',
    '$$SM_MICRON_BAR 1e-300\n$$SM_MICRON_MARKER 200nm',
    '$$SM_MICRON_BAR 100\n$$SM_MICRON_MARKER 1e30nm',
    '$$SM_MICRON_BAR 100\n$$SM_MICRON_MARKER 200nm\n$CM_FULL_SIZE Infinity 960',
  ])('side-car %j gives no calibration', (txt) => {
    const m = readMetadata({ format: 'png', bitDepth: 8, channels: 1 }, 640, [txt]);
    expect(m.pixelSizeNm).toBeNull();
  });

  it('an implausible metadata value falls through to the next source, never into the calibration', () => {
    const r = run(
      [
        { tag: 34118, type: 'ascii', value: 'Image Pixel Size = 1e30 nm\nMag = 5 K X\n' },
        { tag: 34682, type: 'ascii', value: '[Scan]\nPixelWidth=2e-9\n' },
      ],
      ['PixelSize=Infinity'],
    );
    expect(r.calibration).toMatchObject({ source: 'metadata', unit: 'nm' });
    expect(r.calibration.pixelSize).toBeCloseTo(2, 9);
    expect(r.warnings.some((w) => /Zeiss pixel size "1e30 nm" is implausible/.test(w))).toBe(true);
    expect(r.warnings.some((w) => /Hitachi PixelSize=Infinity is not a number/.test(w))).toBe(true);
  });
});
