/**
 * Batches that survive interruption: rows on disk as each image finishes, a SIGKILL mid-batch, `--resume`,
 * and `--image-timeout` for inputs that never finish (a FIFO nobody writes, an analysis that runs too long).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCsv } from '../src/core/export/csv';
import { BIN, discs, greyPng, runCli } from './helpers/cli';

const N = 16;
const W = 480;
const H = 360;
let dir: string;
let inDir: string;

/** Disc scenes that differ per image (count 5-9, positions, radii), so every image has its own rows. */
function scene(k: number): Array<[number, number, number]> {
  let s = (k + 1) * 2654435761;
  const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out: Array<[number, number, number]> = [];
  const n = 5 + (k % 5);
  for (let j = 0; j < n; j++) {
    // A grid cell each, so discs never touch one another or the border.
    const cx = 48 + (j % 4) * 112 + rnd() * 16;
    const cy = 60 + Math.floor(j / 4) * 120 + rnd() * 16;
    out.push([cx, cy, 8 + rnd() * 20]);
  }
  return out;
}

const ARGS = ['--method', 'threshold', '--min-area', '20'];
const name = (k: number): string => `img-${String(k).padStart(2, '0')}.png`;

function analyse(out: string, ...extra: string[]) {
  return runCli(dir, ['analyze', inDir, '--out', path.join(dir, out), ...ARGS, ...extra]);
}

const read = (out: string, file: string): string => readFileSync(path.join(dir, out, file), 'utf8');

/** summary.csv rows with the seconds column (the one thing two runs never share) blanked. */
function summaryWithoutSeconds(text: string): string[][] {
  return parseCsv(text).map((r) => [...r.slice(0, 13), r[0] === 'image' ? r[13] : '']);
}

/**
 * Two summary.csv files of the same images agree: every row but seconds exactly; the pooled row's size
 * statistics to the 6 digits the CSV carries (a resumed run takes earlier images' ECDs from particles.csv).
 */
function expectSameSummary(got: string, want: string): void {
  const a = summaryWithoutSeconds(got);
  const b = summaryWithoutSeconds(want);
  expect(a.slice(0, -1)).toEqual(b.slice(0, -1));
  const [pa, pb] = [a[a.length - 1], b[b.length - 1]];
  expect(pa[0]).toBe('*');
  expect(pa.slice(0, 7)).toEqual(pb.slice(0, 7));
  for (let c = 7; c < 13; c++)
    expect(Math.abs(Number(pa[c]) - Number(pb[c]))).toBeLessThanOrEqual(Math.abs(Number(pb[c])) * 1e-5);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'saemi-resume-'));
  inDir = path.join(dir, 'in');
  mkdirSync(inDir);
  for (let k = 0; k < N; k++)
    writeFileSync(path.join(inDir, name(k)), greyPng(W, H, discs(W, H, scene(k), 40, 215)));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('incremental output and --resume', () => {
  it('a SIGKILL mid-batch leaves valid CSVs with every finished image; --resume completes it as an uninterrupted run would', async () => {
    const full = analyse('full');
    expect(full.code, full.stderr).toBe(0);
    const fullRows = parseCsv(read('full', 'particles.csv'));
    // The test can fail: every image has its own rows.
    for (let k = 0; k < N; k++)
      expect(fullRows.filter((r) => r[0] === name(k))).toHaveLength(scene(k).length);

    // Killed once 5 images have reported themselves done (a progress line is printed after the image's
    // files are written).
    const out = path.join(dir, 'killed');
    const child = spawn(process.execPath, [BIN, 'analyze', inDir, '--out', out, ...ARGS], { cwd: dir });
    const seen: string[] = [];
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const m = /^\[\d+\/\d+\] (\S+): \d+ particles?,/.exec(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (m) seen.push(m[1]);
          if (seen.length === 5 && child.exitCode === null) child.kill('SIGKILL');
        }
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    expect(child.signalCode).toBe('SIGKILL');
    const summary = parseCsv(read('killed', 'summary.csv'));
    const particles = parseCsv(read('killed', 'particles.csv'));
    expect(summary[0]).toEqual(parseCsv(read('full', 'summary.csv'))[0]);
    expect(particles[0]).toEqual(fullRows[0]);
    const listed = summary.slice(1).map((r) => r[0]);
    // Mid-batch: no pooled row, not every image; every image seen done is there, in input order.
    expect(listed).not.toContain('*');
    expect(listed.length).toBeLessThan(N);
    expect(listed.slice(0, seen.length)).toEqual(seen);
    expect(listed).toEqual(Array.from({ length: listed.length }, (_, k) => name(k)));
    for (const r of summary.slice(1)) expect(r).toHaveLength(15);
    for (const r of particles.slice(1)) expect(r).toHaveLength(18);
    // The rows of each finished image are the uninterrupted run's rows.
    for (const img of listed)
      expect(particles.filter((r) => r[0] === img)).toEqual(fullRows.filter((r) => r[0] === img));
    for (const img of seen)
      expect(readFileSync(path.join(out, 'labels', img))).toEqual(
        readFileSync(path.join(dir, 'full', 'labels', img)),
      );

    // The worst moment for a kill: one image's rows written, its manifest line half written.
    const partialImage = name(listed.length);
    const block = fullRows
      .filter((r) => r[0] === partialImage)
      .map((r) => r.join(',') + '\n')
      .join('');
    appendFileSync(path.join(out, 'particles.csv'), block + 'img-99.png,1,3.5');
    appendFileSync(path.join(out, 'run-manifest.jsonl'), '{"kind":"image","name":"img-');

    const resumed = analyse('killed', '--resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      new RegExp(
        `resuming: ${listed.length} image\\(s\\) done in the earlier run kept; ${N - listed.length} to analyse`,
      ),
    );
    expect(resumed.stderr).not.toMatch(new RegExp(`\\] ${seen[0]}:`));
    // particles.csv has no timing column: byte for byte the uninterrupted run's.
    expect(read('killed', 'particles.csv')).toBe(read('full', 'particles.csv'));
    // summary.csv: the same rows in the same order, seconds aside; the pooled row is over all N images.
    expectSameSummary(read('killed', 'summary.csv'), read('full', 'summary.csv'));
    expect(parseCsv(read('killed', 'summary.csv'))).toHaveLength(N + 2);
    expect(Number(parseCsv(read('killed', 'summary.csv'))[N + 1][6])).toBe(fullRows.length - 1);
    for (let k = 0; k < N; k++)
      expect(readFileSync(path.join(out, 'labels', name(k)))).toEqual(
        readFileSync(path.join(dir, 'full', 'labels', name(k))),
      );
    expect(readdirSync(path.join(out, 'labels')).filter((f) => f.endsWith('.partial'))).toEqual([]);
    const manifest = read('killed', 'run-manifest.jsonl').trim().split('\n');
    expect(manifest).toHaveLength(N + 1);

    // Resuming a finished run analyses nothing and leaves the same files; rows past the manifest's last
    // image (here with nothing to overwrite them) are cut away.
    const before = read('killed', 'summary.csv');
    appendFileSync(path.join(out, 'particles.csv'), fullRows[1].join(',') + '\n');
    const again = analyse('killed', '--resume');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(
      new RegExp(`resuming: ${N} image\\(s\\) done in the earlier run kept; 0 to analyse`),
    );
    expectSameSummary(read('killed', 'summary.csv'), before);
    expect(read('killed', 'particles.csv')).toBe(read('full', 'particles.csv'));
  });

  it('--resume refuses other options or a changed input, and leaves the folder as it was', () => {
    const r = analyse('refuse');
    expect(r.code, r.stderr).toBe(0);
    const summary = read('refuse', 'summary.csv');
    const other = runCli(dir, [
      'analyze',
      inDir,
      '--out',
      path.join(dir, 'refuse'),
      '--method',
      'threshold',
      '--min-area',
      '30',
      '--resume',
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /^saemi analyze: --resume: the options differ from the earlier run in \S+ \(--min-area: 20 then, 30 now\); rerun with that run's options/m,
    );
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
    expect(read('refuse', 'summary.csv')).toBe(summary);

    const changedDir = path.join(dir, 'changed-in');
    mkdirSync(changedDir);
    for (const k of [0, 1])
      writeFileSync(path.join(changedDir, name(k)), readFileSync(path.join(inDir, name(k))));
    const first = runCli(dir, ['analyze', changedDir, '--out', path.join(dir, 'changed'), ...ARGS]);
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(path.join(changedDir, name(1)), readFileSync(path.join(inDir, name(5))));
    const changed = runCli(dir, [
      'analyze',
      changedDir,
      '--out',
      path.join(dir, 'changed'),
      ...ARGS,
      '--resume',
    ]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(
      /img-01\.png changed since the earlier run analysed it \(sha256 differs\)/,
    );

    const fresh = runCli(dir, [
      'analyze',
      changedDir,
      '--out',
      path.join(dir, 'none-yet'),
      ...ARGS,
      '--resume',
    ]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).toMatch(/nothing to resume in \S+none-yet: starting afresh/);
    expect(parseCsv(read('none-yet', 'summary.csv'))).toHaveLength(4);
  });
});

describe('--image-timeout', () => {
  it('a FIFO that nobody writes is reported as timed out and the rest are analysed; one in a folder is skipped', () => {
    const fdir = path.join(dir, 'fifo-in');
    mkdirSync(fdir);
    for (const k of [0, 1]) writeFileSync(path.join(fdir, name(k)), readFileSync(path.join(inDir, name(k))));
    execFileSync('mkfifo', [path.join(fdir, 'stuck.png')]);
    const files = [name(0), 'stuck.png', name(1)].map((f) => path.join(fdir, f));
    const t0 = Date.now();
    const r = runCli(dir, [
      'analyze',
      ...files,
      '--out',
      path.join(dir, 'fifo'),
      ...ARGS,
      // 2 s: the small images must finish well inside it on a busy 2-core machine too.
      '--image-timeout',
      '2',
    ]);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^\[2\/3\] stuck\.png: error: timed out after 2 s while reading the file \(--image-timeout\): skipped$/m,
    );
    expect(r.stderr).toMatch(/^1 of 3 input\(s\) failed; 2 analysed$/m);
    expect(parseCsv(read('fifo', 'summary.csv')).map((row) => row[0])).toEqual([
      'image',
      name(0),
      name(1),
      '*',
    ]);

    // Found in a folder, a FIFO is not read at all.
    const folder = runCli(dir, ['analyze', fdir, '--out', path.join(dir, 'fifo-folder'), ...ARGS]);
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.stderr).toMatch(/stuck\.png: warning: not a regular file \(FIFO\): skipped$/m);
    expect(parseCsv(read('fifo-folder', 'summary.csv'))).toHaveLength(4);
  });

  it('an analysis that runs past the limit is stopped, and the next image is analysed', () => {
    // 5000 x 5000 px of discs: 5-20 s of analysis on a 2-core machine, far past a 2 s limit.
    const big = path.join(dir, 'big.png');
    const side = 5000;
    const px = new Uint8Array(side * side).fill(200);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) if (x % 100 < 50 && y % 100 < 50) px[y * side + x] = 40;
    writeFileSync(big, greyPng(side, side, px));
    const r = runCli(dir, [
      'analyze',
      big,
      path.join(inDir, name(3)),
      '--out',
      path.join(dir, 'slow'),
      ...ARGS,
      '--image-timeout',
      '2',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^\[1\/2\] big\.png: error: timed out after 2 s \(--image-timeout\): skipped, the analysis was stopped$/m,
    );
    expect(r.stderr).toMatch(new RegExp(`^\\[2/2\\] ${name(3)}: ${scene(3).length} particles,`, 'm'));
    expect(existsSync(path.join(dir, 'slow', 'labels', 'big.png'))).toBe(false);
  });
});
