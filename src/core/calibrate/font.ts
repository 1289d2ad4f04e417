/**
 * A small proportional bitmap font (sans-serif look, 5x7 capitals, 5-row x-height, 2-row descenders) used in
 * two places: the synthetic-image generator burns SEM info banners and scale-bar labels with it, and the
 * scale-bar OCR (ocr.ts) recognises glyphs by normalised template matching against it.
 *
 * Real microscope fonts (Arial-like, at 10-40 px) are not this font. The OCR therefore does not compare pixel
 * grids at the font's own size: each segmented glyph is rescaled to the template's box and compared by
 * normalised cross-correlation, with its height and vertical position relative to the digit height as extra
 * evidence. That tolerates other sans-serif faces for the small vocabulary a scale-bar label uses (digits,
 * '.', ',', n, m, u, µ, p, space); banner prose is never read.
 *
 * Cell: CELL_HEIGHT rows; rows 0..6 are above the baseline (capitals and digits fill all 7), rows 7..8 hold
 * descenders (p, g, µ, ...). Glyph widths vary; one blank column separates glyphs (two when bold).
 */

export const CELL_HEIGHT = 9;
/** Row index just below the baseline: capitals occupy rows [0, BASELINE). */
export const BASELINE = 7;
export const CAP_HEIGHT = 7;
export const X_HEIGHT = 5;

export interface Glyph {
  char: string;
  width: number;
  /** width * CELL_HEIGHT, 1 = ink. */
  bits: Uint8Array;
}

/**
 * Glyph rows, top to bottom. Short lists are placed by `top` (first row index) so lowercase letters need only
 * their x-height rows. '#' = ink.
 */
const SRC: Record<string, { top?: number; rows: string[] }> = {
  '0': { rows: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'] },
  '1': { rows: ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'] },
  '2': { rows: ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'] },
  '3': { rows: ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'] },
  '4': { rows: ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'] },
  '5': { rows: ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'] },
  '6': { rows: ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'] },
  '7': { rows: ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'] },
  '8': { rows: ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'] },
  '9': { rows: ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'] },

  A: { rows: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'] },
  B: { rows: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'] },
  C: { rows: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'] },
  D: { rows: ['####.', '#...#', '#...#', '#...#', '#...#', '#...#', '####.'] },
  E: { rows: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'] },
  F: { rows: ['#####', '#....', '#....', '####.', '#....', '#....', '#....'] },
  G: { rows: ['.###.', '#...#', '#....', '#.###', '#...#', '#...#', '.####'] },
  H: { rows: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'] },
  I: { rows: ['###', '.#.', '.#.', '.#.', '.#.', '.#.', '###'] },
  J: { rows: ['..###', '...#.', '...#.', '...#.', '...#.', '#..#.', '.##..'] },
  K: { rows: ['#...#', '#..#.', '#.#..', '##...', '#.#..', '#..#.', '#...#'] },
  L: { rows: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'] },
  M: { rows: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'] },
  N: { rows: ['#...#', '#...#', '##..#', '#.#.#', '#..##', '#...#', '#...#'] },
  O: { rows: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'] },
  P: { rows: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'] },
  Q: { rows: ['.###.', '#...#', '#...#', '#...#', '#.#.#', '#..#.', '.##.#'] },
  R: { rows: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'] },
  S: { rows: ['.###.', '#...#', '#....', '.###.', '....#', '#...#', '.###.'] },
  T: { rows: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'] },
  U: { rows: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'] },
  V: { rows: ['#...#', '#...#', '#...#', '#...#', '#...#', '.#.#.', '..#..'] },
  W: { rows: ['#...#', '#...#', '#...#', '#.#.#', '#.#.#', '#.#.#', '.#.#.'] },
  X: { rows: ['#...#', '#...#', '.#.#.', '..#..', '.#.#.', '#...#', '#...#'] },
  Y: { rows: ['#...#', '#...#', '.#.#.', '..#..', '..#..', '..#..', '..#..'] },
  Z: { rows: ['#####', '....#', '...#.', '..#..', '.#...', '#....', '#####'] },

  a: { top: 2, rows: ['.###.', '....#', '.####', '#...#', '.####'] },
  b: { rows: ['#....', '#....', '####.', '#...#', '#...#', '#...#', '####.'] },
  c: { top: 2, rows: ['.###.', '#....', '#....', '#...#', '.###.'] },
  d: { rows: ['....#', '....#', '.####', '#...#', '#...#', '#...#', '.####'] },
  e: { top: 2, rows: ['.###.', '#...#', '#####', '#....', '.###.'] },
  f: { rows: ['..##', '.#..', '####', '.#..', '.#..', '.#..', '.#..'] },
  g: { top: 2, rows: ['.####', '#...#', '#...#', '#...#', '.####', '....#', '.###.'] },
  h: { rows: ['#....', '#....', '####.', '#...#', '#...#', '#...#', '#...#'] },
  i: { rows: ['#', '.', '#', '#', '#', '#', '#'] },
  j: { rows: ['..#', '...', '..#', '..#', '..#', '..#', '..#', '..#', '##.'] },
  k: { rows: ['#...', '#...', '#..#', '#.#.', '##..', '#.#.', '#..#'] },
  l: { rows: ['#.', '#.', '#.', '#.', '#.', '#.', '.#'] },
  m: { top: 2, rows: ['######.', '#..#..#', '#..#..#', '#..#..#', '#..#..#'] },
  n: { top: 2, rows: ['####.', '#...#', '#...#', '#...#', '#...#'] },
  o: { top: 2, rows: ['.###.', '#...#', '#...#', '#...#', '.###.'] },
  p: { top: 2, rows: ['####.', '#...#', '#...#', '#...#', '####.', '#....', '#....'] },
  q: { top: 2, rows: ['.####', '#...#', '#...#', '#...#', '.####', '....#', '....#'] },
  r: { top: 2, rows: ['#.##', '##..', '#...', '#...', '#...'] },
  s: { top: 2, rows: ['.####', '#....', '.###.', '....#', '####.'] },
  t: { rows: ['.#..', '.#..', '####', '.#..', '.#..', '.#..', '..##'] },
  u: { top: 2, rows: ['#...#', '#...#', '#...#', '#...#', '.####'] },
  v: { top: 2, rows: ['#...#', '#...#', '#...#', '.#.#.', '..#..'] },
  w: { top: 2, rows: ['#...#', '#...#', '#.#.#', '#.#.#', '.#.#.'] },
  x: { top: 2, rows: ['#...#', '.#.#.', '..#..', '.#.#.', '#...#'] },
  y: { top: 2, rows: ['#...#', '#...#', '#...#', '#...#', '.####', '....#', '.###.'] },
  z: { top: 2, rows: ['#####', '...#.', '..#..', '.#...', '#####'] },
  µ: { top: 2, rows: ['#...#', '#...#', '#...#', '#..##', '###.#', '#....', '#....'] },

  ' ': { rows: ['...'] },
  '.': { top: 5, rows: ['##', '##'] },
  ',': { top: 5, rows: ['##', '##', '.#', '#.'] },
  ':': { top: 2, rows: ['##', '##', '..', '##', '##'] },
  ';': { top: 2, rows: ['##', '##', '..', '##', '##', '.#', '#.'] },
  '=': { top: 2, rows: ['#####', '.....', '#####'] },
  '-': { top: 3, rows: ['####'] },
  '+': { top: 1, rows: ['..#..', '..#..', '#####', '..#..', '..#..'] },
  _: { top: 8, rows: ['#####'] },
  '/': { rows: ['....#', '...#.', '...#.', '..#..', '.#...', '.#...', '#....'] },
  '%': { rows: ['##..#', '##.#.', '...#.', '..#..', '.#...', '.#.##', '#..##'] },
  '(': { rows: ['..#', '.#.', '#..', '#..', '#..', '.#.', '..#'] },
  ')': { rows: ['#..', '.#.', '..#', '..#', '..#', '.#.', '#..'] },
  '[': { rows: ['###', '#..', '#..', '#..', '#..', '#..', '###'] },
  ']': { rows: ['###', '..#', '..#', '..#', '..#', '..#', '###'] },
  '°': { rows: ['.##.', '#..#', '#..#', '.##.'] },
  "'": { rows: ['#', '#', '#'] },
  '"': { rows: ['#.#', '#.#', '#.#'] },
  '#': { top: 1, rows: ['.#.#.', '#####', '.#.#.', '#####', '.#.#.'] },
  '*': { top: 1, rows: ['#.#.#', '.###.', '#####', '.###.', '#.#.#'] },
  '?': { rows: ['.###.', '#...#', '....#', '...#.', '..#..', '.....', '..#..'] },
  '!': { rows: ['#', '#', '#', '#', '#', '.', '#'] },
  '<': { rows: ['...#', '..#.', '.#..', '#...', '.#..', '..#.', '...#'] },
  '>': { rows: ['#...', '.#..', '..#.', '...#', '..#.', '.#..', '#...'] },
};

/** Shown for characters the font lacks, so a missing glyph is visible rather than silently dropped. */
const MISSING: { top?: number; rows: string[] } = {
  rows: ['#####', '#...#', '#...#', '#...#', '#...#', '#...#', '#####'],
};

function buildGlyph(char: string, src: { top?: number; rows: string[] }): Glyph {
  const width = src.rows[0]!.length;
  const bits = new Uint8Array(width * CELL_HEIGHT);
  const top = src.top ?? 0;
  for (let r = 0; r < src.rows.length; r++) {
    const row = src.rows[r]!;
    if (row.length !== width) throw new Error(`font: glyph '${char}' row ${r} has ${row.length} columns`);
    const y = top + r;
    if (y >= CELL_HEIGHT) throw new Error(`font: glyph '${char}' runs below the cell`);
    for (let x = 0; x < width; x++) if (row.charCodeAt(x) === 35) bits[y * width + x] = 1;
  }
  return { char, width, bits };
}

export const GLYPHS: ReadonlyMap<string, Glyph> = new Map(
  Object.entries(SRC).map(([c, s]) => [c, buildGlyph(c, s)] as const),
);
const MISSING_GLYPH = buildGlyph('\uFFFD', MISSING);

/** The glyph drawn for a character: 'μ' (Greek mu) and 'µ' (micro sign) share one glyph. */
export function glyphFor(ch: string): Glyph {
  if (ch === '\u03BC') ch = '\u00B5';
  return GLYPHS.get(ch) ?? MISSING_GLYPH;
}

export interface TextStyle {
  /** Thicken strokes by one font pixel to the right (as many SEM banners do). */
  bold?: boolean;
}

export interface TextTarget {
  width: number;
  height: number;
  data: Uint8Array | Uint16Array | Float32Array;
}

/** Width and height in pixels of `text` at integer `scale`; height is the full cell (with descenders). */
export function measureText(
  text: string,
  scale: number,
  style: TextStyle = {},
): { width: number; height: number; capHeight: number; baseline: number } {
  const s = checkScale(scale);
  const extra = style.bold ? 1 : 0;
  let w = 0;
  let n = 0;
  for (const ch of text) {
    w += glyphFor(ch).width + extra + 1;
    n++;
  }
  if (n > 0) w -= 1;
  return { width: w * s, height: CELL_HEIGHT * s, capHeight: CAP_HEIGHT * s, baseline: BASELINE * s };
}

/**
 * Draws `text` with its cell's top-left corner at (x, y), every ink pixel set to `value`. Pixels outside the
 * target are clipped. Returns the advance width in pixels (same as measureText().width).
 */
export function renderText(
  target: TextTarget,
  text: string,
  x: number,
  y: number,
  scale: number,
  value: number,
  style: TextStyle = {},
): number {
  const s = checkScale(scale);
  const extra = style.bold ? 1 : 0;
  const { width: W, height: H, data } = target;
  let cx = Math.round(x);
  const y0 = Math.round(y);
  let first = true;
  for (const ch of text) {
    if (!first) cx += s;
    first = false;
    const g = glyphFor(ch);
    for (let gy = 0; gy < CELL_HEIGHT; gy++) {
      for (let gx = 0; gx < g.width + extra; gx++) {
        const on =
          (gx < g.width && g.bits[gy * g.width + gx] === 1) ||
          (gx > 0 && extra === 1 && g.bits[gy * g.width + gx - 1] === 1);
        if (!on) continue;
        const px0 = cx + gx * s;
        const py0 = y0 + gy * s;
        for (let dy = 0; dy < s; dy++) {
          const py = py0 + dy;
          if (py < 0 || py >= H) continue;
          for (let dx = 0; dx < s; dx++) {
            const px = px0 + dx;
            if (px >= 0 && px < W) data[py * W + px] = value;
          }
        }
      }
    }
    cx += (g.width + extra) * s;
  }
  return cx - Math.round(x);
}

function checkScale(scale: number): number {
  if (!Number.isInteger(scale) || scale < 1)
    throw new Error(`font: scale must be a positive integer, got ${scale}`);
  return scale;
}
