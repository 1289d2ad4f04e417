/**
 * A second, differently configured model through the same code: the hand-built rays model of
 * tests/fixtures/star-tiny (32 rays on a 2 px grid, polygons of radius 8.3 px around each bright disc of
 * radius 8 px) given to `saemi analyze --model`. Touching discs come out as separate particles, as a
 * star-convex model separates them by construction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsvRecords } from '../src/core/export/csv';
import { discs, greyPng, runCli } from './helpers/cli';

const MODEL = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'fixtures',
  'star-tiny',
  'star-tiny.json',
);
const W = 200;
const H = 150;
// Centres on odd pixels, where the 2 px grid's points lie; the first two touch, as do the last two.
const SCENE: Array<[number, number, number]> = [
  [31, 31, 8],
  [47, 31, 8],
  [101, 41, 8],
  [141, 101, 8],
  [59, 101, 8],
  [71, 111, 8],
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'saemi-star-'));
  writeFileSync(path.join(dir, 'discs.png'), greyPng(W, H, discs(W, H, SCENE, 220, 30)));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a rays (star-convex) model in the CLI', () => {
  it('finds each disc once, touching ones apart, with the polygon area the model predicts', () => {
    const out = path.join(dir, 'out');
    const r = runCli(dir, ['analyze', path.join(dir, 'discs.png'), '--out', out, '--model', MODEL, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseCsvRecords(readFileSync(path.join(out, 'particles.csv'), 'utf8'));
    expect(rows).toHaveLength(SCENE.length);
    // --json carries each image's decision trace
    const json = JSON.parse(r.stdout) as { images: Array<{ trace: string[] }> };
    expect(json.images[0].trace).toEqual([
      'calibrate: no pixel size found, sizes in px',
      'segment: star-tiny 0.0.1, native scale (the model states no size range)',
      `measure: ${SCENE.length} particles in the statistics`,
    ]);
    // A 32-gon of circumradius 8.3 px holds about pi * 8.3^2 * 0.994 = 215 pixel centres.
    for (const row of rows) {
      expect(Number(row.area)).toBeGreaterThan(200);
      expect(Number(row.area)).toBeLessThan(230);
    }
    const centres = rows
      .map((p) => [Math.round(Number(p.x)), Math.round(Number(p.y))])
      .sort((a, b) => a[0] - b[0]);
    const want = SCENE.map(([x, y]) => [x, y]).sort((a, b) => a[0] - b[0]);
    for (let i = 0; i < want.length; i++) {
      expect(Math.abs(centres[i][0] - want[i][0])).toBeLessThanOrEqual(1);
      expect(Math.abs(centres[i][1] - want[i][1])).toBeLessThanOrEqual(1);
    }
  });

  it('the same image by threshold merges the touching discs (what the rays model is for)', () => {
    const out = path.join(dir, 'out-threshold');
    const r = runCli(dir, [
      'analyze',
      path.join(dir, 'discs.png'),
      '--out',
      out,
      '--method',
      'threshold',
      '--no-split',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseCsvRecords(readFileSync(path.join(out, 'particles.csv'), 'utf8'));
    expect(rows).toHaveLength(SCENE.length - 2);
  });
});
