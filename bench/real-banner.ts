/**
 * Banner detection on real microscope files (issue 21). Not a test: it reads ../shared/data, which a fresh clone
 * lacks (then it says so and exits 0). Run: `npx tsx bench/real-banner.ts [--list] [--data DIR]`.
 *
 * For today's detector (bench/real-banner-legacy.ts, the code before issue 21, frozen) and the current one
 * (src/core/calibrate/banner.ts) it prints:
 * - semseg_sem: JEOL banners, first row found exactly (truth metadata.csv banner_first_row), x/42;
 * - emps_train: journal figures, hand-labelled in bench/real-banner-emps-truth.csv (39 banners, 3 ambiguous,
 *   the rest none). Banners found within the accepted rows / exactly; false positives on images without a banner
 *   (n/N), and how many of those drop labelled particles (mask pixels inside the band);
 * - saemi_sem: 6 JPEG SEM whose banner area was mirrored over: any band is a false positive;
 * - synthetic: src/core/synth SEM images with and without their banner (exact first row / false positives).
 * Each set is split into a tuning part (thresholds were picked on it) and a report part: emps ids starting 0-7
 * tune, 8-f report; semseg A* tune, B and C report; synthetic seeds below 100 tune, from 100 report.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectBanner } from '../src/core/calibrate/banner';
import { decodeImage } from '../src/core/decode';
import { toGrey } from '../src/core/normalise';
import type { GreyF32 } from '../src/core/raster';
import { generateSynthetic } from '../src/core/synth';
import type { ExcludedBand } from '../src/core/types';
import { detectBanner as legacyDetect } from './real-banner-legacy';

type Detector = (g: GreyF32, opts: { integerValued?: boolean }) => ExcludedBand[];

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const dataArg = argv.indexOf('--data');
const DATA = dataArg >= 0 ? argv[dataArg + 1]! : path.resolve(HERE, '..', '..', 'shared', 'data');
const LIST = argv.includes('--list');

const DETECTORS: [string, Detector][] = [
  ['today', legacyDetect],
  ['new', detectBanner],
];

interface Loaded {
  id: string;
  grey: GreyF32;
  integer: boolean;
  /** Particle pixels (1) for the mask-hit count. */
  particle?: Uint8Array;
}

function load(file: string): { grey: GreyF32; integer: boolean } {
  const d = decodeImage(new Uint8Array(readFileSync(file)), path.basename(file));
  return { grey: toGrey(d.raster), integer: d.raster.bitDepth !== 32 };
}

function particleMask(file: string, zeroIsParticle: boolean): Uint8Array | undefined {
  if (!existsSync(file)) return undefined;
  const r = decodeImage(new Uint8Array(readFileSync(file)), path.basename(file)).raster;
  const n = r.width * r.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = r.data[i * r.channels]!;
    out[i] = zeroIsParticle ? (v === 0 ? 1 : 0) : v !== 0 ? 1 : 0;
  }
  return out;
}

/** Particle pixels of the mask inside the bands. */
function hits(bands: ExcludedBand[], mask: Uint8Array | undefined, W: number): number {
  if (!mask) return 0;
  let n = 0;
  for (const b of bands) for (let i = b.y0 * W; i < b.y1 * W; i++) n += mask[i]!;
  return n;
}

function fmtBands(b: ExcludedBand[]): string {
  return b.length ? b.map((x) => `${x.y0}-${x.y1}`).join(',') : 'none';
}

interface Tally {
  [k: string]: number;
}

function add(t: Tally, k: string, v = 1): void {
  t[k] = (t[k] ?? 0) + v;
}

function main(): void {
  if (!existsSync(DATA)) {
    console.log(`real-banner: ${DATA} not found (no ../shared here); nothing to measure.`);
    return;
  }
  const lines: string[] = [];
  const results: Record<string, Record<string, Tally>> = {};
  const tally = (det: string, part: string): Tally => ((results[det] ??= {})[part] ??= {});

  // semseg_sem: JEOL, truth banner_first_row.
  const sem = path.join(DATA, 'semseg_sem');
  if (existsSync(sem)) {
    const meta = readFileSync(path.join(sem, 'metadata.csv'), 'utf8').trim().split('\n');
    const head = meta[0]!.split(',');
    const col = head.indexOf('banner_first_row');
    for (const line of meta.slice(1)) {
      const f = line.split(',');
      const id = f[0]!;
      const truth = Number(f[col]);
      const img = load(path.join(sem, 'images', `${id}.png`));
      const part = id.startsWith('A') ? 'tune' : 'report';
      for (const [name, det] of DETECTORS) {
        const b = det(img.grey, { integerValued: img.integer });
        const ok = b.length === 1 && b[0]!.y0 === truth && b[0]!.y1 === img.grey.height;
        const t = tally(name, `semseg-${part}`);
        add(t, 'n');
        if (ok) add(t, 'exact');
        if (!ok && LIST) lines.push(`semseg ${id} ${name}: ${fmtBands(b)} (truth ${truth})`);
      }
    }
  }

  // emps_train: hand labels.
  const emps = path.join(DATA, 'emps_train');
  if (existsSync(emps)) {
    const truth = new Map<string, { kind: string; lo: number; hi: number; first: number }>();
    for (const line of readFileSync(path.join(HERE, 'real-banner-emps-truth.csv'), 'utf8').split('\n')) {
      if (!line || line.startsWith('#') || line.startsWith('id,')) continue;
      const [id, kind, first, lo, hi] = line.split(',');
      truth.set(id!, { kind: kind!, first: Number(first), lo: Number(lo), hi: Number(hi) });
    }
    for (const file of readdirSync(path.join(emps, 'images')).sort()) {
      const id = file.replace(/\.png$/, '');
      const img: Loaded = { id, ...load(path.join(emps, 'images', file)) };
      img.particle = particleMask(path.join(emps, 'masks', file), false);
      const part = /^[0-7]/.test(id) ? 'tune' : 'report';
      const tr = truth.get(id);
      for (const [name, det] of DETECTORS) {
        const b = det(img.grey, { integerValued: img.integer });
        const t = tally(name, `emps-${part}`);
        const H = img.grey.height;
        const bottom = b.filter((x) => x.y1 === H);
        const top = b.filter((x) => x.y0 === 0);
        const hit = hits(b, img.particle, img.grey.width);
        let verdict: string;
        if (!tr) {
          add(t, 'none');
          if (b.length) {
            add(t, 'fp');
            if (hit > 0) add(t, 'fpHarm');
            verdict = `FP ${hit} particle px`;
          } else verdict = 'ok';
        } else if (tr.kind === 'ambiguous') {
          add(t, 'ambiguous');
          const ok =
            top.length === 0 && (bottom.length === 0 || (bottom[0]!.y0 >= tr.lo && bottom[0]!.y0 <= tr.hi));
          if (ok) add(t, 'ambiguousOk');
          verdict = ok ? 'ok' : 'WRONG';
        } else {
          add(t, 'banner');
          const y0 = bottom[0]?.y0;
          if (top.length === 0 && y0 !== undefined && y0 >= tr.lo && y0 <= tr.hi) {
            add(t, 'found');
            if (y0 === tr.first) add(t, 'exact');
            verdict = 'ok';
          } else if (y0 === undefined && top.length === 0) {
            add(t, 'missed');
            verdict = 'MISSED';
          } else {
            add(t, 'wrong');
            verdict = 'WRONG';
          }
          if (hit > 0) {
            add(t, 'bannerHarm');
            if (LIST)
              lines.push(`emps ${id} ${name}: ${fmtBands(b)} holds ${hit} particle px (truth ${tr.first})`);
          }
        }
        if (LIST && verdict !== 'ok')
          lines.push(
            `emps ${id} ${name}: ${fmtBands(b)} ${verdict}${tr ? ` (truth ${tr.kind} ${tr.first || `${tr.lo}-${tr.hi}`})` : ''}`,
          );
      }
    }
  }

  // saemi_sem: banner area mirrored over, so no band is right.
  const saemi = path.join(DATA, 'saemi_sem');
  if (existsSync(saemi)) {
    for (const file of readdirSync(path.join(saemi, 'images')).sort()) {
      const img = load(path.join(saemi, 'images', file));
      const mask = particleMask(path.join(saemi, 'masks', file.replace(/\.jpg$/, '.png')), true);
      for (const [name, det] of DETECTORS) {
        const b = det(img.grey, { integerValued: img.integer });
        const t = tally(name, 'saemi');
        add(t, 'n');
        if (b.length) add(t, 'fp');
        lines.push(
          `saemi ${file.slice(0, 12)} ${name}: ${fmtBands(b)}${b.length ? ` (${hits(b, mask, img.grey.width)} particle px)` : ''}`,
        );
      }
    }
  }

  // Synthetic SEM (src/core/synth): with banner, exact first row; without, no band.
  for (let seed = 0; seed < 200; seed++) {
    const part = seed < 100 ? 'tune' : 'report';
    const withBanner = seed % 2 === 0;
    const r = generateSynthetic({
      seed: 7000 + seed,
      width: 512,
      height: 384,
      modality: 'sem',
      banner: withBanner,
    });
    const grey = toGrey(r.image);
    for (const [name, det] of DETECTORS) {
      const b = det(grey, { integerValued: true });
      const t = tally(name, `synth-${part}`);
      if (withBanner) {
        add(t, 'banner');
        if (b.length === 1 && b[0]!.y0 === r.meta.banner!.y0 && b[0]!.y1 === r.meta.banner!.y1)
          add(t, 'exact');
        else if (LIST) lines.push(`synth ${seed} ${name}: ${fmtBands(b)} (truth ${r.meta.banner!.y0})`);
      } else {
        add(t, 'none');
        if (b.length) {
          add(t, 'fp');
          if (LIST) lines.push(`synth ${seed} ${name}: ${fmtBands(b)} FP`);
        }
      }
    }
  }

  if (LIST) console.log(lines.join('\n'));
  else console.log(lines.filter((l) => l.startsWith('saemi')).join('\n'));
  for (const [name, parts] of Object.entries(results)) {
    const row: string[] = [];
    for (const [part, t] of Object.entries(parts)) {
      const g = (k: string): number => t[k] ?? 0;
      if (part.startsWith('semseg')) row.push(`${part} ${g('exact')}/${g('n')}`);
      else if (part.startsWith('emps'))
        row.push(
          `${part} banners ${g('found')}/${g('banner')} (exact ${g('exact')}, missed ${g('missed')}, wrong ${g('wrong')}, cut particles ${g('bannerHarm')}) ` +
            `FP ${g('fp')}/${g('none')} (cut particles ${g('fpHarm')}) ambiguous ok ${g('ambiguousOk')}/${g('ambiguous')}`,
        );
      else if (part === 'saemi') row.push(`saemi FP ${g('fp')}/${g('n')}`);
      else row.push(`${part} exact ${g('exact')}/${g('banner')} FP ${g('fp')}/${g('none')}`);
    }
    console.log(`${name}:\n  ${row.join('\n  ')}`);
  }
}

main();
