/**
 * Remembers the engine's readings of the views it was shown, by their pixels. A batch from one microscope
 * repeats its data bar on every image taken at the same magnification (a JEOL banner's label is its 4th-6th
 * text line, 36-52 engine calls), so from the second such image on, the label is read without the engine. The
 * engine is deterministic for a given view, so a remembered reading is the reading it would give.
 */
import type { GreyU8, LineRecognizer, RecognizedLine } from './label-ocr';

/** Bytes of remembered views at most (views are a few kilobytes; the oldest are forgotten first). */
export const MEMO_BYTES = 8 * 1024 * 1024;

interface Entry {
  width: number;
  height: number;
  data: Uint8Array;
  line: RecognizedLine;
}

function viewKey(img: GreyU8): string {
  // FNV-1a over the pixels; a hit is confirmed byte for byte, so a collision only costs a miss.
  let h = 0x811c9dc5;
  const d = img.data;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i]!, 0x01000193);
  return `${img.width}x${img.height}:${(h >>> 0).toString(16)}`;
}

function same(e: Entry, img: GreyU8): boolean {
  if (e.width !== img.width || e.height !== img.height || e.data.length !== img.data.length) return false;
  for (let i = 0; i < e.data.length; i++) if (e.data[i] !== img.data[i]) return false;
  return true;
}

export interface MemoRecognizer extends LineRecognizer {
  /** Readings answered from memory, and by the engine. */
  readonly hits: number;
  readonly misses: number;
}

export function memoRecognizer(engine: LineRecognizer, maxBytes = MEMO_BYTES): MemoRecognizer {
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, Entry>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  return {
    // The network is cheap next to the engine and is only read once per crop: it is not remembered.
    labelReader: engine.labelReader,
    ...(engine.warm ? { warm: engine.warm.bind(engine) } : {}),
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
    async recognizeLine(img: GreyU8): Promise<RecognizedLine> {
      const key = viewKey(img);
      const e = entries.get(key);
      if (e && same(e, img)) {
        hits++;
        entries.delete(key);
        entries.set(key, e);
        return { ...e.line };
      }
      misses++;
      const line = await engine.recognizeLine(img);
      if (img.data.length <= maxBytes) {
        const old = entries.get(key);
        if (old) {
          bytes -= old.data.length;
          entries.delete(key);
        }
        entries.set(key, { width: img.width, height: img.height, data: img.data.slice(), line: { ...line } });
        bytes += img.data.length;
        for (const [k, v] of entries) {
          if (bytes <= maxBytes) break;
          entries.delete(k);
          bytes -= v.data.length;
        }
      }
      return line;
    },
  };
}
