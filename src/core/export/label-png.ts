import { encode } from 'fast-png';
import type { LabelImage } from '../raster';
import type { Particle } from '../types';

/**
 * 16-bit grey PNG of instance labels, same size as the image: 0 = background, otherwise the particle id
 * (the `particle` column of particles.csv). With `particles` given, only included particles are kept
 * (excluded ones become 0, like banner rows, which the pipeline has already zeroed in the labels).
 * Throws RangeError when an id kept exceeds 65535, the most a 16-bit PNG can hold.
 */
export function encodeLabelPng(labels: LabelImage, particles?: Particle[]): Uint8Array {
  const { width, height, data } = labels;
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  let keep: Uint8Array | null = null;
  if (particles) {
    keep = new Uint8Array(max + 1);
    for (const p of particles) if (p.excluded === null && p.id <= max) keep[p.id] = 1;
  }
  const out = new Uint16Array(width * height);
  let maxKept = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v <= 0 || (keep && keep[v] === 0)) continue;
    if (v > maxKept) maxKept = v;
    out[i] = v;
  }
  if (maxKept > 65535) {
    throw new RangeError(`particle id ${maxKept} does not fit a 16-bit label PNG (at most 65535 particles)`);
  }
  return encode({ width, height, data: out, depth: 16, channels: 1 });
}
