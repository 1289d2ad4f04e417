/**
 * The --out folder written as the batch goes. Per finished image: its label PNG under a temporary name, its
 * particles.csv rows and its summary.csv row (one positioned write each), all three flushed (fdatasync), the
 * label renamed into place, then its run-manifest line, flushed. Killed at any moment, the folder holds whole
 * files for every image the manifest lists, plus at most one image's rows past its last line, which --resume
 * cuts away. finish() writes the pooled row at the end of summary.csv, where the next resume cuts it away too.
 *
 * An uninterrupted run leaves particles.csv and summary.csv byte for byte as writing them at the end did.
 */
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import {
  PARTICLES_HEADER,
  SUMMARY_HEADER,
  parseCsv,
  poolImageFromCsvRows,
  type PoolImage,
} from '../core/export/csv';
import type { FinishedImage } from './finished-image';
import { oneLine } from './finished-image';
import {
  MANIFEST_FILE,
  fingerprintDifferences,
  manifestLine,
  parseManifest,
  runHeader,
  type ImageEntry,
  type ParsedManifest,
  type RunFingerprint,
} from './run-manifest';

/** --resume cannot go on in this folder; the message says why and what to do instead (one line). */
export class ResumeRefused extends Error {}

/** The label PNG could not be written; nothing of the image was added. */
export class LabelNotWritten extends Error {}

/** particles.csv, summary.csv or the manifest could not be appended to: the folder cannot take more. */
export class OutputBroken extends Error {}

export interface EarlierImage {
  entry: ImageEntry;
  pool: PoolImage;
  /** Its particles.csv rows and summary.csv row as written, when asked for (saemi merge). */
  rows?: { particles: string; summary: string };
}

/** What an earlier run left in the folder, read without changing anything. */
export interface EarlierRun {
  manifest: ParsedManifest;
  images: EarlierImage[];
  /** summary.csv's rows of those images, the text after its header line. */
  summaryBody: string;
  /** summary.csv after those rows: the pooled row of a run that finished, '' for one that was stopped. */
  summaryTail: string;
}

export interface InspectOptions {
  /** Keep each image's rows (EarlierImage.rows). */
  rows?: boolean;
  /** What to tell the user when the folder cannot be used. */
  advice?: string;
}

const PARTICLES = 'particles.csv';
const SUMMARY = 'summary.csv';
const PARTICLES_START = Buffer.from(PARTICLES_HEADER + '\n');
const SUMMARY_START = Buffer.from(SUMMARY_HEADER + '\n');

/**
 * Reads the earlier run in `dir` for --resume: null when there is none (no manifest, no CSVs). Throws
 * ResumeRefused when its options differ from `now`, or when its files do not agree with its manifest.
 */
export async function inspectEarlierRun(
  dir: string,
  now: RunFingerprint | null,
  opts: InspectOptions = {},
): Promise<EarlierRun | null> {
  const startAfresh = opts.advice ?? 'rerun without --resume to start afresh, or use another --out';
  const manifestBytes = await readIfThere(path.join(dir, MANIFEST_FILE));
  if (!manifestBytes) {
    for (const f of [PARTICLES, SUMMARY])
      if (await readIfThere(path.join(dir, f)))
        throw new ResumeRefused(
          `${dir} holds ${f} but no ${MANIFEST_FILE}, so which images are complete is unknown; ${startAfresh}`,
        );
    return null;
  }
  let manifest: ParsedManifest;
  try {
    manifest = parseManifest(manifestBytes);
  } catch (e) {
    throw new ResumeRefused(`${path.join(dir, MANIFEST_FILE)}: ${oneLine(e)}; ${startAfresh}`);
  }
  const diffs = now ? fingerprintDifferences(manifest.header.fingerprint, now) : [];
  if (diffs.length)
    throw new ResumeRefused(
      `the options differ from the earlier run in ${dir} (${diffs.join('; ')}); rerun with that run's options, or ${startAfresh}`,
    );
  if (manifest.images.length === 0) {
    const s = await readIfThere(path.join(dir, SUMMARY));
    const tail = s ? s.toString('utf8', manifest.header.summaryEnd) : '';
    return { manifest, images: [], summaryBody: '', summaryTail: tail };
  }

  const last = manifest.images[manifest.images.length - 1];
  const texts: Record<string, Buffer> = {};
  for (const [f, end, start] of [
    [PARTICLES, last.particlesEnd, PARTICLES_START],
    [SUMMARY, last.summaryEnd, SUMMARY_START],
  ] as const) {
    const b = await readIfThere(path.join(dir, f));
    if (!b || b.length < end || !b.subarray(0, start.length).equals(start))
      throw new ResumeRefused(
        `${path.join(dir, f)} ${b ? 'does not hold' : 'is missing'} the rows ${MANIFEST_FILE} records: it changed since the earlier run; ${startAfresh}`,
      );
    texts[f] = b;
  }
  // Image by image, through the byte ranges the manifest recorded: a run of a million particles is never
  // parsed as one table, and each row belongs to the image whose range holds it.
  const images: EarlierImage[] = [];
  let p0 = manifest.header.particlesEnd;
  let s0 = manifest.header.summaryEnd;
  for (const entry of manifest.images) {
    const sText = texts[SUMMARY].toString('utf8', s0, entry.summaryEnd);
    const pText = texts[PARTICLES].toString('utf8', p0, entry.particlesEnd);
    const sRows = parseCsv(sText);
    const pRows = parseCsv(pText);
    let pool: PoolImage;
    try {
      if (sRows.length !== 1 || sRows[0][0] !== entry.name)
        throw new Error(`summary.csv has no row of ${entry.name} where ${MANIFEST_FILE} says`);
      pool = poolImageFromCsvRows(sRows[0], pRows);
    } catch (e) {
      throw new ResumeRefused(`${dir}: ${oneLine(e)}; ${startAfresh}`);
    }
    images.push(opts.rows ? { entry, pool, rows: { particles: pText, summary: sText } } : { entry, pool });
    p0 = entry.particlesEnd;
    s0 = entry.summaryEnd;
  }
  const summaryBody = texts[SUMMARY].toString('utf8', manifest.header.summaryEnd, last.summaryEnd);
  const summaryTail = texts[SUMMARY].toString('utf8', last.summaryEnd);
  return { manifest, images, summaryBody, summaryTail };
}

async function readIfThere(p: string): Promise<Buffer | null> {
  try {
    return await readFile(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

interface Sink {
  /** Path of the file, for messages. */
  name: string;
  fh: FileHandle;
  pos: number;
}

export class IncrementalOutput {
  private constructor(
    private readonly dir: string,
    private readonly particles: Sink,
    private readonly summary: Sink,
    private readonly manifest: Sink,
  ) {}

  /** A fresh run: the manifest's run line, then both CSVs holding their header (earlier contents replaced). */
  static async start(dir: string, fingerprint: RunFingerprint): Promise<IncrementalOutput> {
    await mkdir(path.join(dir, 'labels'), { recursive: true });
    const header = Buffer.from(
      manifestLine(runHeader(fingerprint, PARTICLES_START.length, SUMMARY_START.length)),
    );
    const sinks: Sink[] = [];
    for (const [name, first] of [
      [MANIFEST_FILE, header],
      [PARTICLES, PARTICLES_START],
      [SUMMARY, SUMMARY_START],
    ] as const) {
      const p = path.join(dir, name);
      const sink: Sink = { name: p, fh: await open(p, 'w'), pos: 0 };
      await append(sink, first);
      await sync(sink);
      sinks.push(sink);
    }
    return new IncrementalOutput(dir, sinks[1], sinks[2], sinks[0]);
  }

  /** Continues `earlier` (from inspectEarlierRun): each file cut back to its last complete image. */
  static async continueRun(dir: string, earlier: EarlierRun): Promise<IncrementalOutput> {
    const { manifest, images } = earlier;
    if (images.length === 0) return IncrementalOutput.start(dir, manifest.header.fingerprint);
    await mkdir(path.join(dir, 'labels'), { recursive: true });
    const last = images[images.length - 1].entry;
    const sinks: Sink[] = [];
    for (const [name, end] of [
      [MANIFEST_FILE, manifest.validBytes],
      [PARTICLES, last.particlesEnd],
      [SUMMARY, last.summaryEnd],
    ] as const) {
      const p = path.join(dir, name);
      const fh = await open(p, 'r+');
      await fh.truncate(end);
      await fh.datasync();
      sinks.push({ name: p, fh, pos: end });
    }
    return new IncrementalOutput(dir, sinks[1], sinks[2], sinks[0]);
  }

  /**
   * Adds one finished image: label PNG, then its rows, then its manifest line. Throws LabelNotWritten (the
   * image is not added; the batch can go on) or OutputBroken (the folder cannot take more).
   */
  async add(img: FinishedImage, source: { path: string; sha256: string; stem: string }): Promise<void> {
    const label = img.labelPng ? await this.startFile('labels', source.stem + '.png', img.labelPng) : null;
    let rois: Awaited<ReturnType<IncrementalOutput['startFile']>> | null = null;
    try {
      rois = img.roisZip ? await this.startFile('rois', source.stem + '.zip', img.roisZip) : null;
    } catch (e) {
      await label?.fh.close().catch(() => undefined);
      throw e;
    }
    const rows = Buffer.from(img.particlesBlock);
    const line = Buffer.from(img.summaryLine);
    const before = [this.particles.pos, this.summary.pos];
    try {
      await append(this.particles, rows);
      await append(this.summary, line);
      // The label's flush and the two CSVs' in one round: each fdatasync costs milliseconds.
      await Promise.all([
        ...[label, rois].map((f) => f && labelStep(f.fh.datasync())),
        sync(this.particles),
        sync(this.summary),
      ]);
      for (const f of [label, rois])
        if (f) await labelStep(f.fh.close().then(() => rename(f.partial, f.target)));
      const entry: ImageEntry = {
        kind: 'image',
        name: img.name,
        path: source.path,
        sha256: source.sha256,
        stem: source.stem,
        particles: img.particlesBlock.split('\n').length - 1,
        particlesEnd: this.particles.pos,
        summaryEnd: this.summary.pos,
        warnings: img.warnings,
        trace: img.trace,
      };
      await append(this.manifest, Buffer.from(manifestLine(entry)));
      await sync(this.manifest);
    } catch (e) {
      // Best effort: leave the CSVs as the manifest describes them, so the batch (or a --resume) goes on.
      this.particles.pos = before[0];
      this.summary.pos = before[1];
      await Promise.allSettled([
        this.particles.fh.truncate(before[0]),
        this.summary.fh.truncate(before[1]),
        label?.fh.close(),
        rois?.fh.close(),
      ]);
      throw e;
    }
  }

  /** Writes an image's file (label PNG, ROI set) under a temporary name, renamed once its rows are flushed too. */
  private async startFile(
    folder: string,
    file: string,
    bytes: Uint8Array,
  ): Promise<{ fh: FileHandle; partial: string; target: string }> {
    const target = path.join(this.dir, folder, file);
    const partial = target + '.partial';
    let fh: FileHandle | null = null;
    try {
      await mkdir(path.dirname(target), { recursive: true });
      fh = await open(partial, 'w');
      await fh.writeFile(bytes);
      return { fh, partial, target };
    } catch (e) {
      await fh?.close().catch(() => undefined);
      throw new LabelNotWritten(oneLine(e));
    }
  }

  /** Writes the pooled row (a line ending in a newline) after every image's row. */
  async finish(pooledLine: string): Promise<void> {
    await append(this.summary, Buffer.from(pooledLine));
    await sync(this.summary);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.particles, this.summary, this.manifest].map((s) => s.fh.close()));
  }
}

/** One positioned write of the whole block (looping only if the OS writes it in parts). */
async function append(sink: Sink, buf: Buffer): Promise<void> {
  let off = 0;
  try {
    while (off < buf.length) {
      const { bytesWritten } = await sink.fh.write(buf, off, buf.length - off, sink.pos + off);
      off += bytesWritten;
    }
  } catch (e) {
    throw new OutputBroken(`${sink.name}: ${oneLine(e)}`);
  }
  sink.pos += buf.length;
}

async function labelStep(work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (e) {
    throw new LabelNotWritten(oneLine(e));
  }
}

/** Flushed to the disk, not only to the OS: a crash of the machine keeps what the manifest records too. */
async function sync(sink: Sink): Promise<void> {
  try {
    await sink.fh.datasync();
  } catch (e) {
    throw new OutputBroken(`${sink.name}: ${oneLine(e)}`);
  }
}
