/**
 * Reads a scale-bar label with a real OCR engine (tesseract.js, behind the `LineRecognizer` interface so core
 * stays free of the engine and its loading, which differ between the browser worker and Node).
 *
 * Real labels come in every font and on every ground (journal figures, TEM exports, SEM data bars), so one
 * rendering of a crop is not enough: the crop is turned into a few single-line views — contrast-stretched grey
 * and Otsu-binarised, dark ink on white, upscaled so the text is about 40 px tall, padded — each view is read,
 * each reading parsed as "<number> <unit>", and the readings vote (ties go to the engine's confidence).
 */
import type { LengthUnit } from '../types';
import { components, parseScaleLabel, type ParsedLabel } from './ocr';
import type { LabelReader } from './label-net';

/** 8-bit grey image handed to the engine: dark text on a white ground. */
export interface GreyU8 {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface RecognizedLine {
  text: string;
  /** Engine confidence, 0-100. */
  confidence: number;
}

/** One line of text in, its reading out. Implementations: src/worker/ocr-engine.ts, src/cli/ocr-engine.ts. */
export interface LineRecognizer {
  recognizeLine(img: GreyU8): Promise<RecognizedLine>;
  /** SAEMI's own label network (label-net.ts), read once per crop beside the engine's views. */
  readonly labelReader?: LabelReader;
  /**
   * Loads what a first reading needs (the engine, the label network) now, so that the first image with a scale
   * bar does not wait for it; resolves when loaded, never rejects (a failed load is retried by the reading).
   */
  warm?(): Promise<void>;
}

/** Characters a scale-bar label is written in; 'p' and 'µ'/'μ' because "µm" is often read as "pm" or "μm". */
export const LABEL_CHARSET = '0123456789.,nmuµμp ';

/** Crop of a grey image, in pixels (x1, y1 exclusive). */
export interface CropBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export type LabelReadBy = 'ocr' | 'ocr+net' | 'net';

export interface LabelRead extends ParsedLabel {
  /** Votes of the views that agreed / views read. */
  votes: number;
  views: number;
  confidence: number;
  raw: string;
  /** Who voted for this result: engine views, the label network, or both. */
  readBy: LabelReadBy;
}

const MIN_VIEW_HEIGHT = 60;
const PAD = 10;
/** Height the main text line is scaled to in the line views (lineView). */
const LINE_HEIGHT = 48;
/** Rows with at least this fraction of the peak row's ink belong to a text band. */
const BAND_LEVEL = 0.15;
/** Parsed views that, all agreeing, settle a crop. */
const UNANIMOUS = 4;
/**
 * Views the engine reads of a crop that only its label could confirm (a bar on micrograph texture) before giving
 * up when none has parsed (views with no ink are not read and not counted). On the journal figures
 * (bench/real-figures-ocr.ts, the even half by name) such labels parsed by the 5th view read at the latest, and
 * the one read later (15th) was wrong ("3000 um" for 200 µm); crops of texture read as nothing in all ~15 views,
 * about 40 ms each. The odd half kept its 53 reads with 166 engine calls instead of 243.
 */
export const CONFIRMING_VIEWS = 5;
/** Weight of a reading whose value is a usual scale-bar value (1, 2, 2.5, 3, 4, 5 times a power of ten). */
const USUAL_VALUE_WEIGHT = 2;

/** Crop of `src` (any numeric values) stretched to 0-255 between its 1st and 99th percentile. */
export function stretchCrop(
  src: { width: number; height: number; data: ArrayLike<number> },
  box: CropBox,
): GreyU8 {
  const x0 = Math.max(0, Math.floor(box.x0));
  const y0 = Math.max(0, Math.floor(box.y0));
  const x1 = Math.min(src.width, Math.ceil(box.x1));
  const y1 = Math.min(src.height, Math.ceil(box.y1));
  const w = Math.max(0, x1 - x0);
  const h = Math.max(0, y1 - y0);
  const vals = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) vals[y * w + x] = src.data[(y0 + y) * src.width + x0 + x]!;
  const sorted = vals.slice().sort();
  const lo = sorted[Math.floor(sorted.length * 0.01)] ?? 0;
  const hi = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  const out = new Uint8Array(w * h);
  const span = hi - lo;
  for (let i = 0; i < out.length; i++) {
    const t = span > 0 ? (vals[i]! - lo) / span : 0.5;
    out[i] = Math.round(255 * Math.min(1, Math.max(0, t)));
  }
  return { width: w, height: h, data: out };
}

/** Bilinear resize of an 8-bit image. */
export function resizeU8(img: GreyU8, w: number, h: number): GreyU8 {
  const out = new Uint8Array(w * h);
  const sx = img.width / w;
  const sy = img.height / h;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(img.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(img.height - 1, y0 + 1);
    const ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(img.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(img.width - 1, x0 + 1);
      const tx = fx - x0;
      const a = img.data[y0 * img.width + x0]! * (1 - tx) + img.data[y0 * img.width + x1]! * tx;
      const b = img.data[y1 * img.width + x0]! * (1 - tx) + img.data[y1 * img.width + x1]! * tx;
      out[y * w + x] = Math.round(a * (1 - ty) + b * ty);
    }
  }
  return { width: w, height: h, data: out };
}

function padWith(img: GreyU8, pad: number, value: number): GreyU8 {
  const w = img.width + 2 * pad;
  const h = img.height + 2 * pad;
  const out = new Uint8Array(w * h).fill(value);
  for (let y = 0; y < img.height; y++)
    out.set(img.data.subarray(y * img.width, (y + 1) * img.width), (y + pad) * w + pad);
  return { width: w, height: h, data: out };
}

/** Crop scaled (bilinear) so it is at least `minHeight` px tall: small print reads better upscaled. */
function atLeast(img: GreyU8, minHeight: number): GreyU8 {
  if (img.height >= minHeight) return img;
  const s = minHeight / img.height;
  return resizeU8(img, Math.max(1, Math.round(img.width * s)), minHeight);
}

/** Median of the crop's border pixels: the ground the label sits on. */
function borderMedian(img: GreyU8): number {
  const { width: w, height: h, data } = img;
  const hist = new Uint32Array(256);
  let n = 0;
  for (let x = 0; x < w; x++) {
    hist[data[x]!]++;
    hist[data[(h - 1) * w + x]!]++;
    n += 2;
  }
  for (let y = 1; y < h - 1; y++) {
    hist[data[y * w]!]++;
    hist[data[y * w + w - 1]!]++;
    n += 2;
  }
  let acc = 0;
  for (let v = 0; v < 256; v++) if ((acc += hist[v]!) * 2 >= n) return v;
  return 255;
}

/**
 * Ink of one polarity: pixels within `frac` of the way from the extreme level (2nd/98th percentile) to the
 * median. Label text is drawn in one flat colour at the extreme, while the micrograph behind it (particles,
 * texture) spans the levels between, so this keeps the letters and drops most of the ground.
 */
function inkMask(img: GreyU8, darkInk: boolean, frac: number): Uint8Array {
  const hist = new Uint32Array(256);
  for (let i = 0; i < img.data.length; i++) hist[img.data[i]!]++;
  const q = (p: number): number => {
    const target = p * img.data.length;
    let acc = 0;
    for (let v = 0; v < 256; v++) if ((acc += hist[v]!) > target) return v;
    return 255;
  };
  const med = q(0.5);
  const ext = darkInk ? q(0.02) : q(0.98);
  const t = ext + (med - ext) * frac;
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i]!;
    out[i] = (darkInk ? v <= t : v >= t) ? 1 : 0;
  }
  return out;
}

/** A mask drawn black on white, as the engine reads best. */
function inkView(img: GreyU8, mask: Uint8Array, keep?: (id: number) => boolean, labels?: Int32Array): GreyU8 {
  const out = new Uint8Array(mask.length).fill(255);
  for (let i = 0; i < out.length; i++) if (mask[i] && (!keep || keep(labels![i]!))) out[i] = 0;
  return { width: img.width, height: img.height, data: out };
}

/**
 * The ink with what is not letter-like removed: pieces far taller or wider than the typical glyph (particles,
 * edges of the micrograph), specks, and with `dropBorder` everything cut by the crop's edge (texture reaching in).
 */
function cleanInk(img: GreyU8, darkInk: boolean, frac: number, dropBorder: boolean): GreyU8 {
  const { width: W, height: H } = img;
  const mask = inkMask(img, darkInk, frac);
  const labels = new Int32Array(W * H);
  const comps = components(mask, W, H, labels);
  const heights = comps
    .filter((k) => k.area >= 4 && k.y1 - k.y0 >= 0.25 * H && k.y1 - k.y0 <= 0.95 * H)
    .map((k) => k.y1 - k.y0)
    .sort((a, b) => a - b);
  const glyphH = heights[heights.length >> 1] ?? H * 0.6;
  const keep = new Uint8Array(comps.length + 1);
  for (const k of comps) {
    const h = k.y1 - k.y0;
    const w = k.x1 - k.x0;
    const cut = k.x0 === 0 || k.y0 === 0 || k.x1 === W || k.y1 === H;
    const speck = h < glyphH * 0.15 && w < glyphH * 0.15 && k.area < 3;
    keep[k.id] =
      h <= glyphH * 1.6 && w <= glyphH * 3 && k.area >= 2 && !speck && !(dropBorder && cut) ? 1 : 0;
  }
  return inkView(img, mask, (id) => keep[id] === 1, labels);
}

/** Median of all the crop's pixels. */
function medianLevel(img: GreyU8): number {
  const hist = new Uint32Array(256);
  for (let i = 0; i < img.data.length; i++) hist[img.data[i]!]++;
  let acc = 0;
  for (let v = 0; v < 256; v++) if ((acc += hist[v]!) * 2 >= img.data.length) return v;
  return 255;
}

/**
 * Rows [y0, y1) of the crop's main text line: the rows holding ink of one polarity, runs longer than a third of
 * the width (a bar, a frame, a box edge) left out, and of the bands of such rows (one-row gaps bridged) the one
 * holding the most ink.
 */
export function textBand(img: GreyU8, darkInk: boolean): [number, number] | null {
  const { width: W, height: H } = img;
  const mask = inkMask(img, darkInk, 0.5);
  const profile = new Float32Array(H);
  let peak = 0;
  for (let y = 0; y < H; y++) {
    let x = 0;
    while (x < W) {
      if (!mask[y * W + x]) {
        x++;
        continue;
      }
      const s = x;
      while (x < W && mask[y * W + x]) x++;
      if (x - s < W / 3) profile[y] += x - s;
    }
    peak = Math.max(peak, profile[y]!);
  }
  if (!(peak > 0)) return null;
  const low = BAND_LEVEL * peak;
  let best: [number, number] | null = null;
  let bestInk = 0;
  let y = 0;
  while (y < H) {
    if (profile[y]! < low) {
      y++;
      continue;
    }
    const s = y;
    let ink = 0;
    while (y < H && (profile[y]! >= low || (y + 1 < H && profile[y + 1]! >= low))) ink += profile[y++]!;
    if (ink > bestInk) {
      bestInk = ink;
      best = [s, y];
    }
  }
  return best;
}

/**
 * The main text line alone (textBand, with a margin), scaled so the line is LINE_HEIGHT px tall, its ink cleaned:
 * a bar or micrograph detail above or below the label no longer competes with it, and small print gets the size
 * the engine reads best.
 */
function lineView(crop: GreyU8, darkInk: boolean, frac: number): GreyU8 | null {
  const band = textBand(crop, darkInk);
  if (!band || band[1] - band[0] < 3) return null;
  const h = band[1] - band[0];
  const m = Math.max(1, Math.round(h * 0.25));
  const y0 = Math.max(0, band[0] - m);
  const y1 = Math.min(crop.height, band[1] + m);
  const rows = {
    width: crop.width,
    height: y1 - y0,
    data: crop.data.subarray(y0 * crop.width, y1 * crop.width),
  };
  const s = LINE_HEIGHT / h;
  const big = resizeU8(
    rows,
    Math.max(1, Math.round(rows.width * s)),
    Math.max(1, Math.round(rows.height * s)),
  );
  return padWith(cleanInk(big, darkInk, frac, false), PAD, 255);
}

/** True when the crop is large enough for labelViews to make any view of it. */
function hasViews(crop: GreyU8): boolean {
  return crop.width >= 2 && crop.height >= 2;
}

/**
 * The views of one label crop the engine reads: the stretched crop as it is (the engine finds the polarity
 * itself), twice as large, padded with its ground (border median, overall median) so letters touching the crop
 * edge are whole; and, upscaled to at least MIN_VIEW_HEIGHT px, each polarity's ink at the extreme level, plain
 * and cleaned of what is not letter-like; the main text line alone at a fixed height; the ink nearest the extreme
 * level, of the crop and of the line alone. The set was chosen on the even half of the real label crops
 * (bench/real-ocr.ts, by name): each view there adds correct reads the others miss (the last three pairs won over
 * top-hat, Sauvola, opened, dilated, eroded, median-filtered and other rescaled views, which added none). The
 * crops hold dark text only, so every ink view also has its light-text twin, which real data bars (white on
 * black) need. Views are read in this order until the vote is decided, so the later ones cost only on hard crops.
 */
export function labelViews(crop: GreyU8): GreyU8[] {
  if (!hasViews(crop)) return [];
  const big = atLeast(crop, MIN_VIEW_HEIGHT);
  const views = [
    crop,
    padWith(crop, PAD, borderMedian(crop)),
    padWith(crop, PAD, medianLevel(crop)),
    resizeU8(crop, crop.width * 2, crop.height * 2),
  ];
  for (const darkInk of [true, false]) {
    views.push(padWith(inkView(big, inkMask(big, darkInk, 0.5)), PAD, 255));
    views.push(padWith(cleanInk(big, darkInk, 0.35, false), PAD, 255));
    views.push(padWith(cleanInk(big, darkInk, 0.5, true), PAD, 255));
  }
  for (const darkInk of [true, false]) {
    const line = lineView(crop, darkInk, 0.35);
    if (line) views.push(line);
  }
  // Ink close to the extreme level only: letters that touch a particle or a grain of nearly their own level; then
  // the same for the text line alone.
  for (const darkInk of [true, false]) views.push(padWith(cleanInk(big, darkInk, 0.2, false), PAD, 255));
  for (const darkInk of [true, false]) {
    const line = lineView(crop, darkInk, 0.2);
    if (line) views.push(line);
  }
  return views;
}

/** Canonical key of a parsed label, for voting: "0.5|um". */
function key(p: { value: number; unit: LengthUnit }): string {
  return `${Number(p.value.toPrecision(6))}|${p.unit}`;
}

/**
 * Engine text -> scale label: the engine's µ/μ/p/u (and "pu") confusions before "m" all mean micrometres, "nn" is
 * nm with its last stroke lost, and a space after a decimal point is dropped.
 */
export function parseEngineText(text: string): ParsedLabel | null {
  const t = text
    .replace(/[\r\n]+/g, ' ')
    // "20. 0um": a space the engine put after a decimal point.
    .replace(/([0-9])[.,]\s+([0-9])/g, '$1.$2')
    .replace(/([0-9])\s*(?:p\s*u|[pµμ])\s*m/gi, '$1 um')
    .replace(/([0-9])\s*u\s+m\b/gi, '$1 um')
    // "nn": the last stroke of the m lost.
    .replace(/([0-9])\s*(?:n\s*n|n\s+m)\b/gi, '$1 nm');
  return parseScaleLabel(t);
}

/**
 * Reads one label crop: the label network's reading first (when the recogniser has one; it votes with its
 * weight), then every view by the engine until the vote is decided; parsed readings vote. Null when nothing
 * parses, and at once, without the engine, when the network is sure the crop holds no label, or, with
 * `confirming` (the label is all that would confirm its bar), when the network saw nothing likely a digit; with
 * `confirming`, also when the first CONFIRMING_VIEWS views parse as nothing.
 */
export async function readLabelCrop(
  recognizer: LineRecognizer,
  crop: GreyU8,
  { confirming = false }: { confirming?: boolean } = {},
): Promise<LabelRead | null> {
  interface Entry {
    p: ParsedLabel;
    votes: number;
    conf: number;
    score: number;
    raw: string;
  }
  const tally = new Map<string, Entry>();
  let netKey: string | null = null;
  const count = (r: RecognizedLine, weight: number): string | null => {
    const p = parseEngineText(r.text);
    if (!p) return null;
    // Each view is one vote; confidence only breaks ties between equal counts.
    const score = weight * (1 + r.confidence / 1000) * (isUsualValue(p.value) ? USUAL_VALUE_WEIGHT : 1);
    const k = key(p);
    const e = tally.get(k);
    if (e) {
      e.votes += weight;
      e.score += score;
      e.conf = Math.max(e.conf, r.confidence);
    } else tally.set(k, { p, votes: weight, conf: r.confidence, score, raw: r.text.trim() });
    return k;
  };
  const net = recognizer.labelReader && hasViews(crop) ? await recognizer.labelReader.read(crop) : null;
  if (net?.noLabel || (confirming && net?.unlikely)) return null;
  // Made only now: a crop the network turned away (most crops of a bar-less image) needs none of them.
  const views = labelViews(crop);
  const netWeight = recognizer.labelReader?.weight ?? 0;
  if (net?.line) netKey = count(net.line, netWeight);
  const netEntry = netKey === null ? undefined : tally.get(netKey);
  let read = 0;
  for (let n = 0; n < views.length; n++) {
    if (decided(tally, views.length - n)) break;
    if (confirming && read >= CONFIRMING_VIEWS && tally.size === 0) break;
    // A view with no ink left (all cleaned away) has nothing to read.
    if (!views[n]!.data.some((v) => v < 128)) continue;
    count(await recognizer.recognizeLine(views[n]!), 1);
    read++;
  }
  let best: Entry | null = null;
  for (const e of tally.values()) if (!best || e.score > best.score) best = e;
  if (!best) return null;
  const fromNet = netEntry === best;
  const readBy: LabelReadBy = !fromNet ? 'ocr' : best.votes > netWeight ? 'ocr+net' : 'net';
  return { ...best.p, votes: best.votes, views: views.length, confidence: best.conf, raw: best.raw, readBy };
}

/**
 * True once no reading could overtake the leader with the views left (each adds at most one weighted vote), or
 * once UNANIMOUS views read the same and none read anything else: the later views are there for hard crops, and
 * on the real crops (tune half) reading on past such agreement changed no result.
 */
function decided(tally: Map<string, { score: number; votes: number }>, left: number): boolean {
  if (tally.size === 1 && tally.values().next().value!.votes >= UNANIMOUS) return true;
  let first = 0;
  let second = 0;
  for (const e of tally.values()) {
    if (e.score > first) {
      second = first;
      first = e.score;
    } else if (e.score > second) second = e.score;
  }
  return first > 0 && first > second + left * USUAL_VALUE_WEIGHT * 1.1;
}

/** 1, 2, 2.5, 3, 4 or 5 times a power of ten: the values scale bars are drawn for. */
export function isUsualValue(v: number): boolean {
  if (!(v > 0) || !Number.isFinite(v)) return false;
  const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  return [1, 2, 2.5, 3, 4, 5].some((u) => Math.abs(m - u) < 1e-6);
}
