/**
 * Pipeline step after `calibrate`: reads the scale bar's label with the OCR engine when the file gave no pixel
 * size. The bar candidates (scalebar.ts: the reported bar first, then bars on micrograph texture that only a read
 * label can confirm) are tried in order, and around each the text lines nearest first; the first line that parses
 * as a label whose value over the bar's length is a plausible pixel size wins. The engine is only started when a
 * label must be read, so images calibrated by their metadata never load it.
 */
import type { GreyF32 } from '../raster';
import type { ScaleBarReading } from '../types';
import { calibrationFromScaleBar, type CalibrateResult } from './index';
import { readLabelCrop, stretchCrop, type GreyU8, type LineRecognizer } from './label-ocr';
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

/** A bar candidate and the crops of its label lines, cut before the engine reads them. */
interface PlannedBar {
  cand: CalibrateResult['barCandidates'][number];
  crops: GreyU8[];
}

export function readBarLabel(
  grey: GreyF32,
  cal: CalibrateResult,
  recognizer: LineRecognizer | undefined,
): Promise<CalibrateResult> {
  const source = cal.calibration.source;
  if (!recognizer || source === 'metadata' || source === 'manual') return Promise.resolve(cal);
  // Every crop that may be read is cut now, so the caller can drop the grey image (a quarter gigabyte at
  // 8192 x 8192) and segment while the engine reads: the crops are a few small lines.
  const plan: PlannedBar[] = [];
  let lines = 0;
  for (const cand of cal.barCandidates) {
    const crops: GreyU8[] = [];
    for (const line of cand.labelLines) {
      if (lines++ >= MAX_LINES_READ) break;
      const m = Math.max(2, Math.round((line.y1 - line.y0) * LINE_MARGIN));
      crops.push(stretchCrop(grey, { x0: line.x0 - m, y0: line.y0 - m, x1: line.x1 + m, y1: line.y1 + m }));
    }
    plan.push({ cand, crops });
  }
  return readPlanned(cal, plan, recognizer);
}

async function readPlanned(
  cal: CalibrateResult,
  plan: PlannedBar[],
  recognizer: LineRecognizer,
): Promise<CalibrateResult> {
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
  for (const { cand, crops } of plan) {
    const bar = cand.reading;
    limited = !cand.reported;
    for (const crop of crops) {
      if (limited && speculative >= MAX_ENGINE_CALLS) return cal;
      const read = await readLabelCrop(counted, crop, { confirming: limited });
      if (!read) continue;
      if (!isPlausiblePixelNm(toNm(read.value, read.unit)! / bar.lengthPx)) continue;
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
  }
  return cal;
}
