/**
 * The analysis, composed: decode -> grey -> calibrate (pixel size, banner) -> normalise (banner left out of
 * the percentiles) -> segment (model tiles + instances, or the threshold method) -> measure. The single entry
 * point the worker and the CLI call; everything it needs arrives as arguments, so it runs in both. It is two
 * halves, prepareImage (everything before segmentation) and finishImage, so the app can prepare a batch's next
 * image in another worker while this one is post-processed.
 */
import type { GreyF32, LabelImage } from './raster';
import type { AnalysisOptions, Calibration, DecodedImage, ExcludedBand, ImageAnalysis } from './types';
import type { LoadedModel, ModelSidecar } from './segment/model';
import { checkAborted } from './abort';
import { decodeImage } from './decode/index';
import { readLabelImage } from './decode/label-image';
import { percentileStretch, stretchAndQuantise, toGrey } from './normalise';
import { calibrate } from './calibrate/index';
import type { LineRecognizer } from './calibrate/label-ocr';
import { cutLabelPlan, readLabelPlan, type LabelPlanReader } from './calibrate/read-bar-label';
import { relabelInPlace, relabelSequential } from './label';
import type { PreparedImage, PrepareSpec } from './prepared-image';
import { measureParticles } from './measure';
import { dropOppositeContrast } from './segment/contrast-filter';
import { flipAveraged } from './segment/flip-views';
import { segmentWithModel } from './segment/model-segment';
import { isStarModel, segmentStar } from './segment/star-segment';
import { thresholdSegment } from './segment/threshold';

export type { PreparedImage, PrepareSpec } from './prepared-image';
export { preparedBuffers } from './prepared-image';

export interface AnalyzeInput {
  name: string;
  bytes: Uint8Array;
  /** Texts of side-car metadata files (e.g. Hitachi/JEOL .txt beside the image). */
  sidecarTexts?: string[];
  /**
   * A label image to measure instead of segmenting (16-bit PNG/TIFF, same size; see decode/label-image.ts),
   * with its file name for messages.
   */
  labels?: { name: string; bytes: Uint8Array };
}

export interface AnalyzeHooks {
  /**
   * Stage name ('decode', 'calibrate', 'normalise', 'segment', 'instances', 'contrast', 'measure', 'done') and
   * 0..1 progress within it. A stage lasts until the next one starts, so the calls also time the stages.
   */
  onProgress?: (stage: string, fraction: number) => void;
  /**
   * The decoded image as grey floats (source units), once, before calibration: the worker derives its display
   * preview from it instead of decoding the file a second time. Read it there and then; it is not to be kept.
   */
  onGrey?: (grey: GreyF32) => void;
  /** Checked between stages and between tiles; the analysis rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * OCR engine for scale-bar labels (src/ocr), or a reader that runs it elsewhere (the browser's label worker).
   * Only called for an image whose file gives no pixel size; without one, labels are read by the bundled-font
   * reader alone.
   */
  ocr?: LineRecognizer | LabelPlanReader;
}

/** Percentiles for the threshold method's normalisation (the model states its own in the sidecar). */
const THRESHOLD_PERCENTILES: [number, number] = [0.5, 99.5];

/** Specks below half the minimum area are noise and dropped; the rest are kept and flagged 'small'. */
export function speckSize(minAreaPx: number): number {
  return minAreaPx > 1 ? Math.floor(minAreaPx / 2) : 0;
}

export function assertModelFor(options: AnalysisOptions, model: LoadedModel | null): void {
  if (options.method === 'model' && !model)
    throw new Error('method "model" needs a segmentation model (load one, or choose the threshold method)');
}

export function prepareSpecOf(sc: ModelSidecar): PrepareSpec {
  const { low, high } = sc.input.normalisation;
  const share = sc.thresholds.contrastShare;
  return share === undefined ? { low, high } : { low, high, contrastShare: share };
}

function sameSpec(a: PrepareSpec | null, b: PrepareSpec | null): boolean {
  return a?.low === b?.low && a?.high === b?.high && a?.contrastShare === b?.contrastShare;
}

/** True when `finishImage` can finish `prepared` with these options and model (else analyse the file anew). */
export function preparedFits(
  prepared: PreparedImage,
  options: AnalysisOptions,
  model: LoadedModel | null,
): boolean {
  const useModel = options.method === 'model' && model !== null;
  return sameSpec(prepared.spec, useModel ? prepareSpecOf(model.sidecar) : null);
}

export interface PrepareHooks extends Pick<AnalyzeHooks, 'onProgress' | 'onGrey' | 'signal'> {
  /** Cut the scale-bar label crops (an OCR reader will read them). */
  readLabels?: boolean;
  /** The image's size once decoded, before its grey copy is made: the caller may stop here by throwing. */
  onDecoded?: (width: number, height: number) => void;
}

/**
 * Decode -> grey -> calibrate -> label crops -> normalise. `spec` is the model's (prepareSpecOf) for the model
 * method, null for the threshold method.
 */
export function prepareImage(
  input: AnalyzeInput,
  options: AnalysisOptions,
  spec: PrepareSpec | null,
  hooks: PrepareHooks = {},
): PreparedImage {
  const t0 = performance.now();
  const { onProgress, signal } = hooks;
  checkAborted(signal);
  onProgress?.('decode', 0);
  // Big buffers are held in `let`s and dropped as soon as they are spent: an 8192x8192 image must not keep its
  // raster and grey copies longer than needed.
  let decoded: DecodedImage | null = decodeImage(input.bytes, input.name);
  const meta = decoded.meta;
  const { width, height } = decoded.raster;
  hooks.onDecoded?.(width, height);
  let grey: GreyF32 | null = toGrey(decoded.raster);
  hooks.onGrey?.(grey);

  checkAborted(signal);
  onProgress?.('calibrate', 0);
  const calibrated = calibrate({
    decoded,
    grey,
    sidecarTexts: input.sidecarTexts,
    options: { banner: options.banner, pixelSizeOverride: options.pixelSizeOverride },
  });
  decoded = null;
  const labelPlan = hooks.readLabels ? cutLabelPlan(grey, calibrated) : null;
  const blocked = bandMask(calibrated.excluded, width, height);
  const valid = blocked && validMask(blocked);

  checkAborted(signal);
  let norm: GreyF32 | null = null;
  let contrastBytes: Uint8ClampedArray | null = null;
  const modelSpec = options.method === 'model' ? spec : null;
  if (!input.labels) {
    onProgress?.('normalise', 0);
    if (modelSpec) {
      const share = options.mixedContrast ? undefined : modelSpec.contrastShare;
      // A byte per pixel is plenty to tell brighter from darker, and a quarter of the float copy on big images;
      // written in the stretch's own pass.
      const stretched = stretchAndQuantise(grey, modelSpec.low, modelSpec.high, valid, share !== undefined);
      norm = stretched.norm;
      contrastBytes = share === undefined ? null : stretched.bytes;
    } else {
      norm = percentileStretch(grey, THRESHOLD_PERCENTILES[0], THRESHOLD_PERCENTILES[1], valid);
    }
  }
  grey = null;
  return {
    name: input.name,
    width,
    height,
    meta,
    calibrated,
    labelPlan,
    spec: input.labels ? null : modelSpec,
    norm,
    contrastBytes,
    ms: performance.now() - t0,
  };
}

export async function analyzeImage(
  input: AnalyzeInput,
  options: AnalysisOptions,
  model: LoadedModel | null,
  hooks: AnalyzeHooks = {},
): Promise<ImageAnalysis> {
  if (!input.labels) assertModelFor(options, model);
  const spec = options.method === 'model' && model ? prepareSpecOf(model.sidecar) : null;
  const prepared = prepareImage(input, options, spec, { ...hooks, readLabels: hooks.ocr !== undefined });
  return finishImage(prepared, input, options, model, hooks);
}

/**
 * Segment -> (label read) -> measure, on an image `prepareImage` prepared with the same options and this model's
 * spec. `input` gives the file again: a resampled second segmentation pass (rare) decodes it once more.
 */
export async function finishImage(
  prepared: PreparedImage,
  input: AnalyzeInput,
  options: AnalysisOptions,
  model: LoadedModel | null,
  hooks: AnalyzeHooks = {},
): Promise<ImageAnalysis> {
  if (!input.labels) assertModelFor(options, model);
  const useModel = !input.labels && options.method === 'model' && model !== null;
  if (!input.labels && !preparedFits(prepared, options, model))
    throw new Error(`${input.name}: prepared for another model or method than it is finished with`);
  const t0 = performance.now() - prepared.ms;
  const { onProgress, signal } = hooks;
  const { width, height, meta, calibrated: first } = prepared;
  const warnings: string[] = [];
  // What each stage decided and why, one line each (the app and --json show it).
  const trace: string[] = [];

  // The scale bar's label is read (OCR, in the engine's own worker) while the image is segmented: segmentation
  // does not depend on the pixel size, and the read takes about as long as the network on an image without
  // metadata. Its result is awaited before measuring.
  const labelRead = readLabelPlan(prepared.labelPlan, first, hooks.ocr);
  // A failed segmentation must not leave the read's own failure unobserved.
  let labelPending = true;
  labelRead.then(
    () => (labelPending = false),
    () => undefined,
  );
  warnings.push(...first.warnings);
  const excluded = first.excluded;
  const calibrationAt = trace.length;
  for (const b of excluded)
    trace.push(`${b.reason === 'banner' ? 'banner' : 'excluded rows'}: rows ${b.y0}-${b.y1 - 1} left out`);
  const blocked = bandMask(excluded, width, height);

  checkAborted(signal);
  let labels: LabelImage;
  const speckPx = speckSize(options.minAreaPx);
  if (input.labels) {
    onProgress?.('segment', 0);
    labels = readLabelImage(input.labels.bytes, input.labels.name, width, height);
    trace.push(`segment: labels given (${input.labels.name}), not segmented`);
  } else if (useModel) {
    const sc = model.sidecar;
    const { low, high } = sc.input.normalisation;
    const contrastShare = options.mixedContrast ? undefined : sc.thresholds.contrastShare;
    let norm: GreyF32 | null = prepared.norm;
    let contrastGrey: Uint8ClampedArray | null = prepared.contrastBytes;
    onProgress?.('segment', 0);
    // The step takes the normalised image over; a resampled second pass (rare) recomputes it from the bytes.
    const bytes = input.bytes;
    const handOver = (): GreyF32 => {
      const g =
        norm ??
        percentileStretch(
          toGrey(decodeImage(bytes, input.name).raster),
          low,
          high,
          blocked && validMask(blocked),
        );
      norm = null;
      return g;
    };
    const star = isStarModel(sc);
    // Mirrored views would also have to permute the rays' directions and shift their grid: not done.
    if (options.thorough && star)
      warnings.push('thorough (mirrored views) does not apply to this polygon model');
    const backend = options.thorough && !star ? flipAveraged(model.backend) : model.backend;
    const segment = star ? segmentStar : segmentWithModel;
    const r = await segment(handOver, sc, backend, {
      split: options.split,
      watershed: options.watershed,
      speckPx,
      blocked,
      signal,
      onTile: (f) => onProgress?.('segment', f),
      onInstances: () => onProgress?.('instances', 0),
    });
    warnings.push(...r.warnings);
    labels = r.labels;
    trace.push(
      `segment: ${sc.name} ${sc.version}${backend === model.backend ? '' : ' (thorough)'}, ${r.decision}`,
    );
    if (contrastGrey && contrastShare !== undefined) {
      onProgress?.('contrast', 0);
      const c = dropOppositeContrast(labels, contrastGrey, contrastShare, blocked);
      contrastGrey = null;
      const kept = c.polarity > 0 ? 'brighter' : 'darker';
      trace.push(
        c.polarity === 0
          ? 'contrast: no clear majority of brighter or darker particles, all detections kept'
          : `contrast: particles ${kept} than their surroundings, ${c.dropped} of the other contrast dropped`,
      );
      if (c.dropped > 0)
        warnings.push(
          `${c.dropped} detection${c.dropped === 1 ? '' : 's'} ${c.polarity > 0 ? 'darker' : 'brighter'} than ` +
            `the surroundings dropped: the particles here are ${c.polarity > 0 ? 'brighter' : 'darker'} ` +
            '(mixed contrast keeps them)',
        );
    }
  } else {
    const norm = prepared.norm;
    if (!norm) throw new Error(`${input.name}: prepared without its normalised image`);
    onProgress?.('segment', 0);
    const r = thresholdSegment(norm, {
      threshold: options.threshold,
      darkParticles: options.darkParticles,
      split: options.split,
      speckPx,
      blocked,
    });
    warnings.push(...r.warnings);
    onProgress?.('segment', 1);
    labels = r.labels;
    trace.push(
      `segment: threshold method, ${r.darkParticles ? 'dark' : 'bright'} particles above ${r.threshold.toFixed(3)}` +
        ' of the stretched grey',
    );
  }
  // The prepared buffers are spent (segmentation took the normalised image over).
  prepared.norm = null;
  prepared.contrastBytes = null;

  checkAborted(signal);
  // One turn for the flag: a read that needed no engine has settled already, and is no stage of its own.
  await Promise.resolve();
  if (labelPending) onProgress?.('scale-bar', 0);
  const cal = await labelRead;
  checkAborted(signal);
  if (cal.barNote) warnings.push(cal.barNote);
  trace.splice(calibrationAt, 0, calibrationTrace(cal.calibration));
  onProgress?.('measure', 0);
  if (blocked) {
    // Instances never start in a band, but a flood or hole fill must not have reached into one either.
    let touched = false;
    const d = labels.data;
    for (let i = 0; i < d.length; i++)
      if (blocked[i] && d[i] !== 0) {
        d[i] = 0;
        touched = true;
      }
    if (touched) relabelInPlace(labels);
  }
  const particles = measureParticles(labels, {
    minAreaPx: options.minAreaPx,
    excludeEdges: options.excludeEdges,
    excludedBands: excluded,
  });
  if (!particles.some((p) => p.excluded === null)) warnings.push('no particles found');
  trace.push(measureTrace(particles));
  onProgress?.('done', 1);

  return {
    name: input.name,
    width,
    height,
    meta,
    calibration: cal.calibration,
    excluded,
    scaleBar: cal.scaleBar,
    labels,
    particles,
    method: input.labels ? 'labels' : options.method,
    modelName: useModel ? `${model.sidecar.name} ${model.sidecar.version}` : undefined,
    seconds: (performance.now() - t0) / 1000,
    warnings,
    trace,
  };
}

function calibrationTrace(c: Calibration): string {
  if (c.pixelSize === null) return 'calibrate: no pixel size found, sizes in px';
  return `calibrate: ${+c.pixelSize.toPrecision(4)} ${c.unit}/px from ${c.source}${c.detail ? ` (${c.detail})` : ''}`;
}

function measureTrace(particles: ImageAnalysis['particles']): string {
  let edge = 0;
  let small = 0;
  for (const p of particles)
    if (p.excluded === 'edge') edge++;
    else if (p.excluded === 'small') small++;
  const kept = particles.length - edge - small;
  return (
    `measure: ${kept} particle${kept === 1 ? '' : 's'} in the statistics` +
    (edge || small ? `; left out: ${edge} touching the edge, ${small} under the minimum area` : '')
  );
}

/**
 * Re-measures an analysis after mask edits or option changes (min area, edge exclusion, manual pixel size)
 * without segmenting again. Labels are made contiguous, since edits can leave gaps.
 */
export function remeasure(a: ImageAnalysis, options: AnalysisOptions): ImageAnalysis {
  const labels = relabelSequential(a.labels);
  let calibration: Calibration = a.calibration;
  if (options.pixelSizeOverride) {
    const { pixelSize, unit } = options.pixelSizeOverride;
    calibration = {
      pixelSize,
      unit,
      source: 'manual',
      detail: 'set by the user',
      instrument: a.calibration.instrument,
    };
  }
  const particles = measureParticles(labels, {
    minAreaPx: options.minAreaPx,
    excludeEdges: options.excludeEdges,
    excludedBands: a.excluded,
  });
  // The stages that ran again say so; the segmentation's lines stand (edits are the user's, not a stage's).
  const trace = a.trace?.map((l) =>
    l.startsWith('calibrate:')
      ? calibrationTrace(calibration)
      : l.startsWith('measure:')
        ? measureTrace(particles)
        : l,
  );
  return { ...a, labels, particles, calibration, ...(trace ? { trace } : {}) };
}

/** 1 where `blocked` is 0: the pixels a percentile stretch counts. */
function validMask(blocked: Uint8Array): Uint8Array {
  const valid = new Uint8Array(blocked.length);
  for (let i = 0; i < valid.length; i++) valid[i] = blocked[i] ^ 1;
  return valid;
}

/** 1 for pixels in an excluded band, or undefined when there is none. */
function bandMask(bands: ExcludedBand[], width: number, height: number): Uint8Array | undefined {
  if (!bands.length) return undefined;
  const m = new Uint8Array(width * height);
  for (const b of bands) {
    const y0 = Math.max(0, Math.min(height, Math.floor(b.y0)));
    const y1 = Math.max(y0, Math.min(height, Math.ceil(b.y1)));
    m.fill(1, y0 * width, y1 * width);
  }
  return m;
}
