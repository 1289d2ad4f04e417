import { describe, expect, it } from 'vitest';
import { detectBanner } from '../src/core/calibrate/banner';
import { CELL_HEIGHT, glyphFor, measureText, renderText } from '../src/core/calibrate/font';
import { parseScaleLabel } from '../src/core/calibrate/ocr';
import { findScaleBar, findScaleBarCandidates, MIN_TEXT_LINE_PX } from '../src/core/calibrate/scalebar';
import { makeScene, type BarSpec, type SceneSpec } from './calibrate-scene';

describe('font', () => {
  it('measures and renders glyphs at integer scales, bold one column wider per glyph', () => {
    expect(measureText('1', 1)).toMatchObject({ width: 5, height: CELL_HEIGHT, capHeight: 7 });
    // '2' (5) + gap (1) + '0' (5) + gap + '0' + gap + ' ' (3) + gap + 'n' (5) + gap + 'm' (7)
    expect(measureText('200 nm', 1).width).toBe(5 + 1 + 5 + 1 + 5 + 1 + 3 + 1 + 5 + 1 + 7);
    expect(measureText('200 nm', 3).width).toBe(3 * 35);
    expect(measureText('88', 2, { bold: true }).width).toBe(2 * (6 + 1 + 6));
    const t = { width: 20, height: 20, data: new Uint8Array(400) };
    const adv = renderText(t, '.', 2, 3, 2, 7);
    expect(adv).toBe(4);
    let n = 0;
    for (let i = 0; i < 400; i++) if (t.data[i] === 7) n++;
    expect(n).toBe(16); // a 2x2 dot at scale 2
    expect(t.data[(3 + 5 * 2) * 20 + 2]).toBe(7); // row 5 of the cell, first column
    expect(t.data[(3 + 4 * 2) * 20 + 2]).toBe(0);
    expect(glyphFor('\u03BC')).toBe(glyphFor('µ'));
    expect(() => measureText('x', 1.5)).toThrow();
  });
});

describe('parseScaleLabel', () => {
  it.each([
    ['200 nm', 200, 'nm'],
    ['1 µm', 1, 'um'],
    ['1 \u03BCm', 1, 'um'],
    ['0.5 um', 0.5, 'um'],
    ['2.00um', 2, 'um'],
    // Some instruments drop the leading zero (a real crop in scalebar_ocr reads ".2 µm").
    ['.2 µm', 0.2, 'um'],
    ['Bar .5um', 0.5, 'um'],
    ['500nm', 500, 'nm'],
    ['1,5 µm', 1.5, 'um'],
    ['500 pm', 0.5, 'nm'],
    ['1 mm', 1000, 'um'],
    ['?? 100 nm', 100, 'nm'],
  ])('%s', (text, value, unit) => {
    expect(parseScaleLabel(text)).toMatchObject({ value, unit });
  });
  it.each(['WD = 4.2 mm', 'EHT = 5.00 kV', '200', 'nm', 'Mag: 50 nm', '12 nmx', 'WD = .5 mm'])(
    'rejects %s',
    (text) => {
      expect(parseScaleLabel(text)).toBeNull();
    },
  );
});

const BASE: Omit<SceneSpec, 'seed'> = { width: 640, height: 480 };

function check(spec: SceneSpec, expectValue: number | undefined, expectUnit?: string) {
  const s = makeScene(spec);
  const bands = detectBanner(s.grey, { integerValued: true });
  if (s.truth.banner) {
    expect(bands).toHaveLength(1);
    expect(bands[0]!.y0).toBe(s.truth.banner.y0);
    expect(bands[0]!.y1).toBe(s.truth.banner.y1);
  } else expect(bands).toEqual([]);
  const r = findScaleBar(s.grey, { bands });
  expect(r).not.toBeNull();
  const t = s.truth.bar!;
  expect(Math.abs(r!.x0 - t.x0)).toBeLessThanOrEqual(1);
  expect(Math.abs(r!.x1 - t.x1)).toBeLessThanOrEqual(1);
  expect(Math.abs(r!.lengthPx - t.lengthPx)).toBeLessThanOrEqual(1);
  expect(r!.y).toBeGreaterThanOrEqual(t.y0);
  expect(r!.y).toBeLessThan(t.y1);
  expect(r!.value).toBe(expectValue);
  if (expectUnit) expect(r!.unit).toBe(expectUnit);
  return r!;
}

describe('banner and scale bar on synthetic SEM images', () => {
  const styles: [string, Partial<BarSpec>][] = [
    ['solid white', { style: 'solid', polarity: 'white' }],
    ['ticks white', { style: 'ticks', polarity: 'white' }],
    ['solid black', { style: 'solid', polarity: 'black' }],
    ['ticks black', { style: 'ticks', polarity: 'black' }],
  ];
  it.each(styles)('%s bar in a bottom banner', (_n, bar) => {
    const black = bar.polarity === 'black';
    check(
      {
        ...BASE,
        seed: 21,
        banner: { height: 64, level: black ? 230 : 10, separator: true },
        bar: { lengthPx: 143, label: '200 nm', scale: 2, ...bar },
      },
      200,
      'nm',
    );
  });
  it.each(styles)('%s bar on the image with a label below, scale 3', (_n, bar) => {
    check(
      { ...BASE, seed: 22, bar: { lengthPx: 201, label: '1 µm', scale: 3, labelPos: 'below', ...bar } },
      1,
      'um',
    );
  });
  it.each(styles)('%s bar on the image inside a box, label left, scale 1', (_n, bar) => {
    check(
      {
        ...BASE,
        seed: 23,
        bar: { lengthPx: 77, label: '0.5 um', scale: 1, labelPos: 'left', box: true, ...bar },
      },
      0.5,
      'um',
    );
  });
  it('top banner, bold label without a space', () => {
    check(
      {
        ...BASE,
        seed: 24,
        banner: { height: 48, position: 'top' },
        bar: { lengthPx: 99, label: '2.00um', bold: true },
      },
      2,
      'um',
    );
  });
  it('unreadable label in the banner: length without a value', () => {
    const r = check(
      { ...BASE, seed: 25, banner: { height: 60 }, bar: { lengthPx: 120, label: 'XYZ' } },
      undefined,
    );
    expect(r.unit).toBeUndefined();
  });
  it('bright banner with dark text and a 1 px bar with ticks', () => {
    check(
      {
        ...BASE,
        seed: 26,
        banner: { height: 70, level: 255 },
        bar: { lengthPx: 180, label: '500nm', thickness: 1, style: 'ticks', polarity: 'black', scale: 2 },
      },
      500,
      'nm',
    );
  });

  it('no banner and no bar on ordinary images (varied seeds, noise, sizes)', () => {
    for (let seed = 100; seed < 112; seed++) {
      const s = makeScene({
        seed,
        width: 256 + (seed % 4) * 100,
        height: 200 + (seed % 3) * 90,
        noise: 2 + (seed % 5) * 4,
        particles: 10 + (seed % 6) * 20,
      });
      expect(detectBanner(s.grey, { integerValued: true })).toEqual([]);
      expect(findScaleBar(s.grey, { bands: [] })).toBeNull();
    }
  });

  it('no banner on a smooth image whose bottom is plain background', () => {
    // Noise-free micrograph: flat rows everywhere, so the bottom rows do not stand out as a band.
    const s = makeScene({ seed: 30, width: 320, height: 240, noise: 0, particles: 4 });
    expect(detectBanner(s.grey, { integerValued: true })).toEqual([]);
  });
});

describe('label lines around a bar', () => {
  it('a row of marks flatter than MIN_TEXT_LINE_PX is not offered as a text line; a taller one is', () => {
    const W = 300;
    const H = 120;
    const g = { width: W, height: H, data: new Float32Array(W * H).fill(0.2) };
    const box = (x0: number, y0: number, w: number, h: number, v: number) => {
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) g.data[y * W + x] = v;
    };
    // A bright bar on a dark ground, marks above it (4 px tall) and below it (MIN_TEXT_LINE_PX tall).
    box(100, 60, 100, 4, 0.9);
    for (let k = 0; k < 6; k++) box(110 + 8 * k, 50, 5, MIN_TEXT_LINE_PX - 1, 0.9);
    for (let k = 0; k < 6; k++) box(110 + 8 * k, 70, 5, MIN_TEXT_LINE_PX, 0.9);
    const found = findScaleBarCandidates(g);
    expect(found.length).toBeGreaterThan(0);
    const lines = found[0]!.labelLines;
    expect(lines.some((l) => l.y0 === 70 && l.y1 - l.y0 === MIN_TEXT_LINE_PX)).toBe(true);
    expect(lines.every((l) => l.y1 - l.y0 >= MIN_TEXT_LINE_PX)).toBe(true);
  });
});
