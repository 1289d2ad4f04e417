/**
 * Info banners as four vendors lay them out — Zeiss (black data zone, white fields, bar with its label above),
 * FEI/Thermo (black band of boxed fields, the bar with end ticks in the last box), JEOL (semseg_sem's layout: bold
 * monospace, a solid bar block with its label to the right), Hitachi (one line of fields, an eleven-tick bar with
 * its label below; also a light band at the top) — rendered in real fonts on SEM grounds by
 * tests/fixtures/banners/render.py. The banner must be found to the row, the bar inside it measured within 1 px
 * and its label read by the OCR engine, as PNG and after JPEG compression; and an analysis must find no particle
 * in the banner.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { calibrate } from '../src/core/calibrate/index';
import { readBarLabel } from '../src/core/calibrate/read-bar-label';
import { decodeImage } from '../src/core/decode/index';
import { toGrey } from '../src/core/normalise';
import { analyzeImage } from '../src/core/pipeline';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../src/core/types';
import { nodeRecognizer } from '../src/cli/ocr-engine';

interface Truth {
  banner: { y0: number; y1: number };
  bar: { value: number; unit: 'nm' | 'um'; x0: number; x1: number; lengthPx: number };
  wholeParticles: number;
}

const dir = path.resolve(import.meta.dirname, 'fixtures/banners');
const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Record<string, Truth>;
const NAMES = Object.keys(truth);
const recognizer = nodeRecognizer();
afterAll(() => recognizer.dispose());

function png(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(dir, `${name}.png`)));
}

/** The fixture re-encoded as a grey JPEG (quality 85), as many instruments and users save them. */
function asJpeg(name: string): Uint8Array {
  const { raster } = decodeImage(png(name), `${name}.png`);
  const n = raster.width * raster.height;
  const rgba = new Uint8Array(n * 4);
  for (let k = 0; k < n; k++) {
    const v = raster.data[k]!;
    rgba[4 * k] = rgba[4 * k + 1] = rgba[4 * k + 2] = v;
    rgba[4 * k + 3] = 255;
  }
  return jpeg.encode({ data: rgba, width: raster.width, height: raster.height }, 85).data;
}

describe.each([
  ['PNG', (n: string) => ({ bytes: png(n), file: `${n}.png` })],
  ['JPEG', (n: string) => ({ bytes: asJpeg(n), file: `${n}.jpg` })],
] as const)('vendor banners (%s)', (_kind, load) => {
  it.each(NAMES)(
    '%s: banner to the row, bar within 1 px, label read',
    async (name) => {
      const t = truth[name]!;
      const { bytes, file } = load(name);
      const decoded = decodeImage(bytes, file);
      const grey = toGrey(decoded.raster);
      const first = calibrate({ decoded, grey, options: { banner: 'auto', pixelSizeOverride: null } });
      expect(first.excluded).toEqual([{ ...t.banner, reason: 'banner' }]);
      const bar = first.scaleBar;
      expect(bar, 'bar found in the banner').toBeDefined();
      expect(bar!.y).toBeGreaterThanOrEqual(t.banner.y0);
      expect(bar!.y).toBeLessThan(t.banner.y1);
      expect(Math.abs(bar!.x0 - t.bar.x0)).toBeLessThanOrEqual(1);
      expect(Math.abs(bar!.lengthPx - t.bar.lengthPx)).toBeLessThanOrEqual(1);
      const cal = await readBarLabel(grey, first, recognizer);
      expect(cal.scaleBar).toMatchObject({ value: t.bar.value, unit: t.bar.unit });
      expect(cal.calibration.source).toBe('scale-bar');
      const nm = (t.bar.unit === 'um' ? 1000 : 1) * t.bar.value;
      const got =
        cal.calibration.unit === 'um' ? cal.calibration.pixelSize! * 1000 : cal.calibration.pixelSize!;
      expect(Math.abs(got / (nm / cal.scaleBar!.lengthPx) - 1)).toBeLessThan(1e-9);
    },
    30_000,
  );
});

describe('particles and banners', () => {
  const options: AnalysisOptions = { ...DEFAULT_OPTIONS, method: 'threshold' };
  const name = 'zeiss-bottom';
  const t = truth[name]!;

  it('finds no particle in a Zeiss banner, and every whole particle of the micrograph', async () => {
    const a = await analyzeImage({ name: `${name}.png`, bytes: png(name) }, options, null, {
      ocr: recognizer,
    });
    expect(a.excluded).toEqual([{ ...t.banner, reason: 'banner' }]);
    for (let y = t.banner.y0; y < t.banner.y1; y++)
      for (let x = 0; x < a.width; x++) expect(a.labels.data[y * a.width + x]).toBe(0);
    for (const p of a.particles) expect(p.bbox[3]).toBeLessThanOrEqual(t.banner.y0);
    // Particles cut by the image edge or the banner are 'edge'; the rest are the whole particles drawn.
    const whole = a.particles.filter((p) => p.excluded === null && !p.touchesEdge);
    expect(whole.length).toBe(t.wholeParticles);
    expect(a.calibration.source).toBe('scale-bar');
    expect(a.calibration.pixelSize).toBeCloseTo(200 / t.bar.lengthPx, 6);
  }, 30_000);

  it('without banner detection the banner letters would be taken for particles', async () => {
    const a = await analyzeImage(
      { name: `${name}.png`, bytes: png(name) },
      { ...options, banner: 'off' },
      null,
    );
    expect(a.particles.filter((p) => p.y >= t.banner.y0).length).toBeGreaterThan(5);
  }, 30_000);
});
