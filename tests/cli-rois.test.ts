/**
 * ImageJ interop from the command line: `--rois` writes rois/<stem>.zip (polygon ROIs Fiji's ROI Manager
 * opens), and `--labels-in DIR` measures given label images instead of segmenting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { parseCsvRecords } from '../src/core/export/csv';
import { discs, greyPng, runCli } from './helpers/cli';
import { polygonArea, readRoiSet } from './helpers/imagej-roi-reader';

const W = 200;
const H = 150;
const ARGS = ['--method', 'threshold', '--min-area', '10'];
const SCENES: Record<string, Array<[number, number, number]>> = {
  'a.png': [
    [30, 30, 10],
    [90, 40, 14],
    [150, 100, 8],
  ],
  'b.png': [
    [40, 100, 12],
    [100, 60, 6],
    [160, 40, 16],
    [60, 40, 9],
  ],
};

let dir: string;
const at = (...p: string[]): string => path.join(dir, ...p);
const records = (out: string, file: string) => parseCsvRecords(readFileSync(at(out, file), 'utf8'));

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'saemi-rois-'));
  mkdirSync(at('in'));
  for (const [name, scene] of Object.entries(SCENES))
    writeFileSync(at('in', name), greyPng(W, H, discs(W, H, scene, 45, 205)));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('saemi analyze --rois / --labels-in', () => {
  it('--rois writes one ImageJ polygon per particle of particles.csv, outlining its pixels in labels/', () => {
    const r = runCli(dir, ['analyze', at('in'), '--out', at('out'), ...ARGS, '--rois']);
    expect(r.code, r.stderr).toBe(0);
    const particles = records('out', 'particles.csv');
    for (const [name, scene] of Object.entries(SCENES)) {
      const stem = name.replace(/\.png$/, '');
      const rois = readRoiSet(readFileSync(at('out', 'rois', `${stem}.zip`)));
      const rows = particles.filter((p) => p.image === name);
      expect(rois).toHaveLength(scene.length);
      expect(rows).toHaveLength(scene.length);
      const png = decodePng(readFileSync(at('out', 'labels', `${stem}.png`)));
      const lab = png.data as Uint16Array;
      for (const row of rows) {
        const id = Number(row.particle);
        const roi = rois.find((q) => Number(q.name.slice(0, 4)) === id)!;
        expect(roi, `${name} particle ${id}`).toBeDefined();
        expect(roi.type).toBe(0);
        // The ROI's box and area are those of the particle's pixels in the label image.
        let [x0, y0, x1, y1, n] = [W, H, 0, 0, 0];
        for (let i = 0; i < lab.length; i++)
          if (lab[i] === id) {
            const x = i % W;
            const y = Math.floor(i / W);
            [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
            n++;
          }
        expect([roi.left, roi.top, roi.right, roi.bottom]).toEqual([x0, y0, x1, y1]);
        expect(polygonArea(roi.xs, roi.ys)).toBe(n);
        expect(Number(row.area)).toBe(n);
        // A digital disc's outline turns at every step of its staircase: many more than 4 vertices.
        expect(roi.xs.length).toBeGreaterThan(16);
      }
    }
    expect(runCli(dir, ['analyze', at('in'), '--json', '--rois', ...ARGS]).stderr).toMatch(
      /--rois needs --out/,
    );
  });

  it('--labels-in measures given label images, their ids kept; labels/ of a run gives that run back', () => {
    // Ids 3, 7 and 12: a 10x6 rectangle, a 4x4 square and a 20x1 line.
    const lab = new Uint16Array(W * H);
    const box = (id: number, x0: number, y0: number, w: number, h: number) => {
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) lab[y * W + x] = id;
    };
    box(3, 20, 20, 10, 6);
    box(7, 100, 50, 4, 4);
    box(12, 40, 120, 20, 1);
    mkdirSync(at('given'));
    writeFileSync(
      at('given', 'a.png'),
      encodePng({ width: W, height: H, data: lab, depth: 16, channels: 1 }),
    );
    writeFileSync(at('given', 'b.png'), greyPng(W - 1, H, new Uint8Array((W - 1) * H)));
    const r = runCli(dir, [
      'analyze',
      at('in'),
      '--out',
      at('given-out'),
      '--labels-in',
      at('given'),
      '--min-area',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /b\.png: error: .*b\.png: label image is 199x150 px, the micrograph 200x150 px: they must match$/m,
    );
    const rows = records('given-out', 'particles.csv');
    expect(rows.map((p) => [p.image, p.particle, p.area])).toEqual([
      ['a.png', '3', '60'],
      ['a.png', '7', '16'],
      ['a.png', '12', '20'],
    ]);
    expect(Number(rows[0].x)).toBe(25);
    expect(Number(rows[0].y)).toBe(23);

    // The labels an analysis wrote, measured again: the same particles.csv.
    const again = runCli(dir, [
      'analyze',
      at('in'),
      '--out',
      at('again'),
      '--labels-in',
      at('out', 'labels'),
      '--min-area',
      '10',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(at('again', 'particles.csv'), 'utf8')).toBe(
      readFileSync(at('out', 'particles.csv'), 'utf8'),
    );

    const none = runCli(dir, [
      'analyze',
      at('in', 'a.png'),
      '--out',
      at('none'),
      '--labels-in',
      at('in', 'sub'),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--labels-in: .*sub is not a folder/);
    mkdirSync(at('empty'));
    const missing = runCli(dir, [
      'analyze',
      at('in', 'a.png'),
      '--out',
      at('missing'),
      '--labels-in',
      at('empty'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /a\.png: error: no label image for it in --labels-in \(looked for .*a\.png, .*a\.tif, .*a\.tiff\)$/m,
    );
    expect(existsSync(at('missing', 'labels', 'a.png'))).toBe(false);
  });
});
