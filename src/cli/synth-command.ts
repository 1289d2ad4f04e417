/**
 * `saemi synth`: writes synthetic image/mask pairs for training and testing.
 *
 *   saemi synth --n 5000 --out DIR [--seed S] [--size 512 | 256..1024 | 640x480] [--modality sem|tem|mix]
 *               [--sem-fraction 0.55] [--bit-depth 8|16] [--arrangement A] [--jobs J]
 *
 * DIR/images/<i>.png (8- or 16-bit grey), DIR/masks/<i>.png (16-bit instance labels, 0 = background),
 * DIR/truth.jsonl (one JSON object per image, in index order), and last an empty DIR/READY: training
 * (models/train/train.py) takes a set up only once it is there, so it may start while the set is being made.
 * Image i depends only on (seed, i), so shards and re-runs reproduce the same files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encode } from 'fast-png';
import { generateSynthetic, SYNTH_VERSION, type Modality } from '../core/synth/index';
import type { Arrangement } from '../core/synth/scene';
import { Rng } from '../core/synth/prng';

const USAGE = `usage: saemi synth --n N --out DIR [--seed S] [--size 512|256..1024|WxH] [--modality sem|tem|mix]
                   [--sem-fraction F] [--bit-depth 8|16] [--jobs J]
                   [--arrangement dispersed|random|agglomerated|packed]   (default: drawn per image)`;

const ARRANGEMENTS: readonly Arrangement[] = ['dispersed', 'random', 'agglomerated', 'packed'];

interface SynthArgs {
  n: number;
  out: string;
  seed: number;
  size: { wMin: number; wMax: number; hMin: number; hMax: number; square: boolean };
  modality: 'sem' | 'tem' | 'mix';
  semFraction: number;
  bitDepth: 8 | 16;
  /** Every image laid out this way (a validation set of touching particles); null: drawn per image. */
  arrangement: Arrangement | null;
  jobs: number;
  shard: { index: number; count: number } | null;
  quiet: boolean;
}

class UsageError extends Error {}

function parseSize(v: string): SynthArgs['size'] {
  let m = /^(\d+)x(\d+)$/.exec(v);
  if (m) return { wMin: +m[1], wMax: +m[1], hMin: +m[2], hMax: +m[2], square: false };
  m = /^(\d+)\.\.(\d+)$/.exec(v);
  if (m) return { wMin: +m[1], wMax: +m[2], hMin: +m[1], hMax: +m[2], square: false };
  m = /^(\d+)$/.exec(v);
  if (m) return { wMin: +m[1], wMax: +m[1], hMin: +m[1], hMax: +m[1], square: true };
  throw new UsageError(`--size: expected N, A..B or WxH, got "${v}"`);
}

export function parseSynthArgs(args: string[]): SynthArgs {
  const a: SynthArgs = {
    n: NaN,
    out: '',
    seed: 1,
    size: parseSize('256..512'),
    modality: 'mix',
    semFraction: 0.55,
    bitDepth: 8,
    arrangement: null,
    jobs: 1,
    shard: null,
    quiet: false,
  };
  for (let i = 0; i < args.length; i++) {
    const k = args[i];
    const need = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${k} needs a value`);
      return v;
    };
    const int = (v: string, lo: number, hi: number): number => {
      const x = Number(v);
      if (!Number.isInteger(x) || x < lo || x > hi)
        throw new UsageError(`${k}: expected an integer ${lo}..${hi}, got "${v}"`);
      return x;
    };
    switch (k) {
      case '--n':
        a.n = int(need(), 1, 10_000_000);
        break;
      case '--out':
        a.out = need();
        break;
      case '--seed':
        a.seed = int(need(), 0, 2 ** 31);
        break;
      case '--size':
        a.size = parseSize(need());
        break;
      case '--modality': {
        const v = need();
        if (v !== 'sem' && v !== 'tem' && v !== 'mix')
          throw new UsageError(`--modality: sem, tem or mix, got "${v}"`);
        a.modality = v;
        break;
      }
      case '--sem-fraction': {
        const v = Number(need());
        if (!(v >= 0 && v <= 1)) throw new UsageError('--sem-fraction: a number in 0..1');
        a.semFraction = v;
        break;
      }
      case '--bit-depth': {
        const v = need();
        if (v !== '8' && v !== '16') throw new UsageError(`--bit-depth: 8 or 16, got "${v}"`);
        a.bitDepth = v === '8' ? 8 : 16;
        break;
      }
      case '--arrangement': {
        const v = need();
        const found = ARRANGEMENTS.find((x) => x === v);
        if (!found) throw new UsageError(`--arrangement: ${ARRANGEMENTS.join(', ')}; got "${v}"`);
        a.arrangement = found;
        break;
      }
      case '--jobs':
        a.jobs = int(need(), 1, 64);
        break;
      case '--shard': {
        const m = /^(\d+)\/(\d+)$/.exec(need());
        if (!m || +m[1] >= +m[2]) throw new UsageError('--shard: i/k with 0 <= i < k');
        a.shard = { index: +m[1], count: +m[2] };
        break;
      }
      case '--quiet':
        a.quiet = true;
        break;
      case '-h':
      case '--help':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown option "${k}"`);
    }
  }
  if (!Number.isFinite(a.n)) throw new UsageError('--n is required');
  if (!a.out) throw new UsageError('--out is required');
  const { wMin, wMax, hMin, hMax } = a.size;
  if (wMin < 16 || hMin < 16 || wMax > 16384 || hMax > 16384 || wMin > wMax || hMin > hMax) {
    throw new UsageError('--size: sides must be 16..16384 px');
  }
  return a;
}

/** Image i's size, modality and (rarely) an empty field, from (seed, i) alone. */
export function synthJob(
  a: SynthArgs,
  i: number,
): {
  seed: number;
  width: number;
  height: number;
  modality: Modality;
  count?: number;
  arrangement?: Arrangement;
} {
  const seed = (a.seed * 1_000_003 + i) >>> 0;
  const r = new Rng(seed ^ 0x5a5a5a5a);
  const { wMin, wMax, hMin, hMax, square } = a.size;
  const width = wMin + r.int(wMax - wMin + 1);
  const height = square ? width : hMin + r.int(hMax - hMin + 1);
  const modality: Modality = a.modality === 'mix' ? (r.next() < a.semFraction ? 'sem' : 'tem') : a.modality;
  // about 1 % empty fields teach a model that texture alone is not a particle
  const arrangement = a.arrangement ?? undefined;
  if (r.next() < 0.01) return { seed, width, height, modality, count: 0, arrangement };
  return { seed, width, height, modality, arrangement };
}

function pad(i: number, n: number): string {
  return String(i).padStart(Math.max(4, String(n - 1).length), '0');
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function writeOne(a: SynthArgs, i: number, truthFile: string): void {
  const job = synthJob(a, i);
  const r = generateSynthetic({ ...job, bitDepth: a.bitDepth });
  const name = pad(i, a.n);
  const img = r.image;
  writeFileSync(
    join(a.out, 'images', `${name}.png`),
    encode({
      width: img.width,
      height: img.height,
      data: img.data as Uint8Array | Uint16Array,
      channels: 1,
      depth: img.bitDepth === 16 ? 16 : 8,
    }),
  );
  const lab = r.instances;
  if (lab.count > 65535) throw new Error(`image ${i}: ${lab.count} particles do not fit a 16-bit mask`);
  const m16 = new Uint16Array(lab.data.length);
  for (let k = 0; k < m16.length; k++) m16[k] = lab.data[k];
  writeFileSync(
    join(a.out, 'masks', `${name}.png`),
    encode({ width: lab.width, height: lab.height, data: m16, channels: 1, depth: 16 }),
  );
  const t = r.truth;
  const line = {
    index: i,
    image: `images/${name}.png`,
    mask: `masks/${name}.png`,
    seed: job.seed,
    width: job.width,
    height: job.height,
    modality: r.meta.modality,
    polarity: r.meta.polarity,
    count: t.count,
    insideCount: t.insideCount,
    touchingEdgeCount: t.touchingEdgeCount,
    medianDiameter: round2(r.meta.medianDiameter),
    sizeSigma: round2(r.meta.sizeSigma),
    arrangement: r.meta.arrangement,
    shapes: r.meta.shapes,
    pixelSizeNm: Number(r.meta.pixelSize.value.toPrecision(6)),
    banner: r.meta.banner ?? null,
    scaleBar: r.meta.scaleBar ?? null,
    jpegQuality: r.meta.jpegQuality,
    blurSigma: round2(r.meta.blurSigma),
    diameters: t.diameters.map(round2),
    touchesEdge: t.particles.map((p) => (p.touchesEdge ? 1 : 0)),
  };
  appendFileSync(truthFile, JSON.stringify(line) + '\n');
}

async function runShards(a: SynthArgs, argv: string[]): Promise<number> {
  // Workers run this module directly through tsx's loader, whichever launcher started the parent
  // (bin/saemi.js registers tsx through its API, so its execArgv carries no loader).
  const script = fileURLToPath(import.meta.url);
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const children = Array.from(
    { length: a.jobs },
    (_, k) =>
      new Promise<number>((res) => {
        const child = spawn(
          process.execPath,
          ['--import', loader, script, ...argv, '--shard', `${k}/${a.jobs}`, '--jobs', '1'],
          {
            stdio: ['ignore', k === 0 ? 'inherit' : 'ignore', 'inherit'],
          },
        );
        child.on('exit', (code) => res(code ?? 1));
        child.on('error', () => res(1));
      }),
  );
  const codes = await Promise.all(children);
  if (codes.some((c) => c !== 0)) {
    process.stderr.write(`saemi synth: a worker failed (exit codes ${codes.join(',')})\n`);
    return 1;
  }
  // merge shard truth files in index order
  const byIndex = new Map<number, string>();
  for (let k = 0; k < a.jobs; k++) {
    const f = join(a.out, `truth.shard-${k}.jsonl`);
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (line) byIndex.set((JSON.parse(line) as { index: number }).index, line);
    }
    rmSync(f);
  }
  const lines: string[] = [];
  for (let i = 0; i < a.n; i++) {
    const l = byIndex.get(i);
    if (l === undefined) {
      process.stderr.write(`saemi synth: image ${i} missing after the workers finished\n`);
      return 1;
    }
    lines.push(l);
  }
  writeFileSync(join(a.out, 'truth.jsonl'), lines.join('\n') + '\n');
  return 0;
}

export async function runSynthCommand(args: string[]): Promise<number> {
  let a: SynthArgs;
  try {
    a = parseSynthArgs(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write((e.message ? `saemi synth: ${e.message}\n` : '') + USAGE + '\n');
      return e.message ? 2 : 0;
    }
    throw e;
  }
  a.out = resolve(a.out);
  mkdirSync(join(a.out, 'images'), { recursive: true });
  mkdirSync(join(a.out, 'masks'), { recursive: true });
  const ready = join(a.out, 'READY');
  // a folder being made again is not ready until it is whole again
  if (!a.shard) rmSync(ready, { force: true });
  const rc = await makePairs(a, args);
  if (rc === 0 && !a.shard) writeFileSync(ready, '');
  return rc;
}

async function makePairs(a: SynthArgs, args: string[]): Promise<number> {
  const start = Date.now();
  if (!a.shard) {
    // what made this folder, so a training run can cite it and anyone can regenerate it
    const manifest = {
      generator: 'saemi synth',
      version: SYNTH_VERSION,
      n: a.n,
      seed: a.seed,
      size: a.size,
      modality: a.modality,
      semFraction: a.semFraction,
      bitDepth: a.bitDepth,
      layout: {
        images: 'images/<index>.png, grey',
        masks: 'masks/<index>.png, 16-bit instance labels, 0 = background (and banner/annotations), 1..count',
        truth: 'truth.jsonl, one object per image in index order',
      },
    };
    writeFileSync(join(a.out, 'synth.json'), JSON.stringify(manifest, null, 2) + '\n');
  }
  if (a.jobs > 1 && !a.shard) {
    const rc = await runShards(
      a,
      args.filter((_, k) => !['--jobs'].includes(args[k]) && !(k > 0 && args[k - 1] === '--jobs')),
    );
    if (rc === 0 && !a.quiet) {
      process.stdout.write(
        `saemi synth: ${a.n} pairs in ${((Date.now() - start) / 1000).toFixed(1)} s -> ${a.out}\n`,
      );
    }
    return rc;
  }
  const truthFile = a.shard ? join(a.out, `truth.shard-${a.shard.index}.jsonl`) : join(a.out, 'truth.jsonl');
  if (existsSync(truthFile)) rmSync(truthFile);
  let done = 0;
  const total = a.shard ? Math.ceil((a.n - a.shard.index) / a.shard.count) : a.n;
  for (let i = a.shard ? a.shard.index : 0; i < a.n; i += a.shard ? a.shard.count : 1) {
    try {
      writeOne(a, i, truthFile);
    } catch (e) {
      process.stderr.write(`saemi synth: image ${i}: ${(e as Error).message}\n`);
      return 1;
    }
    done++;
    if (!a.quiet && (done % 200 === 0 || done === total)) {
      const s = (Date.now() - start) / 1000;
      process.stdout.write(`saemi synth: ${done}/${total} (${s.toFixed(1)} s)\n`);
    }
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runSynthCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`saemi synth: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
