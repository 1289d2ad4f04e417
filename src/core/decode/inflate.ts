/**
 * zlib inflate into a buffer of known size, bounded in memory and time, that says exactly how the stream
 * ended. PNG image data and TIFF Deflate strips both know how many bytes they must produce; the libraries
 * we used before did not check it (utif2 left a short strip half-filled and dropped an over-long one without
 * a word; fast-png inflated whatever came, ancillary chunks included, into memory without a bound).
 *
 * fflate does the inflating. Its one-shot call with a fixed output buffer cannot report an overrun, and a
 * bomb (a few MB inflating to many GB) would spin through it for minutes, so data that could inflate far past
 * the expected size (DEFLATE's ceiling is about 1032:1) is fed through the streaming decoder in slices and
 * stopped as soon as it overruns.
 */
import { Inflate, inflateSync } from 'fflate';

export type InflateStatus =
  /** Exactly `out.length` bytes and a properly ended stream. */
  | 'ok'
  /** The stream ended properly but produced fewer bytes. */
  | 'short'
  /** The stream produces more bytes than `out` holds. */
  | 'long'
  /** The compressed data stops before the stream's end (file or strip cut off). */
  | 'truncated'
  /** Not a zlib stream (bad header) or a damaged one (invalid code, distance or block type). */
  | 'corrupt';

export interface InflateResult {
  status: InflateStatus;
  /** Bytes written to `out` (at most its length). */
  written: number;
  /** For 'corrupt': what is wrong, in our words. */
  detail?: string;
}

/** Worst-case DEFLATE expansion (a 258-byte match per ~2 bits) plus slack. */
const MAX_RATIO = 1032;
/** Input slice for the streaming path: at most ~66 MB of output per step before an overrun is noticed. */
const SLICE = 64 * 1024;

const FFLATE_REASONS: Record<number, string> = {
  1: 'invalid block type',
  2: 'invalid length/literal code',
  3: 'invalid distance',
};

function classify(err: unknown, written: number): InflateResult {
  const code = (err as { code?: number } | null)?.code;
  if (code === 0) return { status: 'truncated', written };
  if (code !== undefined && FFLATE_REASONS[code])
    return { status: 'corrupt', written, detail: FFLATE_REASONS[code] };
  return { status: 'corrupt', written, detail: 'damaged compressed data' };
}

/** Total length of the parts. */
function total(parts: Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

function byteAt(parts: Uint8Array[], i: number): number {
  for (const p of parts) {
    if (i < p.length) return p[i];
    i -= p.length;
  }
  return 0;
}

/** The parts with the first `n` bytes dropped (the 2-byte zlib header). */
function skip(parts: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (n >= p.length) {
      n -= p.length;
      continue;
    }
    out.push(n > 0 ? p.subarray(n) : p);
    n = 0;
  }
  return out;
}

/**
 * Inflates the zlib stream made of `parts` (concatenated, as PNG IDAT chunks are) into `out`.
 * Never allocates more than `out` plus about one slice's output, never works past an overrun.
 * The zlib header is checked here; the Adler-32 trailer is not (PNG chunks carry CRCs).
 */
export function inflateInto(parts: Uint8Array[], out: Uint8Array): InflateResult {
  const inLen = total(parts);
  if (inLen < 2) return { status: 'truncated', written: 0 };
  const h0 = byteAt(parts, 0);
  const h1 = byteAt(parts, 1);
  if ((h0 & 15) !== 8 || h0 >> 4 > 7 || ((h0 << 8) | h1) % 31 !== 0)
    return { status: 'corrupt', written: 0, detail: 'not zlib data (bad stream header)' };
  if (h1 & 32) return { status: 'corrupt', written: 0, detail: 'zlib stream needs a preset dictionary' };
  const raw = skip(parts, 2);
  // When even a maximal expansion of the input stays near the expected size, one pass into a buffer one
  // byte longer than expected is both fast and bounded: filling that extra byte means an overrun.
  if (inLen * MAX_RATIO <= 4 * out.length + (1 << 20)) return inflateOneShot(raw, inLen - 2, out);
  return inflateStreaming(raw, out);
}

function inflateOneShot(parts: Uint8Array[], inLen: number, out: Uint8Array): InflateResult {
  let src: Uint8Array;
  if (parts.length === 1) src = parts[0];
  else {
    src = new Uint8Array(inLen);
    let o = 0;
    for (const p of parts) {
      src.set(p, o);
      o += p.length;
    }
  }
  const buf = new Uint8Array(out.length + 1);
  let res: Uint8Array;
  try {
    res = inflateSync(src, { out: buf });
  } catch (err) {
    // A stored block that does not fit throws a RangeError from TypedArray.set: that is an overrun.
    if (err instanceof RangeError) return { status: 'long', written: out.length };
    // A broken stream: run it again in steps, which tells how far it got (only failures pay for this).
    return inflateStreaming(parts, out);
  }
  if (res.length > out.length) {
    out.set(res.subarray(0, out.length));
    return { status: 'long', written: out.length };
  }
  out.set(res);
  return { status: res.length === out.length ? 'ok' : 'short', written: res.length };
}

function inflateStreaming(parts: Uint8Array[], out: Uint8Array): InflateResult {
  let written = 0;
  let overrun = false;
  const z = new Inflate((chunk) => {
    if (overrun) return;
    if (written + chunk.length > out.length) {
      out.set(chunk.subarray(0, out.length - written), written);
      written = out.length;
      overrun = true;
      return;
    }
    out.set(chunk, written);
    written += chunk.length;
  });
  try {
    // Non-final pushes hand over everything decoded so far; the closing empty push then fails if the
    // stream has not ended, so a cut-off stream still tells how much it delivered.
    for (const p of parts) {
      for (let o = 0; o < p.length; o += SLICE) {
        z.push(p.subarray(o, Math.min(p.length, o + SLICE)), false);
        if (overrun) return { status: 'long', written };
      }
    }
    z.push(new Uint8Array(0), true);
  } catch (err) {
    return classify(err, written);
  }
  if (overrun) return { status: 'long', written };
  return { status: written === out.length ? 'ok' : 'short', written };
}
