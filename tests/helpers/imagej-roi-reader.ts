/** Reads an ImageJ ROI set back (as ImageJ's RoiDecoder does, for polygons): what the tests check exports against. */
import { unzipSync } from 'fflate';

export interface ReadRoi {
  name: string;
  type: number;
  top: number;
  left: number;
  bottom: number;
  right: number;
  /** Vertices in image coordinates. */
  xs: number[];
  ys: number[];
}

export function readRoiSet(zip: Uint8Array): ReadRoi[] {
  const entries = unzipSync(zip);
  return Object.keys(entries)
    .sort()
    .map((name) => readRoi(name, entries[name]));
}

export function readRoi(name: string, b: Uint8Array): ReadRoi {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = String.fromCharCode(b[0], b[1], b[2], b[3]);
  if (magic !== 'Iout') throw new Error(`${name}: not an ImageJ ROI (magic ${JSON.stringify(magic)})`);
  const top = dv.getInt16(8);
  const left = dv.getInt16(10);
  const n = dv.getUint16(16);
  if (b.length < 64 + 4 * n) throw new Error(`${name}: ${n} vertices announced, ${b.length} bytes`);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    xs.push(left + dv.getInt16(64 + 2 * i));
    ys.push(top + dv.getInt16(64 + 2 * n + 2 * i));
  }
  return { name, type: b[6], top, left, bottom: dv.getInt16(12), right: dv.getInt16(14), xs, ys };
}

/** Shoelace area of a polygon (absolute). */
export function polygonArea(xs: number[], ys: number[]): number {
  let s = 0;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) s += xs[j] * ys[i] - xs[i] * ys[j];
  return Math.abs(s) / 2;
}

/** ImageJ's traced perimeter of a pixel-corner polygon (the corner rule measure.ts applies). */
export function tracedPerimeter(xs: number[], ys: number[]): number {
  const n = xs.length;
  const side = (i: number): number => {
    const j = (i + 1) % n;
    return Math.abs(xs[j] - xs[i]) + Math.abs(ys[j] - ys[i]);
  };
  let total = 0;
  for (let i = 0; i < n; i++) total += side(i);
  let corners = 0;
  let corner = false;
  // Side k runs from vertex k to k+1; the corner at vertex k counts when the side into it is longer than one
  // pixel or the corner before did not count, vertex 0 (the start) first, as measure.ts counts.
  for (let k = 0; k < n; k++) {
    const into = side((k + n - 1) % n);
    if (into > 1 || !corner) {
      corner = true;
      corners++;
    } else corner = false;
  }
  return total - corners * (2 - Math.SQRT2);
}
