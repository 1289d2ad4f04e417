import { InputError } from '../types';

/** Largest side and pixel count we accept: beyond these a file is corrupt or not an image we can hold. */
export const MAX_SIDE = 30000;
export const MAX_PIXELS = 400e6;
/**
 * Most memory one decode may allocate for its own buffers (compressed-data scratch, pixel buffers, the raster
 * handed on). Checked from the declared header fields before any of them is allocated, so a small file that
 * claims to be a 16-bit RGB 20000x20000 picture (a decompression bomb, or plain corruption) is refused up front
 * instead of taking the tab or the batch down with it.
 */
export const MAX_DECODE_BYTES = 1.5 * 1024 ** 3;

/** Prefixes a message with the file name so a batch report says which file failed. */
export function inputError(name: string | undefined, message: string): InputError {
  return new InputError(name ? `${name}: ${message}` : message);
}

export function checkDimensions(name: string | undefined, width: number, height: number): void {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width <= 0 || height <= 0) {
    throw inputError(name, `image has zero size (${width}x${height} pixels)`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw inputError(
      name,
      `absurd image dimensions ${width}x${height} (limit ${MAX_SIDE} px a side and ${MAX_PIXELS / 1e6} Mpx); ` +
        'the file is corrupt or not a micrograph',
    );
  }
}

/** Refuses a decode whose buffers would exceed MAX_DECODE_BYTES; `what` describes the layout for the user. */
export function checkDecodeMemory(name: string | undefined, bytes: number, what: string): void {
  if (!(bytes <= MAX_DECODE_BYTES)) {
    throw inputError(
      name,
      `image too large to decode: ${what} needs about ${gb(bytes)} of memory (limit ${gb(MAX_DECODE_BYTES)})`,
    );
  }
}

function gb(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(bytes < 10 * 1024 ** 3 ? 2 : 0)} GiB`;
}

/** Turns whatever a third-party decoder threw into one InputError line naming the file. */
export function wrapDecoderError(name: string | undefined, format: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return inputError(name, `cannot decode ${format}: ${detail || 'corrupt data'}`);
}

/** Text decoding that prefers UTF-8 and falls back to Latin-1 (Zeiss writes "µ" as 0xB5). */
export function bytesToString(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const view = bytes.subarray(0, end);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(view);
  } catch {
    let s = '';
    for (let i = 0; i < view.length; i += 8192) {
      s += String.fromCharCode.apply(null, Array.from(view.subarray(i, i + 8192)));
    }
    return s;
  }
}

/**
 * True when bytes read as text (tabs, newlines and printable characters, allowing UTF-8 and NUL padding).
 * NUL padding is allowed only around text: bytes that are all NUL (or nearly) are not text.
 */
export function looksLikeText(bytes: Uint8Array, limit = 4096): boolean {
  const n = Math.min(bytes.length, limit);
  if (n === 0) return false;
  let bad = 0;
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0) continue;
    if (b < 9 || (b > 13 && b < 32) || b === 127) bad++;
    else if (b > 32) printable++;
  }
  return printable > 0 && bad <= n * 0.02;
}
