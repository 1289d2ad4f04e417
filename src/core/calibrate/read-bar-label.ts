/**
 * Pipeline step after `calibrate`: reads the scale bar's label with the OCR engine when the file gave no pixel
 * size. The bar candidates (scalebar.ts: the reported bar first, then bars on micrograph texture that only a read
 * label can confirm) are tried in order, and around each the text lines nearest first; the first line that parses
 * as a label whose value over the bar's length is a plausible pixel size wins. The crops are cut here and read by
 * `findLabel`, in this thread (CLI, tests) or in another one (the browser's label worker, via LabelPlanReader).
 */
import type { GreyF32 } from '../raster';
import type { ScaleBarReading } from '../types';
import { calibrationFromScaleBar, type CalibrateResult } from './index';
import { readLabelCrop, stretchCrop, type GreyU8, type LabelRead, type LineRecognizer } from './label-ocr';
import { isPlausiblePixelNm, toNm } from './metadata';

/** Margin around a text line's box, in line heights: the engine wants some ground around the letters. */
const LINE_MARGIN = 0.35;
/**
 * Text lines read at most per image (each is two label-network runs and maybe engine calls): bounds the time on a
 * bar-less image. A reported bar's lines come first (at most MAX_LABEL_LINES, 6, per bar). On the 366 EMPS
 * figures no label was read past an image's 3rd line (both halves); 16 read the same labels.
 */
const MAX_LINES_READ = 8;
/**
 * Of those, lines of bars that only a read label can confirm (bars on micrograph texture). A bar-less micrograph
 * offers many such lines (particles line up like glyphs), each two label-network runs that compete with the
 * segmentation network for the CPU. On the EMPS figures every label read for such a bar was among the first 3 of
 * these lines (even half, where this was chosen: 42 reads; odd half: 34, the same).
 */
export const MAX_UNCONFIRMED_LINES = 4;
/**
 * Engine calls at most per image for bar candidates that only a read label could confirm (bars on micrograph
 * texture). A label is read in about 7 calls (real crops: 6.9 on average); a bar-less image of textured ground
 * had offered 16 lines that read as nothing in every view, about 150 calls (seconds in the app). A reported bar
 * (in a banner, on a drawn box) is read without this limit: a JEOL banner's bar label is its 4th-6th text line,
 * 36-52 calls on semseg_sem. A per-crop give-up for every crop after the first views lost reads: on the real
 * crops, giving up after 4 calls without a label read 222 of 252 (242 without), and one of the 40 rendered bars
 * on micrograph texture. Unconfirmed bars alone give a crop up after CONFIRMING_VIEWS (5) calls that parse as
 * nothing (label-ocr.ts), so their MAX_LINES_READ lines reach this budget only when views parse to labels the
 * bar's length makes implausible.
 */
export const MAX_ENGINE_CALLS = 40;

/**
 * The crops of every label line that may be read, bar by bar in the order they are tried: plain data (numbers and
 * byte arrays), so it can be handed to another thread (the browser's label worker) as it is.
 */
export interface LabelPlan {
  bars: {
    /** The bar's length in pixels: a read value over it must be a plausible pixel size. */
    lengthPx: number;
    /** A reported bar (banner, drawn box) is read without the engine budget and the per-crop give-up. */
    reported: boolean;
    crops: GreyU8[];
  }[];
}

/** The first plausible label of a plan: the index of its bar and the reading. */
export interface FoundLabel {
  bar: number;
  read: LabelRead;
}

/**
 * Reads a plan's labels elsewhere and gives the same answer as `findLabel` would (the browser runs findLabel in
 * a worker of its own, so the reading goes on while the analysis worker is busy with the network).
 */
export interface LabelPlanReader {
  findLabel(plan: LabelPlan): Promise<FoundLabel | null>;
}

export function readBarLabel(
  grey: GreyF32,
  cal: CalibrateResult,
  reader: LineRecognizer | LabelPlanReader | undefined,
): Promise<CalibrateResult> {
  return reader ? readLabelPlan(cutLabelPlan(grey, cal), cal, reader) : Promise.resolve(cal);
}

/**
 * Every crop that may be read, cut from the grey image, so the caller can drop that image (a quarter gigabyte at
 * 8192 x 8192) and segment while the engine reads: the crops are a few small lines. Null when the file gave the
 * pixel size (nothing to read).
 */
export function cutLabelPlan(grey: GreyF32, cal: CalibrateResult): LabelPlan | null {
  const source = cal.calibration.source;
  if (source === 'metadata' || source === 'manual') return null;
  const plan: LabelPlan = { bars: [] };
  let lines = 0;
  let unconfirmed = 0;
  for (const cand of cal.barCandidates) {
    const crops: GreyU8[] = [];
    for (const line of cand.labelLines) {
      if (lines++ >= MAX_LINES_READ) break;
      if (!cand.reported && unconfirmed++ >= MAX_UNCONFIRMED_LINES) break;
      const m = Math.max(2, Math.round((line.y1 - line.y0) * LINE_MARGIN));
      crops.push(stretchCrop(grey, { x0: line.x0 - m, y0: line.y0 - m, x1: line.x1 + m, y1: line.y1 + m }));
    }
    plan.bars.push({ lengthPx: cand.reading.lengthPx, reported: cand.reported, crops });
  }
  return plan;
}

/** `cal` with the label of `plan` (cut from the same image) read: its bar's pixel size, when one is plausible. */
export function readLabelPlan(
  plan: LabelPlan | null,
  cal: CalibrateResult,
  reader: LineRecognizer | LabelPlanReader | undefined,
): Promise<CalibrateResult> {
  if (!plan || !reader) return Promise.resolve(cal);
  const found = 'findLabel' in reader ? reader.findLabel(plan) : findLabel(plan, reader);
  return found.then((f) => (f ? withLabel(cal, cal.barCandidates[f.bar]!.reading, f.read) : cal));
}

/** The calibration a read label gives its bar. */
function withLabel(cal: CalibrateResult, bar: ScaleBarReading, read: LabelRead): CalibrateResult {
  const scaleBar: ScaleBarReading = {
    ...bar,
    value: read.value,
    unit: read.unit,
    text: read.text,
    readBy: read.readBy,
  };
  const by = { ocr: ' (OCR)', 'ocr+net': ' (OCR engine and label network)', net: ' (label network)' }[
    read.readBy
  ];
  const { calibration, note } = calibrationFromScaleBar(scaleBar, cal.calibration.instrument, by);
  return { ...cal, scaleBar, calibration, barNote: note };
}

/** Tries the plan's crops in order; the first label whose value over its bar is a plausible pixel size wins. */
export async function findLabel(plan: LabelPlan, recognizer: LineRecognizer): Promise<FoundLabel | null> {
  let speculative = 0;
  let limited = false;
  const counted: LineRecognizer = {
    labelReader: recognizer.labelReader,
    recognizeLine: (img) => {
      if (!limited) return recognizer.recognizeLine(img);
      // Past the budget every view reads as nothing: the crop's loop ends without the engine.
      if (speculative >= MAX_ENGINE_CALLS) return Promise.resolve({ text: '', confidence: 0 });
      speculative++;
      return recognizer.recognizeLine(img);
    },
  };
  for (let b = 0; b < plan.bars.length; b++) {
    const { lengthPx, reported, crops } = plan.bars[b]!;
    limited = !reported;
    for (const crop of crops) {
      if (limited && speculative >= MAX_ENGINE_CALLS) return null;
      const read = await readLabelCrop(counted, crop, { confirming: limited });
      if (!read) continue;
      if (!isPlausiblePixelNm(toNm(read.value, read.unit)! / lengthPx)) continue;
      return { bar: b, read };
    }
  }
  return null;
}
