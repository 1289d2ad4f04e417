/**
 * `saemi analyze`: runs the core pipeline over every input and writes the CLI contract's outputs
 * (particles.csv, summary.csv, labels/<stem>.png) as each image finishes, so an interrupted batch keeps what
 * it did and `--resume` goes on from there. One bad input is reported and skipped, never fatal; so is one
 * that runs past --image-timeout (analyses run in a worker thread that can be terminated).
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SUMMARY_HEADER, parseCsv, pooledRow, type PoolImage } from '../core/export/csv';
import { ANALYZE_HELP, parseAnalyzeArgs, UsageError, type AnalyzeArgs } from './args';
import { AnalysisHost, ImageTimeout, type ModelIdentity, type WorkerReady } from './analysis-host';
import { oneLine, type FinishedImage } from './finished-image';
import {
  IncrementalOutput,
  inspectEarlierRun,
  LabelNotWritten,
  ResumeRefused,
  type EarlierRun,
} from './incremental-output';
import { collectInputs, type InputFile, outputStem, outputStems, readSidecarTexts } from './inputs';
import { checkOutFolder } from './out-folder';
import { readInputBytes, ReadTimeout, withinTime } from './read-input';
import { runFingerprint } from './run-manifest';

export async function runAnalyzeCommand(argv: string[]): Promise<number> {
  let args: AnalyzeArgs;
  try {
    args = parseAnalyzeArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`saemi analyze: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(ANALYZE_HELP);
    return 0;
  }
  const err = (line: string): void => void process.stderr.write(line + '\n');
  if (args.out !== null) {
    // Before the model loads: a folder that cannot take the results is said at once.
    const refused = await checkOutFolder(args.out);
    if (refused) {
      err(`saemi analyze: --out: ${refused}`);
      return 2;
    }
  }

  if (args.labelsIn !== null) {
    const isFolder = await stat(args.labelsIn).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isFolder) {
      err(`saemi analyze: --labels-in: ${args.labelsIn} is not a folder`);
      return 2;
    }
    if (args.modelPath) err('warning: --model is ignored with --labels-in (the labels given are measured)');
  }
  const useModel = args.options.method === 'model' && args.labelsIn === null;
  if (!useModel && args.labelsIn === null) {
    if (args.modelPath) err('warning: --model is ignored with --method threshold');
    for (const [on, flag] of [
      [args.options.thorough, '--thorough'],
      [args.options.mixedContrast, '--mixed-contrast'],
    ] as const)
      if (on) err(`warning: ${flag} is ignored with --method threshold`);
  }
  const host = new AnalysisHost({
    options: args.options,
    model: useModel
      ? { path: args.modelPath, backend: args.backend, threads: args.threads, precision: args.precision }
      : null,
    withLabels: args.out !== null,
    withRois: args.rois,
  });
  let output: IncrementalOutput | null = null;
  try {
    let ready: WorkerReady;
    try {
      ready = await host.start();
    } catch (e) {
      err(`saemi analyze: ${oneLine(e)}`);
      return 2;
    }
    for (const w of ready.warnings) err(`warning: ${w}`);
    if (ready.model)
      err(
        `model ${ready.model.name} ${ready.model.version} on ${ready.model.backend} (${ready.model.precision}, ${ready.model.file})`,
      );

    const { files, problems, skipped } = await collectInputs(args.inputs);
    let failed = problems.length;
    for (const p of problems) err(`${p.arg}: ${p.message}`);
    for (const p of skipped) err(`${p.arg}: warning: ${p.message}`);

    // Earlier results (--resume), checked before anything in the folder changes.
    let earlier: EarlierRun | null = null;
    const done = new Set<number>();
    if (args.out) {
      const fingerprint = runFingerprint(args.options, ready.model, args.labelsIn);
      try {
        if (args.resume) {
          earlier = await inspectEarlierRun(args.out, fingerprint);
          if (earlier) {
            await matchEarlier(earlier, files, done, args.imageTimeout, args.labelsIn);
            keepEarlierStems(earlier, files, done);
          } else err(`nothing to resume in ${args.out}: starting afresh`);
        }
        output = earlier
          ? await IncrementalOutput.continueRun(args.out, earlier)
          : await IncrementalOutput.start(args.out, fingerprint);
      } catch (e) {
        err(
          e instanceof ResumeRefused
            ? `saemi analyze: --resume: ${e.message}`
            : `saemi analyze: cannot write to ${args.out}: ${oneLine(e)}`,
        );
        return 2;
      }
      if (earlier?.images.length)
        err(
          `resuming: ${earlier.images.length} image(s) done in the earlier run kept; ${files.length - done.size} to analyse`,
        );
    }

    const results: Pick<FinishedImage, 'name' | 'summaryLine' | 'pool' | 'warnings' | 'trace'>[] = [];
    const total = files.length;
    const limitMs = args.imageTimeout * 1000;
    for (let k = 0; k < total; k++) {
      if (done.has(k)) continue;
      const f = files[k];
      const tag = `[${k + 1}/${total}] ${f.name}`;
      let fin: FinishedImage;
      let sha256: string;
      try {
        // A restarted thread loads its model before the image's clock starts.
        await host.start();
        const t0 = performance.now();
        const { bytes, sidecarTexts } = await readInput(f.path, limitMs);
        const labels = args.labelsIn ? await readGivenLabels(args.labelsIn, f, limitMs) : undefined;
        const hash = createHash('sha256').update(bytes);
        // --resume must notice an edited label image as much as an edited micrograph.
        if (labels) hash.update(labels.bytes);
        sha256 = hash.digest('hex');
        const left = limitMs > 0 ? Math.max(1, limitMs - (performance.now() - t0)) : 0;
        fin = await host.analyze({ name: f.name, bytes, sidecarTexts, labels }, left, args.imageTimeout);
      } catch (e) {
        failed++;
        err(`${tag}: error: ${failure(e, args.imageTimeout)}`);
        continue;
      }
      if (output) {
        try {
          await output.add(fin, { path: path.resolve(f.path), sha256, stem: f.stem });
        } catch (e) {
          failed++;
          if (e instanceof LabelNotWritten) {
            err(`${tag}: error: label image or ROI set not written: ${e.message}`);
            continue;
          }
          err(`error: ${oneLine(e)}; stopping (what was written so far is complete: rerun with --resume)`);
          break;
        }
      }
      // Printed once the image is on disk: a line seen before a kill is a result the folder keeps.
      err(`${tag}: ${fin.progress}`);
      // Only what the pooled row and --json need stays in memory: a batch of thousands holds no labels.
      results.push({
        name: fin.name,
        summaryLine: fin.summaryLine,
        pool: fin.pool,
        warnings: fin.warnings,
        trace: fin.trace,
      });
      for (const w of fin.warnings) err(`${tag}: warning: ${w}`);
    }

    const pools: PoolImage[] = [...(earlier?.images.map((i) => i.pool) ?? []), ...results.map((r) => r.pool)];
    const pooled = pooledRow(pools) + '\n';
    if (output) {
      try {
        await output.finish(pooled);
      } catch (e) {
        failed++;
        err(`error: pooled row not written: ${oneLine(e)}`);
      }
    }
    if (args.json) {
      const summary =
        SUMMARY_HEADER +
        '\n' +
        (earlier?.summaryBody ?? '') +
        results.map((r) => r.summaryLine).join('') +
        pooled;
      const notes = new Map<string, ImageNotes>();
      for (const i of earlier?.images ?? [])
        notes.set(i.entry.name, { warnings: i.entry.warnings, trace: i.entry.trace ?? [] });
      for (const r of results) notes.set(r.name, { warnings: r.warnings, trace: r.trace });
      process.stdout.write(JSON.stringify(summaryJson(summary, notes, failed, ready.model), null, 2) + '\n');
    }
    if (failed > 0) {
      const kept = done.size ? ` (and ${done.size} kept from the earlier run)` : '';
      err(`${failed} of ${total + problems.length} input(s) failed; ${results.length} analysed${kept}`);
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await output?.close();
    await host.close();
  }
}

/**
 * Marks the inputs the earlier run finished (same absolute path, same sha256) in `done`. Refuses when a
 * finished file has changed since, or when a new input would take a name the earlier run gave another file:
 * either would leave two different sets of rows under one name.
 */
async function matchEarlier(
  earlier: EarlierRun,
  files: InputFile[],
  done: Set<number>,
  timeoutS: number,
  labelsIn: string | null,
): Promise<void> {
  const byPath = new Map(earlier.images.map((i) => [i.entry.path, i.entry]));
  const names = new Map(earlier.images.map((i) => [i.entry.name, i.entry.path]));
  for (const [k, f] of files.entries()) {
    const abs = path.resolve(f.path);
    const entry = byPath.get(abs);
    if (entry) {
      let sha: string;
      try {
        const { bytes } = await readInput(f.path, timeoutS * 1000, false);
        const hash = createHash('sha256').update(bytes);
        if (labelsIn) {
          f.stem = entry.stem ?? outputStem(entry.name);
          hash.update((await readGivenLabels(labelsIn, f, timeoutS * 1000)).bytes);
        }
        sha = hash.digest('hex');
      } catch (e) {
        throw new ResumeRefused(
          `${f.path}, finished in the earlier run, cannot be read now: ${failure(e, timeoutS)}`,
        );
      }
      if (sha !== entry.sha256)
        throw new ResumeRefused(
          `${f.path} changed since the earlier run analysed it (sha256 differs): its rows are stale; rerun without --resume to start afresh`,
        );
      done.add(k);
    } else if (names.has(f.name)) {
      throw new ResumeRefused(
        `${f.path} would be written as ${f.name}, the name the earlier run gave ${names.get(f.name)}; rerun without --resume, or use another --out`,
      );
    }
  }
}

/**
 * The stems of a resumed batch: kept images keep the ones the earlier run wrote their files under, and the
 * others are chosen as a fresh run would, never taking one of those.
 */
function keepEarlierStems(earlier: EarlierRun, files: InputFile[], done: Set<number>): void {
  const byPath = new Map(earlier.images.map((i) => [i.entry.path, i.entry]));
  const reserved = earlier.images.map((i) => i.entry.stem ?? outputStem(i.entry.name));
  const fresh = outputStems(
    files.map((f) => f.name),
    reserved,
  );
  files.forEach((f, k) => {
    const entry = done.has(k) ? byPath.get(path.resolve(f.path)) : undefined;
    f.stem = entry ? (entry.stem ?? outputStem(entry.name)) : fresh[k];
  });
}

/** The label image given for `f` in `dir` (--labels-in): <stem>.png, .tif or .tiff, as the outputs name it. */
async function readGivenLabels(
  dir: string,
  f: InputFile,
  limitMs: number,
): Promise<{ name: string; bytes: Uint8Array }> {
  const stems = [...new Set([f.stem, outputStem(f.name)])];
  const tried: string[] = [];
  for (const stem of stems)
    for (const ext of ['.png', '.tif', '.tiff']) {
      const p = path.join(dir, stem + ext);
      tried.push(p);
      const there = await stat(p).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!there) continue;
      const signal = limitMs > 0 ? AbortSignal.timeout(limitMs) : new AbortController().signal;
      return { name: p, bytes: await readInputBytes(p, signal) };
    }
  throw new Error(`no label image for it in --labels-in (looked for ${tried.join(', ')})`);
}

/** The image's bytes and side-car texts within `limitMs` (0 = no limit). */
async function readInput(
  p: string,
  limitMs: number,
  sidecars = true,
): Promise<{ bytes: Uint8Array; sidecarTexts: string[] }> {
  const signal = limitMs > 0 ? AbortSignal.timeout(limitMs) : new AbortController().signal;
  const bytes = await readInputBytes(p, signal);
  return { bytes, sidecarTexts: sidecars ? await withinTime(readSidecarTexts(p), signal) : [] };
}

function failure(e: unknown, timeoutS: number): string {
  if (e instanceof ReadTimeout)
    return `timed out after ${timeoutS} s while reading the file (--image-timeout): skipped`;
  if (e instanceof ImageTimeout)
    return `timed out after ${timeoutS} s (--image-timeout): skipped, the analysis was stopped`;
  return oneLine(e);
}

interface ImageNotes {
  warnings: string[];
  trace: string[];
}

/** summary.csv as JSON: the same columns (numbers as numbers), plus each image's warnings and trace, and failures. */
function summaryJson(
  summaryText: string,
  notes: Map<string, ImageNotes>,
  failed: number,
  model: ModelIdentity | null,
): unknown {
  const rows = parseCsv(summaryText);
  const [header, ...body] = rows;
  const objects = body.map((r) => {
    const o: Record<string, string | number | null> = {};
    header.forEach((h, i) => {
      const v = r[i];
      o[h] =
        v === '' || v === undefined
          ? null
          : h !== 'image' && h !== 'unit' && Number.isFinite(Number(v))
            ? Number(v)
            : v;
    });
    return o;
  });
  return {
    images: objects
      .filter((o) => o.image !== '*')
      .map((o) => ({ ...o, ...(notes.get(String(o.image)) ?? { warnings: [], trace: [] }) })),
    pooled: objects.find((o) => o.image === '*') ?? null,
    failed,
    // The model that segmented (null: threshold method or --labels-in): which weights file and precision.
    model,
  };
}
