import type { DecodedImage } from '../types';
import { inputError, looksLikeText } from './common';
import { decodeDm, isDm } from './dm';
import { decodeJpeg, isJpeg } from './jpeg';
import { decodeMrc, isMrc } from './mrc';
import { decodePng, isPng } from './png';
import { decodeTiff, isBigTiff, isTiff } from './tiff';

export { MAX_PIXELS, MAX_SIDE } from './common';

function startsWith(b: Uint8Array, ascii: string, at = 0): boolean {
  if (b.length < at + ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (b[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

const MIN_IMAGE_BYTES = 32;

/** Names what a non-image file looks like, so the user sees "a PDF" rather than "unknown format". */
export function describeNonImage(b: Uint8Array): string {
  const zeros = leadingZeros(b, 4096);
  if (zeros === b.length)
    return b.length === 1
      ? 'not an image (a single zero byte)'
      : `not an image (all ${b.length} bytes are zero)`;
  if (zeros === 4096) return 'not an image (the file starts with 4096 zero bytes)';
  if (startsWith(b, '%PDF')) return 'not an image (looks like a PDF document)';
  if (startsWith(b, 'GIF8')) return 'unsupported image format (GIF); use PNG, JPEG or TIFF';
  if (startsWith(b, 'BM')) return 'unsupported image format (BMP); use PNG, JPEG or TIFF';
  if (startsWith(b, 'RIFF') && startsWith(b, 'WEBP', 8))
    return 'unsupported image format (WebP); use PNG, JPEG or TIFF';
  if (startsWith(b, 'ftyp', 4)) return 'unsupported image format (HEIF/AVIF or video); use PNG, JPEG or TIFF';
  if (startsWith(b, '\x00\x00\x00\x0cjP'))
    return 'unsupported image format (JPEG 2000); use PNG, JPEG or TIFF';
  if (startsWith(b, 'PK\x03\x04')) return 'not an image (looks like a ZIP archive or Office document)';
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'not an image (looks like a gzip archive)';
  if (looksLikeText(b)) {
    const head = new TextDecoder().decode(b.subarray(0, 256)).trimStart().toLowerCase();
    if (head.startsWith('<!doctype html') || head.startsWith('<html'))
      return 'not an image (looks like an HTML page)';
    if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) {
      return 'unsupported image format (SVG vector graphics); use PNG, JPEG or TIFF';
    }
    return 'not an image (looks like a text file)';
  }
  // Shorter than the smallest file of any format read here (a 1x1 PNG is 67 bytes): "unknown format"
  // would send the user looking for a decoder.
  if (b.length < MIN_IMAGE_BYTES)
    return `not an image (${b.length} byte${b.length === 1 ? '' : 's'}, too short for any image format)`;
  return 'not an image (unknown format; expected PNG, JPEG, TIFF, DM3/DM4 or MRC)';
}

/** Leading zero bytes, counted up to `limit`, or the whole length when every byte is zero. */
function leadingZeros(b: Uint8Array, limit: number): number {
  const n = Math.min(b.length, limit);
  let i = 0;
  while (i < n && b[i] === 0) i++;
  if (i < limit) return i;
  let j = i;
  while (j < b.length && b[j] === 0) j++;
  return j === b.length ? j : i;
}

/**
 * Bytes -> raster + metadata. The format is sniffed from magic bytes, never from the name (instruments
 * and users mislabel extensions). Every failure is an InputError with one line naming the file.
 */
export function decodeImage(bytes: Uint8Array, name?: string): DecodedImage {
  if (bytes.length === 0) throw inputError(name, 'empty file (0 bytes)');
  if (isPng(bytes)) return decodePng(bytes, name);
  if (isJpeg(bytes)) return decodeJpeg(bytes, name);
  if (isTiff(bytes) || isBigTiff(bytes)) return decodeTiff(bytes, name);
  if (isDm(bytes)) return decodeDm(bytes, name);
  if (isMrc(bytes)) return decodeMrc(bytes, name);
  // A file cut off inside the signature still announces its format.
  if (
    bytes.length < 8 &&
    (startsWith(bytes, '\x89PNG'.slice(0, bytes.length)) || (bytes[0] === 0xff && bytes[1] === 0xd8))
  ) {
    throw inputError(name, `truncated file (${bytes.length} bytes)`);
  }
  throw inputError(name, describeNonImage(bytes));
}
