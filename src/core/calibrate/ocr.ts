/**
 * OCR for scale-bar labels: a tiny vocabulary (digits, '.', ',', n, m, u, µ, p, plus '=' and ':' so that
 * "WD = 4.2 mm"-style banner fields can be told apart from a label) read by normalised template matching
 * against the bundled bitmap font (font.ts), so it works offline with no trained data.
 *
 * Steps: connected components of a binary ink mask (8-connected), grouped into text lines by vertical overlap,
 * glyphs merged when their columns overlap ('=' and ':' are two pieces). The line's cap top and digit height give
 * the font scale; each glyph is resampled to a fixed grid and compared with every template of the vocabulary
 * (area-fraction similarity), with its height/position relative to the cap line and its aspect ratio as extra
 * evidence. Glyphs that match nothing well become '?'.
 */
import { BASELINE, CAP_HEIGHT, CELL_HEIGHT, glyphFor, type Glyph } from './font';

export const OCR_VOCABULARY = '0123456789.,nmuµp=:';

const GW = 8;
const GH = 12;
const MIN_SCORE = 0.7;

interface Template {
  char: string;
  /** Tight box in font units: top/bottom rows relative to the cap top, width/height. */
  top: number;
  bottom: number;
  w: number;
  h: number;
  grid: Float32Array;
}

function gridFromBits(
  bits: Uint8Array,
  stride: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
): Float32Array {
  const out = new Float32Array(GW * GH);
  // Area-average the box onto GW x GH cells by supersampling 4x4 per cell.
  const SS = 4;
  for (let gy = 0; gy < GH; gy++) {
    for (let gx = 0; gx < GW; gx++) {
      let sum = 0;
      for (let sy = 0; sy < SS; sy++) {
        const py = y0 + Math.min(h - 1, Math.floor(((gy * SS + sy + 0.5) / (GH * SS)) * h));
        for (let sx = 0; sx < SS; sx++) {
          const px = x0 + Math.min(w - 1, Math.floor(((gx * SS + sx + 0.5) / (GW * SS)) * w));
          sum += bits[py * stride + px]!;
        }
      }
      out[gy * GW + gx] = sum / (SS * SS);
    }
  }
  return out;
}

function buildTemplates(): Template[] {
  const out: Template[] = [];
  for (const [ch, bold] of [...OCR_VOCABULARY].flatMap((c) => [[c, false] as const, [c, true] as const])) {
    // Bold variants: many banners use bold faces, and thick strokes shift the area fractions a lot at small sizes.
    const g = bold ? emboldened(glyphFor(ch)) : glyphFor(ch);
    let x0 = g.width;
    let x1 = -1;
    let y0 = CELL_HEIGHT;
    let y1 = -1;
    for (let y = 0; y < CELL_HEIGHT; y++)
      for (let x = 0; x < g.width; x++)
        if (g.bits[y * g.width + x]) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    out.push({ char: ch, top: y0, bottom: y1 + 1, w, h, grid: gridFromBits(g.bits, g.width, x0, y0, w, h) });
  }
  return out;
}

function emboldened(g: Glyph): Glyph {
  const w = g.width + 1;
  const bits = new Uint8Array(w * CELL_HEIGHT);
  for (let y = 0; y < CELL_HEIGHT; y++)
    for (let x = 0; x < g.width; x++)
      if (g.bits[y * g.width + x]) {
        bits[y * w + x] = 1;
        bits[y * w + x + 1] = 1;
      }
  return { char: g.char, width: w, bits };
}

let TEMPLATES: Template[] | null = null;
function templates(): Template[] {
  return (TEMPLATES ??= buildTemplates());
}

/** A connected component: bounding box (inclusive-exclusive) and pixel count. */
export interface Component {
  id: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  area: number;
}

/** 8-connected components of a binary mask; labels written to `labels` (0 = background). */
export function components(mask: Uint8Array, W: number, H: number, labels: Int32Array): Component[] {
  labels.fill(0);
  const comps: Component[] = [];
  const stack: number[] = [];
  let next = 0;
  for (let i = 0; i < W * H; i++) {
    if (!mask[i] || labels[i]) continue;
    next++;
    const c: Component = { id: next, x0: W, y0: H, x1: 0, y1: 0, area: 0 };
    labels[i] = next;
    stack.push(i);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % W;
      const y = (p - x) / W;
      c.area++;
      if (x < c.x0) c.x0 = x;
      if (y < c.y0) c.y0 = y;
      if (x + 1 > c.x1) c.x1 = x + 1;
      if (y + 1 > c.y1) c.y1 = y + 1;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= W) continue;
          const q = yy * W + xx;
          if (mask[q] && !labels[q]) {
            labels[q] = next;
            stack.push(q);
          }
        }
      }
    }
    comps.push(c);
  }
  return comps;
}

export interface GlyphBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  ids: number[];
}

export interface TextLine {
  glyphs: GlyphBox[];
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Groups components into lines (vertical overlap, bounded horizontal gaps) and merges column-overlapping parts. */
export function groupLines(comps: Component[]): TextLine[] {
  const n = comps.length;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const sorted = comps.map((_, i) => i).sort((a, b) => comps[a]!.x0 - comps[b]!.x0);
  let hAll = 0;
  for (const c of comps) hAll = Math.max(hAll, c.y1 - c.y0);
  for (let ii = 0; ii < n; ii++) {
    const a = comps[sorted[ii]!]!;
    const ha = a.y1 - a.y0;
    for (let jj = ii + 1; jj < n; jj++) {
      const b = comps[sorted[jj]!]!;
      // Sorted by x0: once even the tallest glyph's gap is exceeded, nothing further right can join.
      if (b.x0 - a.x1 > 1.2 * hAll + 2) break;
      const hb = b.y1 - b.y0;
      // A word space is about 0.7 cap heights in this font, less in most others; wider gaps end the line.
      if (b.x0 - a.x1 > 1.2 * Math.max(ha, hb) + 2) continue;
      // Same line: vertical overlap. Parts of one glyph ('=' ':') join through their neighbours, then merge below.
      const ov = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      if (ov >= 0.5 * Math.min(ha, hb)) parent[find(sorted[ii]!)] = find(sorted[jj]!);
    }
  }
  const groups = new Map<number, Component[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(comps[i]!);
    else groups.set(r, [comps[i]!]);
  }
  const lines: TextLine[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.x0 - b.x0);
    const glyphs: GlyphBox[] = [];
    for (const c of g) {
      const last = glyphs[glyphs.length - 1];
      if (last) {
        const colOv = Math.min(last.x1, c.x1) - Math.max(last.x0, c.x0);
        if (colOv > 0.5 * Math.min(last.x1 - last.x0, c.x1 - c.x0)) {
          last.x0 = Math.min(last.x0, c.x0);
          last.x1 = Math.max(last.x1, c.x1);
          last.y0 = Math.min(last.y0, c.y0);
          last.y1 = Math.max(last.y1, c.y1);
          last.ids.push(c.id);
          continue;
        }
      }
      glyphs.push({ x0: c.x0, y0: c.y0, x1: c.x1, y1: c.y1, ids: [c.id] });
    }
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const gl of glyphs) {
      x0 = Math.min(x0, gl.x0);
      y0 = Math.min(y0, gl.y0);
      x1 = Math.max(x1, gl.x1);
      y1 = Math.max(y1, gl.y1);
    }
    lines.push({ glyphs, x0, y0, x1, y1 });
  }
  return lines;
}

export interface LineReading {
  text: string;
  /** Per character (spaces included) the match score, 1 for spaces. */
  scores: number[];
  /** Font scale estimate: pixels per font unit. */
  scale: number;
}

/** Reads one line of glyphs; `labels` is the component label image the glyph ids refer to. */
export function readLine(
  line: TextLine,
  labels: Int32Array,
  W: number,
  frame?: { capTop: number; scale: number },
): LineReading {
  const T = templates();
  let capTop = Infinity;
  let maxH = 0;
  for (const g of line.glyphs) {
    capTop = Math.min(capTop, g.y0);
    maxH = Math.max(maxH, g.y1 - g.y0);
  }
  // Digits and p/µ are 7 font rows tall; without a frame the tallest glyph sets the scale.
  let s = maxH / CAP_HEIGHT;
  if (frame) {
    capTop = frame.capTop;
    s = frame.scale;
  }
  let text = '';
  const scores: number[] = [];
  let prevX1 = -1;
  for (const g of line.glyphs) {
    if (prevX1 >= 0 && g.x0 - prevX1 > 2.5 * s) {
      text += ' ';
      scores.push(1);
    }
    prevX1 = g.x1;
    const w = g.x1 - g.x0;
    const h = g.y1 - g.y0;
    const bits = new Uint8Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const l = labels[(g.y0 + y) * W + g.x0 + x]!;
        if (l !== 0 && g.ids.includes(l)) bits[y * w + x] = 1;
      }
    const grid = gridFromBits(bits, w, 0, 0, w, h);
    const relTop = (g.y0 - capTop) / s;
    const relBot = (g.y1 - capTop) / s;
    if (relTop < -1 || relBot > CELL_HEIGHT + 1) {
      // Outside this line's cell: texture or another line, not a glyph of this label.
      text += '?';
      scores.push(0);
      continue;
    }
    let best = '?';
    let bestScore = -Infinity;
    for (const t of T) {
      let diff = 0;
      for (let i = 0; i < grid.length; i++) diff += Math.abs(grid[i]! - t.grid[i]!);
      let score = 1 - diff / grid.length;
      score -= 0.06 * (Math.abs(relTop - t.top) + Math.abs(relBot - t.bottom));
      score -= 0.25 * Math.abs(Math.log(w / h / (t.w / t.h)));
      if (score > bestScore) {
        bestScore = score;
        best = t.char;
      }
    }
    if (bestScore < MIN_SCORE) best = '?';
    text += best;
    scores.push(bestScore);
  }
  return { text, scores, scale: s };
}

/** Baseline row of a line (for callers placing text): cap top + 7 font rows. */
export function baselineOf(line: TextLine, scale: number): number {
  return line.y0 + BASELINE * scale;
}

export interface ParsedLabel {
  value: number;
  unit: 'nm' | 'um';
  text: string;
}

const LABEL_RE = /(^|[^0-9.,=:?])\s*(\d+(?:[.,]\d+)?|[.,]\d+)\s?(pm|nm|µm|μm|um|mm)(?![a-zµ0-9])/i;

/**
 * Parses a scale-bar label ("200 nm", "1 µm", "0.5 um", ".2 µm", "2.00um", "500nm", "1,5 µm", "500 pm", "1 mm") to a value
 * in nm or um. A number right after '=' or ':' is a banner field (WD = 4.2 mm), not a label.
 */
export function parseScaleLabel(text: string): ParsedLabel | null {
  const m = LABEL_RE.exec(text);
  if (!m) return null;
  const before = text.slice(0, m.index + m[1]!.length).trimEnd();
  if (/[=:]$/.test(before)) return null;
  const value = Number(m[2]!.replace(',', '.'));
  if (!(value > 0) || !Number.isFinite(value)) return null;
  const u = m[3]!.toLowerCase().replace('μ', 'µ');
  const label = `${m[2]!} ${m[3]!}`;
  if (u === 'nm') return { value, unit: 'nm', text: label };
  if (u === 'pm') return { value: value / 1000, unit: 'nm', text: label };
  if (u === 'mm') return { value: value * 1000, unit: 'um', text: label };
  return { value, unit: 'um', text: label };
}

/**
 * Reads a line whose glyphs may be mixed with non-text blobs (micrograph texture next to a label): each
 * digit-like glyph proposes a frame (its top = cap line, its height = 7 font rows), frames shared by more glyphs
 * are tried first, and the first reading that parses as a scale label wins.
 */
export function readLabelLine(
  line: TextLine,
  labels: Int32Array,
  W: number,
): { reading: LineReading; parsed: ParsedLabel | null } {
  const plain = readLine(line, labels, W);
  const p0 = parseScaleLabel(plain.text);
  if (p0) return { reading: plain, parsed: p0 };
  const frames: { capTop: number; h: number; votes: number }[] = [];
  for (const g of line.glyphs) {
    const h = g.y1 - g.y0;
    const w = g.x1 - g.x0;
    if (h < 6 || w / h < 0.2 || w / h > 1.0) continue;
    const f = frames.find((k) => Math.abs(k.capTop - g.y0) <= 1 && Math.abs(k.h - h) <= Math.max(1, h * 0.1));
    if (f) f.votes++;
    else frames.push({ capTop: g.y0, h, votes: 1 });
  }
  frames.sort((a, b) => b.votes - a.votes);
  for (const f of frames.slice(0, 16)) {
    const r = readLine(line, labels, W, { capTop: f.capTop, scale: f.h / CAP_HEIGHT });
    const p = parseScaleLabel(r.text);
    if (p) return { reading: r, parsed: p };
  }
  return { reading: plain, parsed: null };
}
