/**
 * `saemi analyze`: runs the core pipeline over every input and writes the CLI contract's outputs
 * (particles.csv, summary.csv, labels/<stem>.png). One bad input is reported and skipped, never fatal.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedModel } from '../core/segment/model';
import type { ImageAnalysis } from '../core/types';
import { analyzeImage } from '../core/pipeline';
import { particlesCsv, summaryCsv, parseCsv } from '../core/export/csv';
import { encodeLabelPng } from '../core/export/label-png';
import { ANALYZE_HELP, parseAnalyzeArgs, UsageError, type AnalyzeArgs } from './args';
import { collectInputs, outputStem, readSidecarTexts } from './inputs';
import { loadModel } from './load-model';
import { nodeRecognizer } from './ocr-engine';

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

  let model: LoadedModel | null = null;
  if (args.options.method === 'model') {
    try {
      const loaded = await loadModel(args.modelPath, args.backend, args.threads);
      model = loaded.model;
      for (const w of loaded.warnings) err(`warning: ${w}`);
      err(`model ${loaded.files.sidecar.name} ${loaded.files.sidecar.version} on ${model.backend.name}`);
    } catch (e) {
      err(`saemi analyze: ${(e as Error).message}`);
      return 2;
    }
  } else {
    if (args.modelPath) err('warning: --model is ignored with --method threshold');
    for (const [on, flag] of [
      [args.options.thorough, '--thorough'],
      [args.options.mixedContrast, '--mixed-contrast'],
    ] as const)
      if (on) err(`warning: ${flag} is ignored with --method threshold`);
  }

  const { files, problems } = await collectInputs(args.inputs);
  let failed = problems.length;
  for (const p of problems) err(`${p.arg}: ${p.message}`);

  let labelDir: string | null = null;
  if (args.out) {
    labelDir = path.join(args.out, 'labels');
    try {
      await mkdir(labelDir, { recursive: true });
    } catch (e) {
      err(`saemi analyze: cannot create output folder ${labelDir}: ${oneLine(e)}`);
      await model?.backend.dispose();
      return 2;
    }
  }

  const results: ImageAnalysis[] = [];
  const total = files.length;
  // Started only when an image without metadata shows a scale bar whose label must be read.
  const ocr = nodeRecognizer();
  try {
    for (let k = 0; k < total; k++) {
      const f = files[k];
      const tag = `[${k + 1}/${total}] ${f.name}`;
      let a: ImageAnalysis;
      try {
        const bytes = new Uint8Array(await readFile(f.path));
        const sidecarTexts = await readSidecarTexts(f.path);
        a = await analyzeImage({ name: f.name, bytes, sidecarTexts }, args.options, model, { ocr });
      } catch (e) {
        failed++;
        err(`${tag}: error: ${oneLine(e)}`);
        continue;
      }
      results.push(a);
      err(`${tag}: ${progressLine(a)}`);
      if (labelDir) {
        const target = path.join(labelDir, outputStem(f.name) + '.png');
        try {
          await mkdir(path.dirname(target), { recursive: true });
          await writeFile(target, encodeLabelPng(a.labels, a.particles));
        } catch (e) {
          failed++;
          err(`${tag}: error: label image not written: ${oneLine(e)}`);
        }
      }
      for (const w of a.warnings) err(`${tag}: warning: ${w}`);
    }
  } finally {
    await model?.backend.dispose();
    await ocr.dispose();
  }

  if (args.out) {
    for (const [file, text] of [
      ['particles.csv', particlesCsv(results)],
      ['summary.csv', summaryCsv(results)],
    ]) {
      try {
        await writeFile(path.join(args.out, file), text);
      } catch (e) {
        failed++;
        err(`error: ${file} not written: ${oneLine(e)}`);
      }
    }
  }
  if (args.json) {
    process.stdout.write(JSON.stringify(summaryJson(results, failed), null, 2) + '\n');
  }
  if (failed > 0) err(`${failed} of ${total + problems.length} input(s) failed; ${results.length} analysed`);
  return failed > 0 ? 1 : 0;
}

function progressLine(a: ImageAnalysis): string {
  const n = a.particles.reduce((s, p) => s + (p.excluded === null ? 1 : 0), 0);
  const c = a.calibration;
  const scale =
    c.pixelSize !== null ? `${fmt(c.pixelSize)} ${c.unit}/px (${c.source})` : 'no pixel size (sizes in px)';
  return `${n} particle${n === 1 ? '' : 's'}, ${scale}, ${a.seconds.toFixed(2)} s`;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** summary.csv as JSON: the same columns (numbers as numbers), plus warnings and failures. */
function summaryJson(results: ImageAnalysis[], failed: number): unknown {
  const rows = parseCsv(summaryCsv(results));
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
  const byName = new Map(results.map((a) => [a.name, a]));
  return {
    images: objects
      .filter((o) => o.image !== '*')
      .map((o) => ({ ...o, warnings: byName.get(String(o.image))?.warnings ?? [] })),
    pooled: objects.find((o) => o.image === '*') ?? null,
    failed,
  };
}

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}
