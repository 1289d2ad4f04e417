/**
 * Session files: one JSON that re-opens a batch with its settings, calibrations and mask edits.
 * Images are embedded (base64) up to a size limit so a session can travel to a colleague; beyond it
 * only their sha-256 is kept and they must still be in this browser's storage (or be added again).
 * Edited label images are run-length encoded (particles are compact, so runs are long).
 */
import type { AnalysisOptions } from '../../core/types';
import type { ManualCalibration, Preset } from '../state/calibration.svelte';

export const SESSION_FORMAT = 'saemi-session';
export const SESSION_VERSION = 1;
/** Above this total the images are referenced by hash instead of embedded. */
export const EMBED_LIMIT_BYTES = 100 * 1024 * 1024;

export interface SessionImage {
  name: string;
  sha256: string | null;
  size: number;
  manual: ManualCalibration | null;
  /** base64 of the original file, when embedded. */
  bytes?: string;
  sidecarTexts?: string[];
  /** Edited labels: width, height and base64 of Int32 (value, run length) pairs in raster order. */
  labels?: { width: number; height: number; rle: string };
}

export interface SessionFile {
  format: typeof SESSION_FORMAT;
  version: number;
  created: string;
  app: string;
  model: string;
  options: AnalysisOptions;
  batchCalibration: ManualCalibration | null;
  presets: Preset[];
  images: SessionImage[];
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function encodeLabelsRle(data: Int32Array): string {
  const runs: number[] = [];
  let i = 0;
  while (i < data.length) {
    const v = data[i];
    let j = i + 1;
    while (j < data.length && data[j] === v) j++;
    runs.push(v, j - i);
    i = j;
  }
  return toBase64(new Uint8Array(Int32Array.from(runs).buffer));
}

export function decodeLabelsRle(rle: string, length: number): Int32Array {
  const raw = fromBase64(rle);
  if (raw.length % 8 !== 0) throw new Error('session file: damaged label data');
  const runs = new Int32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const out = new Int32Array(length);
  let p = 0;
  for (let k = 0; k < runs.length; k += 2) {
    const v = runs[k];
    const n = runs[k + 1];
    if (n <= 0 || p + n > length) throw new Error('session file: label data does not fit the image');
    out.fill(v, p, p + n);
    p += n;
  }
  if (p !== length) throw new Error('session file: label data does not cover the image');
  return out;
}

/** Parses and checks a session file; throws one clear line when it is not one. */
export function parseSession(text: string): SessionFile {
  let s: unknown;
  try {
    s = JSON.parse(text);
  } catch {
    throw new Error('not a SAEMI session file (not JSON)');
  }
  const f = s as Partial<SessionFile>;
  if (f?.format !== SESSION_FORMAT) throw new Error('not a SAEMI session file');
  if (typeof f.version !== 'number' || f.version > SESSION_VERSION) {
    throw new Error(`session file version ${String(f.version)} is newer than this app understands`);
  }
  if (!Array.isArray(f.images) || !f.options) throw new Error('session file is incomplete');
  return f as SessionFile;
}
