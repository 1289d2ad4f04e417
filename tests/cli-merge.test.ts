/**
 * `saemi merge`: two analyses of halves of a batch, merged, give what one analysis of the whole batch gives
 * (particles.csv byte for byte, summary.csv's rows, the pooled row to the digits the CSV carries, the label
 * PNGs), and the merged folder is a run folder of its own (--resume finds everything done). Runs with other
 * options, repeated image names and unfinished runs are refused with one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCsv } from '../src/core/export/csv';
import { discs, greyPng, runCli } from './helpers/cli';

const W = 240;
const H = 180;
const ARGS = ['--method', 'threshold', '--min-area', '20', '--pixel-size', '2.5', '--unit', 'nm'];

/** 3-7 discs per image, their sizes and places varying with k. */
function scene(k: number): Array<[number, number, number]> {
  const n = 3 + (k % 5);
  return Array.from({ length: n }, (_, j) => [
    30 + (j % 4) * 58 + (k % 3) * 3,
    40 + Math.floor(j / 4) * 90,
    6 + ((j * 7 + k * 5) % 14),
  ]);
}

let dir: string;
const at = (...p: string[]): string => path.join(dir, ...p);
const read = (...p: string[]): string => readFileSync(at(...p), 'utf8');
const analyse = (out: string, inputs: string[], ...extra: string[]) =>
  runCli(dir, ['analyze', ...inputs.map((i) => at(i)), '--out', at(out), ...ARGS, ...extra]);
const merge = (...args: string[]) => runCli(dir, ['merge', ...args]);

/** summary.csv rows without the seconds column. */
const rows = (text: string): string[][] => parseCsv(text).map((r) => r.slice(0, 13));

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'saemi-merge-'));
  for (const [half, ks] of [
    ['inA', [0, 1, 2]],
    ['inB', [3, 4, 5]],
  ] as const) {
    mkdirSync(at(half));
    for (const k of ks)
      writeFileSync(at(half, `img-${k}.png`), greyPng(W, H, discs(W, H, scene(k), 40, 215)));
  }
  for (const [out, inputs, extra] of [
    ['runA', ['inA'], []],
    ['runB', ['inB'], []],
    ['all', ['inA', 'inB'], []],
    ['runA2', ['inA'], []],
    ['other', ['inB'], ['--exclude-edges']],
  ] as const) {
    const r = analyse(out, [...inputs], ...extra);
    if (r.code !== 0) throw new Error(`analysis ${out} failed: ${r.stderr}`);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('saemi merge', () => {
  it('two runs merged equal one run over all their images', () => {
    const r = merge(at('runA'), at('runB'), '--out', at('merged'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^merged 2 run\(s\): 6 image\(s\), 28 particle\(s\) into /m);
    expect(read('merged', 'particles.csv')).toBe(read('all', 'particles.csv'));
    const got = rows(read('merged', 'summary.csv'));
    const want = rows(read('all', 'summary.csv'));
    expect(got.slice(0, -1)).toEqual(want.slice(0, -1));
    const [pg, pw] = [got[got.length - 1], want[want.length - 1]];
    expect(pg.slice(0, 7)).toEqual(['*', '', '', '2.5', 'nm', 'manual', '28']);
    expect(pg.slice(0, 7)).toEqual(pw.slice(0, 7));
    // The earlier runs' ECDs come back from particles.csv at 6 digits; the single run pooled them unrounded.
    for (let c = 7; c < 13; c++)
      expect(Math.abs(Number(pg[c]) - Number(pw[c])), want[0][c]).toBeLessThanOrEqual(
        Math.abs(Number(pw[c])) * 1e-5,
      );
    expect(readdirSync(at('merged', 'labels')).sort()).toEqual(readdirSync(at('all', 'labels')).sort());
    for (const f of readdirSync(at('all', 'labels')))
      expect(readFileSync(at('merged', 'labels', f)).equals(readFileSync(at('all', 'labels', f))), f).toBe(
        true,
      );

    // A run folder of its own: resuming it over the same images finds all six done.
    const resumed = analyse('merged', ['inA', 'inB'], '--resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming: 6 image\(s\) done in the earlier run kept; 0 to analyse/);
    expect(read('merged', 'particles.csv')).toBe(read('all', 'particles.csv'));
  });

  it('refuses other options, a repeated image name and an unfinished run, each with one line', () => {
    const other = merge(at('runA'), at('other'), '--out', at('m-other'));
    expect(other.code).toBe(2);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
    expect(other.stderr).toMatch(
      /other was analysed with other options than .*runA \(--exclude-edges: false in .*runA, true in .*other\)/,
    );

    const twice = merge(at('runA'), at('runA2'), '--out', at('m-twice'));
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(
      /image img-0\.png is in both .*runA and .*runA2; merge runs of different images, or use --prefix-runs/,
    );

    cpSync(at('runB'), at('cut'), { recursive: true });
    const summary = read('cut', 'summary.csv');
    writeFileSync(at('cut', 'summary.csv'), summary.slice(0, summary.lastIndexOf('*,')));
    const cut = merge(at('runA'), at('cut'), '--out', at('m-cut'));
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(
      /cut: the run did not finish \(summary\.csv has no pooled row\); finish it with saemi analyze --resume first/,
    );

    expect(merge(at('runA'), '--out', at('runA')).stderr).toMatch(
      /--out .*runA is one of the runs being merged/,
    );
  });

  it('--prefix-runs keeps repeated names apart as RUN/<name>', () => {
    const r = merge(at('runA'), at('runA2'), '--out', at('m-prefix'), '--prefix-runs');
    expect(r.code, r.stderr).toBe(0);
    const names = parseCsv(read('m-prefix', 'summary.csv')).map((row) => row[0]);
    expect(names).toEqual([
      'image',
      ...['runA', 'runA2'].flatMap((p) => [0, 1, 2].map((k) => `${p}/img-${k}.png`)),
      '*',
    ]);
    const pooled = parseCsv(read('m-prefix', 'summary.csv')).at(-1)!;
    const single = parseCsv(read('runA', 'summary.csv')).at(-1)!;
    expect(Number(pooled[6])).toBe(2 * Number(single[6]));
    expect(pooled[7]).toBe(single[7]); // the same particles twice: the same mean
    const particleNames = new Set(
      parseCsv(read('m-prefix', 'particles.csv'))
        .slice(1)
        .map((row) => row[0]),
    );
    expect([...particleNames].sort()).toEqual(names.slice(1, -1).sort());
    expect(readdirSync(at('m-prefix', 'labels'))).toEqual(['runA', 'runA2']);
  });
});
