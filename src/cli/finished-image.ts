/**
 * One analysed image reduced to what the CLI writes and reports: its CSV rows, its label PNG, the pooled row's
 * inputs and its progress line. Made in the analysis worker, so only strings, numbers and one transferable
 * buffer cross to the main thread, and a batch never holds every image's labels in memory.
 */
import type { ImageAnalysis } from '../core/types';
import { particlesCsvRows, poolImage, summaryCsvRow, type PoolImage } from '../core/export/csv';
import { encodeImagejRois } from '../core/export/imagej-roi';
import { encodeLabelPng } from '../core/export/label-png';

export interface FinishedImage {
  name: string;
  /** particles.csv rows, each ending in a newline ('' when the image has no included particle). */
  particlesBlock: string;
  /** summary.csv row, ending in a newline. */
  summaryLine: string;
  pool: PoolImage;
  /** "6 particles, 2.50 nm/px (metadata), 0.41 s" */
  progress: string;
  warnings: string[];
  /** The analysis' decision trace (ImageAnalysis.trace). */
  trace: string[];
  /** 16-bit label PNG, or null when no --out folder asked for it. */
  labelPng: Uint8Array | null;
  /** ImageJ ROI set (RoiSet.zip), or null when --rois did not ask for it. */
  roisZip: Uint8Array | null;
}

export function finishImage(a: ImageAnalysis, withLabels: boolean, withRois = false): FinishedImage {
  const rows = particlesCsvRows(a);
  const rois = withRois ? encodeImagejRois(a.labels, a.particles) : null;
  const warnings = [...a.warnings];
  if (rois?.tooLarge.length)
    warnings.push(
      `${rois.tooLarge.length} particle(s) left out of the ROI set: too large for ImageJ's 16-bit ROI coordinates (particle ${rois.tooLarge.slice(0, 5).join(', ')})`,
    );
  return {
    name: a.name,
    particlesBlock: rows.map((r) => r + '\n').join(''),
    summaryLine: summaryCsvRow(a) + '\n',
    pool: poolImage(a),
    progress: progressLine(a),
    warnings,
    trace: a.trace ?? [],
    labelPng: withLabels ? encodeLabelPng(a.labels, a.particles) : null,
    roisZip: rois?.zip ?? null,
  };
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

/** First line of an error's message: every report on stderr is one line per image. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}
