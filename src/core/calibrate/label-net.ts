/**
 * SAEMI's own scale-bar label reader: a small line network (convolutions and a BiLSTM, models/train/label_crnn.py)
 * trained with CTC on labels rendered in Debian's fonts on microscope-like grounds. Its reading is the first vote
 * in readLabelCrop (with the sidecar's weight: a sure reading settles the label without the engine). It spells
 * any character a label does not have as "?", so other data-bar text ("5.0kV") does not parse as a label. The
 * running of the network is behind `LineNetRunner` (the browser worker and Node load ONNX Runtime differently);
 * the line making and the decoding are here.
 */
import { netLine, type LineGeometry } from './label-line';
import { parseEngineText, type GreyU8, type RecognizedLine } from './label-ocr';
import { isNativeOrt, type OrtModuleLike } from '../segment/ort-backend';

/** The sidecar of the label network (models/saemi-label.json). */
export interface LabelNetSpec {
  /** Characters of the output classes 1..n (class 0 is the CTC blank). */
  charset: string;
  line: LineGeometry;
  /** Weight of the network's reading in the vote, in engine views. */
  voteWeight: number;
  /** Readings less confident than this (0-100) are not counted; a reading at least this sure that does not parse
   * as a label (other text: "5.0kV" read "5.0??") tells that the crop holds none. */
  minConfidence: number;
  /** A crop in which no step gives any digit this much probability (0-1), in either polarity, holds no label. */
  minDigitProbability: number;
  /**
   * For a bar that only its read label can confirm (one on micrograph texture, where particles and edges also
   * make straight runs): the engine reads a crop only where some step gives a digit at least this probability.
   * On journal figures every such label read had 0.78 or more, while texture crops cost most engine calls.
   */
  unconfirmedBarMinDigitProbability: number;
}

/** What the network makes of a crop: its label reading, if sure enough, or that the crop holds no label (then
 * the engine need not read it). */
export interface LabelNetRead {
  line: RecognizedLine | null;
  noLabel: boolean;
  /** No digit as probable as `unconfirmedBarMinDigitProbability`: not worth the engine for an unconfirmed bar. */
  unlikely: boolean;
}

export interface LineNetRunner {
  /** One line ([1, 1, height, width] floats in 0-1) in, log probabilities [steps, classes] out. */
  run(line: Float32Array, width: number, height: number): Promise<{ logp: Float32Array; steps: number }>;
}

/** Best path: the most likely class per step, repeats merged, blanks dropped. Confidence 0-100: the mean
 * probability of the characters kept. */
export function ctcGreedy(logp: Float32Array, steps: number, charset: string): RecognizedLine {
  const classes = charset.length + 1;
  let text = '';
  let probSum = 0;
  let prev = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logp[t * classes + k]! > logp[t * classes + best]!) best = k;
    if (best !== 0 && best !== prev) {
      text += charset[best - 1];
      probSum += Math.exp(logp[t * classes + best]!);
    }
    prev = best;
  }
  return { text, confidence: text ? (100 * probSum) / text.length : 0 };
}

/** The highest probability any digit gets at any step: near 0 where the line holds nothing like a number. */
export function maxDigitProbability(logp: Float32Array, steps: number, charset: string): number {
  const classes = charset.length + 1;
  const digits: number[] = [];
  for (let k = 0; k < charset.length; k++) if (charset[k]! >= '0' && charset[k]! <= '9') digits.push(k + 1);
  let m = -Infinity;
  for (let t = 0; t < steps; t++) for (const k of digits) m = Math.max(m, logp[t * classes + k]!);
  return Math.exp(m);
}

/** The network's reading of a crop in one polarity (the network reads dark and light ink alike; the crop's
 * negative is read too, the caller keeps the more confident parse). */
export async function readLineWithNet(
  runner: LineNetRunner,
  spec: LabelNetSpec,
  crop: GreyU8,
): Promise<(RecognizedLine & { digitProbability: number }) | null> {
  const line = netLine(crop, spec.line);
  if (!line) return null;
  const x = new Float32Array(line.data.length);
  for (let i = 0; i < x.length; i++) x[i] = line.data[i]! / 255;
  const { logp, steps } = await runner.run(x, line.width, line.height);
  return {
    ...ctcGreedy(logp, steps, spec.charset),
    digitProbability: maxDigitProbability(logp, steps, spec.charset),
  };
}

export function negative(img: GreyU8): GreyU8 {
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = 255 - img.data[i]!;
  return { width: img.width, height: img.height, data };
}

/** A reader of whole label crops beside the engine's views: its reading votes in readLabelCrop with `weight`. */
export interface LabelReader {
  weight: number;
  read(crop: GreyU8): Promise<LabelNetRead>;
  /** Loads the network now rather than at the first read (see LineRecognizer.warm). */
  warm?(): Promise<void>;
}

const UNSURE: LabelNetRead = { line: null, noLabel: false, unlikely: false };

/**
 * The network as a label reader: the crop is read as it is and (unless that is a sure label) as its negative,
 * and the more confident reading that parses as a label is kept (none below the sidecar's minimum confidence: a
 * reading that unsure is as likely to be a bar-less crop's noise read as digits). Where neither polarity parses,
 * the crop is taken to hold no label when the network is sure of that: it gave no step any digit (a line of
 * words or texture), or it read other text with at least the minimum confidence. On real crops
 * (bench/real-ocr.ts) neither said so of a label the engine can read; on journal figures they spare about half
 * the engine calls spent on bars that are not.
 */
export function netLabelReader(runner: LineNetRunner, spec: LabelNetSpec): LabelReader {
  return {
    weight: spec.voteWeight,
    async read(crop) {
      let read = false;
      let digit = 0;
      let otherText = false;
      let best: RecognizedLine | null = null;
      for (const img of [crop, negative(crop)]) {
        const r = await readLineWithNet(runner, spec, img);
        if (!r) continue;
        read = true;
        digit = Math.max(digit, r.digitProbability);
        const sure = r.confidence >= spec.minConfidence;
        if (!parseEngineText(r.text)) otherText ||= sure;
        else if (!best || r.confidence > best.confidence) best = r;
        // A sure label as the crop is: its negative need not be read.
        if (best === r && sure) break;
      }
      if (!read) return UNSURE;
      const unlikely = digit < spec.unconfirmedBarMinDigitProbability;
      if (best)
        return { line: best.confidence >= spec.minConfidence ? best : null, noLabel: false, unlikely };
      return { line: null, noLabel: digit < spec.minDigitProbability || otherText, unlikely };
    },
  };
}

/**
 * A reader loaded on its first use (labels are read only for images without a pixel size in their metadata); a
 * failed load is reported once through `onError` and the engine reads alone from then on.
 */
export function lazyLabelReader(
  weight: number,
  load: () => Promise<LabelReader>,
  onError: (e: unknown) => void,
): LabelReader {
  let loading: Promise<LabelReader | null> | null = null;
  const loaded = (): Promise<LabelReader | null> =>
    (loading ??= load().catch((e: unknown) => {
      onError(e);
      return null;
    }));
  return {
    weight,
    async read(crop) {
      const r = await loaded();
      return r ? r.read(crop) : UNSURE;
    },
    async warm() {
      await loaded();
    },
  };
}

/** The sidecar checked: what is wrong with it, or null. */
export function labelNetSpecProblem(s: unknown): string | null {
  if (!s || typeof s !== 'object') return 'not an object';
  const o = s as Record<string, unknown>;
  if (typeof o.charset !== 'string' || o.charset.length === 0) return 'charset missing';
  const l = o.line as Record<string, unknown> | undefined;
  for (const k of ['height', 'stride', 'minWidth', 'maxWidth'] as const)
    if (!l || !Number.isInteger(l[k]) || (l[k] as number) <= 0) return `line.${k} missing`;
  for (const k of [
    'voteWeight',
    'minConfidence',
    'minDigitProbability',
    'unconfirmedBarMinDigitProbability',
  ] as const)
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) return `${k} missing`;
  return null;
}

/** onnxruntime (web or node) as the network's runner; the module is passed in, as for the segmentation model. */
export async function createOrtLineRunner(
  ort: OrtModuleLike,
  modelBytes: Uint8Array,
  input = 'line',
  output = 'logp',
): Promise<LineNetRunner> {
  const session = await ort.InferenceSession.create(modelBytes, {
    executionProviders: [isNativeOrt(ort) ? 'cpu' : 'wasm'],
    graphOptimizationLevel: 'all',
  });
  if (!session.inputNames.includes(input) || !session.outputNames.includes(output))
    throw new Error(`label network: expected input "${input}" and output "${output}"`);
  return {
    async run(line, width, height) {
      const t = new ort.Tensor('float32', line, [1, 1, height, width]);
      const res = await session.run({ [input]: t });
      const o = res[output]!;
      if (!(o.data instanceof Float32Array)) throw new Error('label network: output is not float32');
      const logp = new Float32Array(o.data);
      const steps = o.dims[1]!;
      o.dispose?.();
      t.dispose?.();
      return { logp, steps };
    },
  };
}
