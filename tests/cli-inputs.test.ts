/**
 * What `saemi analyze` takes in and where it writes: output names that never collide (a.png beside a.tif,
 * same names in different folders, whatever the order of the arguments), symlinks followed to files and
 * every link, loop and special file that is left out said on stderr, --out folders that cannot take files
 * refused at once, tiny non-images named for what they are, and inputs over 2 GiB refused unread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode as decodePng } from 'fast-png';
import { parseCsv } from '../src/core/export/csv';
import { discs, greyPng, runCli } from './helpers/cli';
import { encodeTiff } from './helpers/tiff';

const W = 160;
const H = 120;
const ARGS = ['--method', 'threshold', '--min-area', '10'];

/** `n` discs in a row: every image of a test has its own count, so a label file shows whose it is. */
function scene(n: number): Array<[number, number, number]> {
  return Array.from({ length: n }, (_, j) => [20 + (j % 5) * 30, 30 + Math.floor(j / 5) * 50, 8]);
}
const png = (n: number): Uint8Array => greyPng(W, H, discs(W, H, scene(n), 40, 210));
const tif = (n: number): Uint8Array =>
  encodeTiff({
    width: W,
    height: H,
    data: Uint8Array.from(discs(W, H, scene(n), 40, 210)),
    bitsPerSample: 8,
  });

let dir: string;
let server: Server | null = null;
const at = (...p: string[]): string => path.join(dir, ...p);

function write(rel: string, bytes: Uint8Array | string): string {
  const p = at(rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

/** summary.csv as image -> count, without the pooled row. */
function counts(out: string): Map<string, number> {
  const rows = parseCsv(readFileSync(path.join(out, 'summary.csv'), 'utf8')).slice(1);
  return new Map(rows.filter((r) => r[0] !== '*').map((r) => [r[0], Number(r[6])]));
}

/** Particles in a label PNG (distinct non-zero values). */
function labelCount(file: string): number {
  const ids = new Set<number>();
  for (const v of decodePng(readFileSync(file)).data as Uint16Array) if (v) ids.add(v);
  return ids.size;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'saemi-inputs-'));
});

afterAll(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('saemi analyze: inputs and output names', () => {
  it('a.png and a.tif, sub/a.png, x/b.png and y/b.png each keep their own name and label file, in any argument order', () => {
    write('names/main/a.png', png(2));
    write('names/main/a.tif', tif(3));
    write('names/main/sub/a.png', png(4));
    write('names/main/c.png', png(5));
    write('names/x/b.png', png(6));
    write('names/y/b.png', png(7));
    const want = new Map([
      ['a.png', 2],
      ['a.tif', 3],
      ['sub/a.png', 4],
      ['c.png', 5],
      ['x/b.png', 6],
      ['y/b.png', 7],
    ]);
    // Stems shared by two images take the whole name; unique ones keep the contract's labels/<stem>.png.
    const labels = new Map([
      ['a.png', 'a.png.png'],
      ['a.tif', 'a.tif.png'],
      ['sub/a.png', 'sub/a.png'],
      ['c.png', 'c.png'],
      ['x/b.png', 'x/b.png'],
      ['y/b.png', 'y/b.png'],
    ]);
    const orders = [
      [at('names/main'), at('names/x'), at('names/y')],
      [at('names/y'), at('names/x'), at('names/main')],
    ];
    for (const [k, inputs] of orders.entries()) {
      const out = at(`names-out-${k}`);
      const r = runCli(dir, ['analyze', ...inputs, '--out', out, ...ARGS]);
      expect(r.code, r.stderr).toBe(0);
      expect(counts(out)).toEqual(want);
      for (const [name, file] of labels) {
        expect(existsSync(path.join(out, 'labels', file)), `${name} -> labels/${file}`).toBe(true);
        expect(labelCount(path.join(out, 'labels', file)), name).toBe(want.get(name));
      }
      expect(existsSync(path.join(out, 'labels', 'a.png'))).toBe(false);
      const manifest = readFileSync(path.join(out, 'run-manifest.jsonl'), 'utf8').trim().split('\n').slice(1);
      const stems = new Map(
        manifest.map((l) => JSON.parse(l) as { name: string; stem: string }).map((e) => [e.name, e.stem]),
      );
      expect(stems.get('a.tif')).toBe('a.tif');
      expect(stems.get('c.png')).toBe('c');
    }
  });

  it('--resume keeps the label names the earlier run wrote and gives a new image a free one', () => {
    write('resume/a.png', png(2));
    const out = at('resume-out');
    const first = runCli(dir, ['analyze', at('resume'), '--out', out, ...ARGS]);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(path.join(out, 'labels', 'a.png'))).toBe(true);
    write('resume/a.tif', tif(3));
    const again = runCli(dir, ['analyze', at('resume'), '--out', out, ...ARGS, '--resume']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming: 1 image\(s\) done in the earlier run kept; 1 to analyse/);
    expect(counts(out)).toEqual(
      new Map([
        ['a.png', 2],
        ['a.tif', 3],
      ]),
    );
    expect(labelCount(path.join(out, 'labels', 'a.png'))).toBe(2);
    expect(labelCount(path.join(out, 'labels', 'a.tif.png'))).toBe(3);
  });

  it('follows symlinks to images; says why each link, loop, FIFO, device, socket and repeat is left out', async () => {
    const real = write('links-real/r.png', png(3));
    write('links/plain.png', png(2));
    symlinkSync(real, at('links/linked.png'));
    symlinkSync(real, at('links/again.png'));
    symlinkSync(at('links/loop.png'), at('links/loop.png'));
    symlinkSync(at('links/nowhere.tif'), at('links/dangling.png'));
    symlinkSync('/dev/null', at('links/null.png'));
    symlinkSync(at('links'), at('links/back')); // a folder cycle
    execFileSync('mkfifo', [at('links/pipe.tif')]);
    symlinkSync(at('links/pipe.tif'), at('links/to-pipe.png'));
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(at('links/sock.png'), resolve));

    const out = at('links-out');
    const t0 = Date.now();
    const r = runCli(dir, ['analyze', at('links'), '--out', out, ...ARGS]);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(counts(out)).toEqual(
      new Map([
        ['again.png', 3],
        ['plain.png', 2],
      ]),
    );
    const line = (name: string, why: RegExp): void =>
      expect(r.stderr).toMatch(new RegExp(`^${at('links', name)}: warning: ${why.source}$`, 'm'));
    line('loop.png', /symlink loop: skipped/);
    line('dangling.png', /broken symlink \(its target does not exist\): skipped/);
    line('null.png', /links to no regular file \(character device\): skipped/);
    line('pipe.tif', /not a regular file \(FIFO\): skipped/);
    line('to-pipe.png', /links to no regular file \(FIFO\): skipped/);
    line('sock.png', /not a regular file \(socket\): skipped/);
    line('back', /symlink loop \(a folder already being searched\): skipped/);
    line('linked.png', new RegExp(`the same file as ${at('links', 'again.png')}: analysed once`));
    expect(r.stderr).not.toMatch(/no such file/);

    // Named on the command line: a loop and a dangling link are said as such, never "no such file".
    const direct = runCli(dir, [
      'analyze',
      at('links/loop.png'),
      at('links/dangling.png'),
      at('links/linked.png'),
      '--out',
      at('links-direct'),
      ...ARGS,
    ]);
    expect(direct.code).toBe(1);
    expect(direct.stderr).toMatch(new RegExp(`^${at('links/loop.png')}: symlink loop$`, 'm'));
    expect(direct.stderr).toMatch(
      new RegExp(`^${at('links/dangling.png')}: broken symlink \\(its target does not exist\\)$`, 'm'),
    );
    expect(direct.stderr).not.toMatch(/no such file/);
    expect(counts(at('links-direct'))).toEqual(new Map([['linked.png', 3]]));
  });

  it('--out on /proc, /sys, or a file is refused at once with one line', () => {
    write('refuse/a.png', png(2));
    const file = write('refuse/not-a-folder', 'x');
    const cases: Array<[string, RegExp]> = [
      [
        '/proc/saemi-out',
        /--out: \/proc\/saemi-out is on the kernel's proc filesystem, not a folder for results$/,
      ],
      ['/proc/self', /--out: \/proc\/self is on the kernel's proc filesystem/],
      ['/sys/kernel/saemi', /--out: \/sys\/kernel\/saemi is on the kernel's sysfs filesystem/],
      [file, /is not a folder$/],
      [path.join(file, 'sub'), /not-a-folder is not a folder$/],
    ];
    for (const [out, why] of cases) {
      const t0 = Date.now();
      const r = runCli(dir, ['analyze', at('refuse/a.png'), '--out', out, ...ARGS], 20_000);
      expect(Date.now() - t0, out).toBeLessThan(15_000);
      expect(r.code, `${out}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), out).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(why);
    }
  });

  it('a NUL byte, a few stray bytes, an empty file and a 2 GiB file are named for what they are', () => {
    write('tiny/nul.png', new Uint8Array(1));
    write('tiny/three.tif', new Uint8Array([1, 2, 3]));
    write('tiny/empty.jpg', new Uint8Array(0));
    write('tiny/ok.png', png(2));
    // Sparse: 2 GiB and a bit on disk in name only; it must be refused without being read.
    const fd = openSync(at('tiny/huge.tif'), 'w');
    ftruncateSync(fd, 2 ** 31 + 4096);
    closeSync(fd);
    const t0 = Date.now();
    const r = runCli(dir, ['analyze', at('tiny'), '--out', at('tiny-out'), ...ARGS]);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\] nul\.png: error: nul\.png: not an image \(a single zero byte\)$/m);
    expect(r.stderr).toMatch(
      /\] three\.tif: error: three\.tif: not an image \(3 bytes, too short for any image format\)$/m,
    );
    expect(r.stderr).toMatch(/\] empty\.jpg: error: empty\.jpg: empty file \(0 bytes\)$/m);
    expect(r.stderr).toMatch(/\] huge\.tif: error: file is 2\.0 GiB, over the 2 GiB input limit: not read$/m);
    expect(r.stderr).not.toMatch(/text file/);
    expect(r.stderr).toMatch(/^4 of 5 input\(s\) failed; 1 analysed$/m);
    expect(counts(at('tiny-out'))).toEqual(new Map([['ok.png', 2]]));
  });
});
