/**
 * A Gatan DM4 (thumbnail first, 16-bit micrograph, 0.512 nm/px calibration tags) through the CLI: the folder walk
 * picks up .dm4/.dm3, summary.csv carries the file's pixel size with source `metadata`, sizes are in nm, and a
 * truncated DM3 beside it is reported on one line without stopping the batch.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dmImageFile, thumbnail } from './helpers/dm';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'saemi.js');
const tmp = mkdtempSync(path.join(tmpdir(), 'saemi-dm-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const W = 200;
const H = 150;
const DISCS: Array<[number, number, number]> = [
  [40, 40, 12],
  [110, 45, 15],
  [165, 40, 10],
  [50, 110, 14],
  [130, 105, 11],
];

function micrograph(): Uint16Array {
  const px = new Uint16Array(W * H).fill(48000);
  for (const [cx, cy, r] of DISCS)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) px[y * W + x] = 9000;
  return px;
}

describe('saemi analyze on Gatan DM files', () => {
  it('reads the DM4 calibration into summary.csv and reports a truncated DM3 on one line', () => {
    const inDir = path.join(tmp, 'in');
    const out = path.join(tmp, 'out');
    const dm4 = dmImageFile(
      [
        thumbnail(),
        {
          dims: [W, H],
          dataType: 10,
          values: micrograph(),
          calibration: [
            { scale: 0.512, units: 'nm' },
            { scale: 0.512, units: 'nm' },
          ],
          microscope: { name: 'JEM-2100F', voltage: 200000, magnification: 400000 },
        },
      ],
      { version: 4, littleEndian: true },
    );
    const dm3 = dmImageFile([thumbnail(), { dims: [W, H], dataType: 10, values: micrograph() }], {
      version: 3,
      littleEndian: false,
    });
    mkdirSync(inDir, { recursive: true });
    writeFileSync(path.join(inDir, 'stem.dm4'), dm4);
    writeFileSync(path.join(inDir, 'cut.dm3'), dm3.subarray(0, Math.floor(dm3.length / 2)));

    const r = spawnSync(
      process.execPath,
      [BIN, 'analyze', inDir, '--out', out, '--method', 'threshold', '--min-area', '20'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => /error/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /cut\.dm3: truncated DM3 file \(ends inside the data of tag ImageList\.\[1\]\.ImageData\.Data\)/,
    );

    const summary = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split(/\r?\n/);
    const header = summary[0].split(',');
    const row = summary.find((l) => l.startsWith('stem.dm4,'))!.split(',');
    const col = (name: string) => row[header.indexOf(name)];
    expect(col('width')).toBe(String(W));
    expect(col('height')).toBe(String(H));
    expect(col('pixel_size')).toBe('0.512');
    expect(col('unit')).toBe('nm');
    expect(col('pixel_size_source')).toBe('metadata');
    expect(Number(col('count'))).toBe(DISCS.length);

    // The disc of radius 15 px: ECD about 30 px = 15.4 nm.
    const particles = readFileSync(path.join(out, 'particles.csv'), 'utf8').trim().split(/\r?\n/);
    const ph = particles[0].split(',');
    const big = particles
      .slice(1)
      .map((l) => l.split(','))
      .find((c) => Math.abs(Number(c[ph.indexOf('x')]) - 110) < 1.5)!;
    expect(big[ph.indexOf('unit')]).toBe('nm');
    expect(Math.abs(Number(big[ph.indexOf('ecd')]) - 30 * 0.512)).toBeLessThan(0.6);
  });
});
