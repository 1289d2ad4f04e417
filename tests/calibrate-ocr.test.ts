/**
 * Scale bars labelled in real fonts (rendered from Debian's font packages: tests/fixtures/labels), in the styles
 * real files use — black bar on a light TEM ground with the label to its right, white bar on a dark micrograph,
 * a bar with end ticks on a drawn box, a bar inside a dark SEM data bar — each once as PNG and once JPEG-compressed: the OCR
 * engine (tesseract.js) must read value and unit on >= 95 % and the bar must measure within 1 px.
 */
import { afterAll, describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { calibrate } from '../src/core/calibrate/index';
import { MAX_ENGINE_CALLS, MAX_UNCONFIRMED_LINES, readBarLabel } from '../src/core/calibrate/read-bar-label';
import {
  CONFIRMING_VIEWS,
  isUsualValue,
  labelViews,
  parseEngineText,
  readLabelCrop,
  stretchCrop,
} from '../src/core/calibrate/label-ocr';
import { parseScaleLabel } from '../src/core/calibrate/ocr';
import { decodeImage } from '../src/core/decode/index';
import { toGrey } from '../src/core/normalise';
import type { DecodedImage } from '../src/core/types';
import { nodeRecognizer } from '../src/cli/ocr-engine';
import { makeScene, type SceneSpec } from './calibrate-scene';
import { ATLAS_FONTS, ATLAS_SIZES, ATLAS_TEXTS, atlasText } from './helpers/label-atlas';

const recognizer = nodeRecognizer();
afterAll(() => recognizer.dispose());

type Style = 'tem-right' | 'dark-above' | 'ticks-below' | 'banner-above';
const STYLES: Style[] = ['tem-right', 'dark-above', 'ticks-below', 'banner-above'];

function spec(i: number, style: Style, font: string, size: number, label: string): SceneSpec {
  const lengthPx = 90 + ((i * 37) % 160);
  const common = { seed: 500 + i, width: 640, height: 480, noise: 6 };
  const bar = { lengthPx, label, font: { name: font, size }, thickness: 3 + (i % 3) };
  switch (style) {
    case 'tem-right':
      return { ...common, tem: true, bar: { ...bar, polarity: 'black', labelPos: 'right', x: 40, y: 440 } };
    case 'dark-above':
      return { ...common, bar: { ...bar, polarity: 'white', labelPos: 'above', x: 380, y: 430 } };
    case 'ticks-below':
      return {
        ...common,
        tem: true,
        bar: { ...bar, style: 'ticks', polarity: 'black', labelPos: 'below', box: true, x: 300, y: 380 },
      };
    case 'banner-above':
      return {
        ...common,
        banner: { height: 64, level: 20, textLevel: 235 },
        bar: {
          ...bar,
          where: 'banner',
          polarity: 'white',
          labelPos: 'above',
          x: Math.min(430, 630 - lengthPx),
        },
      };
  }
}

function decodedOf(s: ReturnType<typeof makeScene>, asJpeg: boolean): DecodedImage {
  if (!asJpeg) return { raster: s.raster, meta: { format: 'png', tags: {} } } as unknown as DecodedImage;
  const { width, height } = s.raster;
  const rgba = new Uint8Array(width * height * 4);
  for (let k = 0; k < width * height; k++) {
    const v = s.raster.data[k]!;
    rgba[4 * k] = rgba[4 * k + 1] = rgba[4 * k + 2] = v;
    rgba[4 * k + 3] = 255;
  }
  return decodeImage(jpeg.encode({ data: rgba, width, height }, 80).data, 'scene.jpg');
}

describe('scale-bar labels in real fonts', () => {
  it('reads value and unit on >= 95 % of rendered bars, bar length within 1 px', async () => {
    const cases: { style: Style; font: string; size: number; label: string; jpeg: boolean }[] = [];
    // Every font in every style, once as PNG and once JPEG-compressed, the label size alternating.
    let i = 0;
    for (const font of ATLAS_FONTS)
      for (const style of STYLES)
        for (const asJpeg of [false, true]) {
          cases.push({
            style,
            font,
            size: ATLAS_SIZES[(i + (i >> 1)) % ATLAS_SIZES.length]!,
            label: ATLAS_TEXTS[(i * 5) % ATLAS_TEXTS.length]!,
            jpeg: asJpeg,
          });
          i++;
        }
    let read = 0;
    const failures: string[] = [];
    for (const [k, c] of cases.entries()) {
      const s = makeScene(spec(k, c.style, c.font, c.size, c.label));
      const decoded = decodedOf(s, c.jpeg);
      const grey = toGrey(decoded.raster);
      const first = calibrate({ decoded, grey, options: { banner: 'auto', pixelSizeOverride: null } });
      const cal = await readBarLabel(grey, first, recognizer);
      const want = parseScaleLabel(c.label)!;
      const name = `${c.style} ${c.font} ${c.size}px "${c.label}"${c.jpeg ? ' jpeg' : ''}`;
      // The bar is measured whether or not its label is read: on micrograph texture an unread bar is only a
      // candidate (not reported), but it must still be found, first, and measured within a pixel.
      const bar = cal.scaleBar ?? first.barCandidates[0]?.reading;
      expect(bar, `${name}: bar found`).toBeDefined();
      expect(Math.abs(bar!.lengthPx - s.truth.bar!.lengthPx), `${name}: bar length`).toBeLessThanOrEqual(1);
      if (bar!.value === want.value && bar!.unit === want.unit && cal.calibration.source === 'scale-bar')
        read++;
      else failures.push(`${name}: ${bar!.text ?? '-'}`);
    }
    expect(read / cases.length, failures.join('\n')).toBeGreaterThanOrEqual(0.95);
  }, 240_000);

  it('reads every label text of every font from a tight crop', async () => {
    let read = 0;
    let n = 0;
    for (const font of ATLAS_FONTS)
      for (const text of ATLAS_TEXTS) {
        const t = atlasText(font, 15, text);
        const data = new Float32Array(t.coverage.length);
        for (let k = 0; k < data.length; k++) data[k] = 230 - 200 * t.coverage[k]!;
        const crop = stretchCrop(
          { width: t.width, height: t.height, data },
          { x0: 0, y0: 0, x1: t.width, y1: t.height },
        );
        const got = await readLabelCrop(recognizer, crop);
        const want = parseScaleLabel(text)!;
        n++;
        if (got && got.value === want.value && got.unit === want.unit) read++;
      }
    expect(read / n).toBeGreaterThanOrEqual(0.95);
  }, 120_000);
});

describe('label-ocr helpers', () => {
  it('maps the engine µ confusions to micrometres and keeps nm, and rejects banner fields', () => {
    expect(parseEngineText('2.00pm')).toMatchObject({ value: 2, unit: 'um' });
    expect(parseEngineText('1 μm')).toMatchObject({ value: 1, unit: 'um' });
    expect(parseEngineText('0.5 µm\n')).toMatchObject({ value: 0.5, unit: 'um' });
    expect(parseEngineText('100.0nm')).toMatchObject({ value: 100, unit: 'nm' });
    expect(parseEngineText('50 n m')).toMatchObject({ value: 50, unit: 'nm' });
    expect(parseEngineText('WD = 4.2 mm')).toBeNull();
    expect(parseEngineText('')).toBeNull();
  });

  it('knows the usual scale-bar values', () => {
    for (const v of [1, 2, 2.5, 3, 4, 5, 10, 20, 50, 100, 200, 250, 500, 0.5, 0.2])
      expect(isUsualValue(v)).toBe(true);
    for (const v of [7, 1.4, 58, 209, 1400, 7200, 0, -1, NaN]) expect(isUsualValue(v)).toBe(false);
  });

  it('gives the engine dark ink on a light ground whatever the crop polarity', () => {
    const w = 40;
    const h = 20;
    const data = new Float32Array(w * h).fill(10);
    for (let y = 6; y < 14; y++) for (let x = 10; x < 30; x++) data[y * w + x] = 240;
    const views = labelViews(stretchCrop({ width: w, height: h, data }, { x0: 0, y0: 0, x1: w, y1: h }));
    // The first light-ink view (after the four grey ones and the three dark-ink ones): the bright block must
    // come out black on white.
    const inkLight = views[7]!;
    const cx = Math.floor(inkLight.width / 2);
    const cy = Math.floor(inkLight.height / 2);
    expect(inkLight.data[cy * inkLight.width + cx]).toBe(0);
    expect(inkLight.data[0]).toBe(255);
  });
});

describe('the engine budget of a bar-less image', () => {
  // Text-like lines on textured ground: unconfirmed bar candidates stop at MAX_ENGINE_CALLS, however many
  // candidates and lines the image offers; a line that reads as nothing is given up after CONFIRMING_VIEWS views,
  // a reported bar's line is read with all of them.
  const s = makeScene({ seed: 7, width: 320, height: 240 });
  const decoded = { raster: s.raster, meta: { format: 'png', tags: {} } } as unknown as DecodedImage;
  const grey = toGrey(decoded.raster);
  const base = calibrate({ decoded, grey, options: { banner: 'auto', pixelSizeOverride: null } });
  const line = { x0: 20, y0: 20, x1: 90, y1: 34 };
  const reading = { x0: 20, x1: 120, y: 40, lengthPx: 100, value: null, unit: null, text: null };
  function candidates(n: number, lines: number, reported = false) {
    return Array.from({ length: n }, () => ({
      reading: reading as never,
      labelLines: Array.from({ length: lines }, () => line) as never,
      reported,
    }));
  }
  function garbage() {
    const counter = { calls: 0 };
    const rec = {
      recognizeLine: () => {
        counter.calls++;
        return Promise.resolve({ text: 'xx', confidence: 50 });
      },
    };
    return { rec, counter };
  }

  it('stops at the budget', async () => {
    // Every view parses, each to another label far too small for a 100 px bar (0.0001-0.0040 nm: a pixel of
    // picometres): no crop is given up early and no vote is decided, so only the budget ends the reading.
    const counter = { calls: 0 };
    const rec = {
      recognizeLine: () =>
        Promise.resolve({ text: `0.${String(++counter.calls).padStart(4, '0')} nm`, confidence: 50 }),
    };
    const cal = await readBarLabel(grey, { ...base, barCandidates: candidates(6, 4) }, rec);
    expect(cal.calibration.source).not.toBe('scale-bar');
    expect(counter.calls).toBe(MAX_ENGINE_CALLS);
  });

  it('lines that read as nothing are given up after CONFIRMING_VIEWS each', async () => {
    const { rec, counter } = garbage();
    await readBarLabel(grey, { ...base, barCandidates: candidates(1, 3) }, rec);
    expect(counter.calls).toBe(3 * CONFIRMING_VIEWS);
  });

  it('a reported bar (banner) is read past it: its label may be the 6th line', async () => {
    const { rec, counter } = garbage();
    await readBarLabel(grey, { ...base, barCandidates: candidates(1, 6, true) }, rec);
    expect(counter.calls).toBeGreaterThan(MAX_ENGINE_CALLS);
  });

  it('where the label network sees nothing likely a digit, an unconfirmed bar costs no engine call; a reported one still does', async () => {
    const faint = {
      weight: 4,
      read: () => Promise.resolve({ line: null, noLabel: false, unlikely: true }),
    };
    const unconfirmed = garbage();
    await readBarLabel(
      grey,
      { ...base, barCandidates: candidates(6, 4) },
      { ...unconfirmed.rec, labelReader: faint },
    );
    expect(unconfirmed.counter.calls).toBe(0);
    const reported = garbage();
    await readBarLabel(
      grey,
      { ...base, barCandidates: candidates(1, 2, true) },
      { ...reported.rec, labelReader: faint },
    );
    expect(reported.counter.calls).toBeGreaterThan(0);
  });

  it("the label network reads at most MAX_UNCONFIRMED_LINES lines of unconfirmed bars, a reported bar's all", async () => {
    const seen = { reads: 0 };
    const faint = {
      weight: 4,
      read: () => {
        seen.reads++;
        return Promise.resolve({ line: null, noLabel: false, unlikely: true });
      },
    };
    const { rec } = garbage();
    await readBarLabel(grey, { ...base, barCandidates: candidates(6, 4) }, { ...rec, labelReader: faint });
    expect(seen.reads).toBe(MAX_UNCONFIRMED_LINES);
    seen.reads = 0;
    const both = [...candidates(1, 5, true), ...candidates(3, 4)];
    await readBarLabel(grey, { ...base, barCandidates: both }, { ...rec, labelReader: faint });
    // All 8 lines the image may have read: the reported bar's 5, then 3 of the unconfirmed ones.
    expect(seen.reads).toBe(8);
  });

  it("a reported bar's line is read with every view, an unconfirmed bar's until CONFIRMING_VIEWS read as nothing", async () => {
    const m = Math.max(2, Math.round(14 * 0.35));
    const crop = stretchCrop(grey, { x0: 20 - m, y0: 20 - m, x1: 90 + m, y1: 34 + m });
    const inked = labelViews(crop).filter((v) => v.data.some((p) => p < 128)).length;
    expect(inked).toBeGreaterThan(CONFIRMING_VIEWS);
    expect(inked).toBeLessThan(MAX_ENGINE_CALLS);
    const reported = garbage();
    await readBarLabel(grey, { ...base, barCandidates: candidates(1, 1, true) }, reported.rec);
    expect(reported.counter.calls).toBe(inked);
    const unconfirmed = garbage();
    await readBarLabel(grey, { ...base, barCandidates: candidates(1, 1) }, unconfirmed.rec);
    expect(unconfirmed.counter.calls).toBe(CONFIRMING_VIEWS);
  });

  it('an unconfirmed bar whose label parses in a late view is still read', async () => {
    // The engine reads the label only from its 4th view on: within CONFIRMING_VIEWS, so the bar is confirmed.
    let calls = 0;
    const rec = {
      recognizeLine: () =>
        Promise.resolve(++calls >= 4 ? { text: '500 nm', confidence: 80 } : { text: 'xx', confidence: 50 }),
    };
    const cal = await readBarLabel(grey, { ...base, barCandidates: candidates(1, 1) }, rec);
    expect(cal.calibration.source).toBe('scale-bar');
    expect(cal.scaleBar?.value).toBe(500);
    expect(calls).toBeGreaterThanOrEqual(4);
  });
});
