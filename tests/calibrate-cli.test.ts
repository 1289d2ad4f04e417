/**
 * Acceptance for issue 5: a Zeiss SEM TIFF with its info banner, analysed by the CLI with no options beyond the
 * output folder (and the threshold method while no model is present), reports unit nm, the metadata pixel size,
 * source `metadata`, and no particle centroid inside the banner. Also: a side-car calibrates a plain TIFF, and
 * --pixel-size/--unit override the metadata.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderText } from '../src/core/calibrate/font';
import { rng } from './calibrate-scene';
import { encodeGreyTiff } from './calibrate-tiff';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'saemi.js');
const W = 512;
const IMG_H = 384;
const BANNER = 64;
const H = IMG_H + BANNER;
const tmp = mkdtempSync(path.join(tmpdir(), 'saemi-calib-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ZEISS = [
  'AP_PIXEL_SIZE',
  'Image Pixel Size = 7.344 nm',
  'AP_MAG',
  'Mag = 50.00 K X',
  'AP_ACTUALKV',
  'EHT = 5.00 kV',
  'AP_WD',
  'WD = 4.2 mm',
].join('\r\n');

/** Bright particles on a noisy background, and a Zeiss-style black banner full of white text, boxes and a bar. */
function zeissImage(): { pixels: Uint8Array; particles: { x: number; y: number; r: number }[] } {
  const r = rng(77);
  const img = new Float32Array(W * H);
  for (let i = 0; i < W * H; i++) img[i] = 60 + 10 * Math.sin(i * 0.0007) + 6 * (r() + r() + r() - 1.5);
  const particles: { x: number; y: number; r: number }[] = [];
  // A grid with jitter so particles do not touch; some sit right above the banner edge.
  for (let gy = 0; gy < 5; gy++)
    for (let gx = 0; gx < 7; gx++) {
      const rad = 8 + r() * 8;
      particles.push({ x: 40 + gx * 70 + (r() - 0.5) * 14, y: 38 + gy * 70 + (r() - 0.5) * 14, r: rad });
    }
  for (const p of particles)
    for (let y = Math.floor(p.y - p.r - 1); y <= p.y + p.r + 1; y++)
      for (let x = Math.floor(p.x - p.r - 1); x <= p.x + p.r + 1; x++) {
        if (x < 0 || y < 0 || x >= W || y >= IMG_H) continue;
        if (Math.hypot(x - p.x, y - p.y) <= p.r) img[y * W + x] = 200 + 20 * r();
      }
  // Banner: black, a white separator, white text, white filled boxes (which a threshold would call particles).
  for (let y = IMG_H; y < H; y++) for (let x = 0; x < W; x++) img[y * W + x] = 0;
  for (let x = 0; x < W; x++) img[IMG_H * W + x] = 255;
  const t = { width: W, height: H, data: img };
  renderText(t, 'EHT = 5.00 kV', 8, IMG_H + 8, 1, 255);
  renderText(t, 'WD = 4.2 mm', 8, IMG_H + 24, 1, 255);
  renderText(t, 'Mag = 50.00 K X', 8, IMG_H + 40, 1, 255);
  renderText(t, 'ZEISS', 150, IMG_H + 20, 3, 255, { bold: true });
  for (let y = IMG_H + 14; y < IMG_H + 40; y++) for (let x = 250; x < 290; x++) img[y * W + x] = 255;
  // Scale bar: 200 nm at 7.344 nm/px = 27.2 px; draw 136 px = 1 µm.
  renderText(t, '1 µm', 380, IMG_H + 10, 2, 255);
  for (let y = IMG_H + 34; y < IMG_H + 38; y++) for (let x = 352; x < 488; x++) img[y * W + x] = 255;
  const pixels = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) pixels[i] = Math.max(0, Math.min(255, Math.round(img[i]!)));
  return { pixels, particles };
}

function runCli(args: string[]): { code: number; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

function readCsv(file: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const cols = head!.split(',');
  return rows.map((line) => Object.fromEntries(line.split(',').map((v, i) => [cols[i]!, v])));
}

const { pixels, particles } = zeissImage();
const tif = path.join(tmp, 'zeiss-sem.tif');
writeFileSync(tif, encodeGreyTiff(W, H, pixels, [{ tag: 34118, type: 'ascii', value: ZEISS }]));

function checkZeissRun(out: string): void {
  const summary = readCsv(path.join(out, 'summary.csv'));
  const row = summary.find((r) => r.image === 'zeiss-sem.tif')!;
  expect(row).toBeDefined();
  expect(row.unit).toBe('nm');
  expect(Number(row.pixel_size)).toBeCloseTo(7.344, 3);
  expect(row.pixel_size_source).toBe('metadata');
  const parts = readCsv(path.join(out, 'particles.csv'));
  expect(parts.length).toBeGreaterThan(0);
  for (const p of parts) {
    expect(p.unit).toBe('nm');
    expect(Number(p.y)).toBeLessThan(IMG_H);
  }
  // The drawn particles are found (edge ones may be excluded or clipped), and nothing from the banner's text
  // and boxes is counted: no more particles than were drawn.
  expect(parts.length).toBeGreaterThanOrEqual(Math.round(particles.length * 0.8));
  expect(parts.length).toBeLessThanOrEqual(particles.length);
  // Sizes are in nm: the mean ECD of 8-16 px radius disks at 7.344 nm/px is 170-240 nm.
  const meanEcd = parts.reduce((s, p) => s + Number(p.ecd), 0) / parts.length;
  expect(meanEcd).toBeGreaterThan(150);
  expect(meanEcd).toBeLessThan(260);
}

describe('CLI calibration acceptance (Zeiss TIFF with banner)', () => {
  it('threshold method: unit nm, metadata pixel size, nothing in the banner', () => {
    const out = path.join(tmp, 'out-threshold');
    const r = runCli(['analyze', tif, '--out', out, '--method', 'threshold']);
    expect(r.code, r.stderr).toBe(0);
    checkZeissRun(out);
    // Labels PNG keeps the banner at 0 (checked through the particles' bboxes above; the file must exist).
    expect(existsSync(path.join(out, 'labels', 'zeiss-sem.png'))).toBe(true);
  });

  it.skipIf(!existsSync(path.join(ROOT, 'models', 'saemi-unet.json')))(
    'default model: unit nm, metadata pixel size, nothing in the banner',
    () => {
      const out = path.join(tmp, 'out-model');
      const r = runCli(['analyze', tif, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      checkZeissRun(out);
    },
  );

  it('--pixel-size/--unit override the metadata (source manual)', () => {
    const out = path.join(tmp, 'out-override');
    const r = runCli([
      'analyze',
      tif,
      '--out',
      out,
      '--method',
      'threshold',
      '--pixel-size',
      '0.01',
      '--unit',
      'um',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const row = readCsv(path.join(out, 'summary.csv')).find((x) => x.image === 'zeiss-sem.tif')!;
    expect(row.unit).toBe('um');
    expect(Number(row.pixel_size)).toBeCloseTo(0.01, 6);
    expect(row.pixel_size_source).toBe('manual');
  });

  it('a Hitachi side-car next to a plain TIFF calibrates it; the banner-read scale bar is the fallback', () => {
    const plain = path.join(tmp, 'hitachi.tif');
    writeFileSync(plain, encodeGreyTiff(W, H, pixels));
    writeFileSync(
      path.join(tmp, 'hitachi.txt'),
      '[SemImageFile]\r\nPixelSize=2.5\r\nMagnification=100000\r\n',
    );
    const noCar = path.join(tmp, 'bar-only.tif');
    writeFileSync(noCar, encodeGreyTiff(W, H, pixels));
    const out = path.join(tmp, 'out-sidecar');
    const r = runCli(['analyze', plain, noCar, '--out', out, '--method', 'threshold']);
    expect(r.code, r.stderr).toBe(0);
    const rows = readCsv(path.join(out, 'summary.csv'));
    const h = rows.find((x) => x.image === 'hitachi.tif')!;
    expect(h.pixel_size_source).toBe('metadata');
    expect(Number(h.pixel_size)).toBeCloseTo(2.5, 6);
    // No metadata at all: the 136 px "1 µm" bar in the banner gives 7.353 nm/px.
    const b = rows.find((x) => x.image === 'bar-only.tif')!;
    expect(b.pixel_size_source).toBe('scale-bar');
    expect(b.unit).toBe('nm');
    expect(Number(b.pixel_size)).toBeCloseTo(1000 / 136, 2);
  });
});
