/**
 * TIFF LZW (compression 5) decoder, used in place of utif2's: on a corrupt stream (a code the table does not
 * hold yet) utif2's walks a looping string chain forever, which froze a whole batch on one broken file.
 * This one is bounded everywhere: every string has its length stored, output stops at the buffer's end, and a
 * code that cannot occur in a valid stream is an error.
 *
 * Stream format (TIFF 6.0 section 13, as libtiff writes it): MSB-first codes of 9 to 12 bits; 256 clears the
 * table, 257 ends the data, 258 is the first free entry; the decoder widens its codes when its table reaches
 * 511, 1023 and 2047 entries (one code "early", as every TIFF writer since Aldus does).
 */

const CLEAR = 256;
const EOI = 257;
const FIRST = 258;
const MAX_ENTRIES = 4096;

export interface LzwResult {
  /** Bytes written to `out` from `outOff` (at most the space there). */
  written: number;
  /** The stream holds more than fits: a string crossed the end, or data codes follow once `out` is full. */
  overrun: boolean;
}

/**
 * Decodes `len` bytes of `src` from `off` into `out` from `outOff`. Throws an Error (our words) on a code that
 * cannot occur in a valid stream; the caller checks `written` against what the strip must hold.
 */
export function decodeTiffLzw(
  src: Uint8Array,
  off: number,
  len: number,
  out: Uint8Array,
  outOff: number,
): LzwResult {
  const end = Math.min(src.length, off + len);
  const prefix = new Int16Array(MAX_ENTRIES);
  const suffix = new Uint8Array(MAX_ENTRIES);
  const head = new Uint8Array(MAX_ENTRIES);
  const length = new Uint16Array(MAX_ENTRIES);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    head[i] = i;
    length[i] = 1;
  }
  const cap = out.length;
  let next = FIRST;
  let width = 9;
  let bit = off * 8;
  const endBit = end * 8;
  let o = outOff;
  let old = -1;
  const read = (): number => {
    const at = bit >>> 3;
    const window =
      (src[at] << 16) | ((at + 1 < end ? src[at + 1] : 0) << 8) | (at + 2 < end ? src[at + 2] : 0);
    const code = (window >>> (24 - (bit & 7) - width)) & ((1 << width) - 1);
    bit += width;
    return code;
  };
  let ended = false;
  while (bit + width <= endBit && o < cap) {
    const code = read();
    if (code === EOI) {
      ended = true;
      break;
    }
    if (code === CLEAR) {
      next = FIRST;
      width = 9;
      old = -1;
      continue;
    }
    let emit: number;
    if (old === -1) {
      if (code > 255) throw new Error(`code ${code} right after a clear code`);
      emit = code;
    } else {
      if (code > next || (code === next && next >= MAX_ENTRIES))
        throw new Error(`code ${code} before the table holds it (${next} entries)`);
      if (next < MAX_ENTRIES) {
        // The new entry is the previous string plus the first byte of this one (of itself when code = next).
        prefix[next] = old;
        suffix[next] = code === next ? head[old] : head[code];
        head[next] = head[old];
        length[next] = length[old] + 1;
        next++;
        if (next === (1 << width) - 1 && width < 12) width++;
      }
      emit = code;
    }
    // Write the string backwards along its prefix chain: exactly length[emit] steps.
    const n = length[emit];
    let p = emit;
    for (let k = n - 1; k >= 0; k--) {
      if (o + k < cap) out[o + k] = suffix[p];
      p = prefix[p];
    }
    o += n;
    old = code;
  }
  let overrun = o > cap;
  if (!overrun && !ended && o === cap) {
    // Full: a valid stream ends here (EOI, possibly after a Clear, or simply no more codes).
    while (bit + width <= endBit) {
      const code = read();
      if (code === CLEAR) {
        width = 9;
        continue;
      }
      overrun = code !== EOI;
      break;
    }
  }
  return { written: Math.min(o, cap) - outOff, overrun };
}
