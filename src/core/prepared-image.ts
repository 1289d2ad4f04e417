/**
 * An image prepared for segmentation (pipeline.ts prepareImage), as data: its own module, free of the pipeline's
 * code, so the page can pass one between workers without bundling the pipeline.
 */
import type { GreyF32 } from './raster';
import type { ImageMeta } from './types';
import type { CalibrateResult } from './calibrate/index';
import type { LabelPlan } from './calibrate/read-bar-label';

/**
 * What preparing an image needs of the model: how it normalises its input, and the contrast filter's share. An
 * image prepared with one spec is finished only by a model with the same (sameSpec).
 */
export interface PrepareSpec {
  low: number;
  high: number;
  contrastShare?: number;
}

/**
 * An image decoded, calibrated (but for its label read) and normalised: everything before segmentation. Plain data
 * and typed arrays, so a worker can prepare the next image of a batch while this one's particles are being made.
 */
export interface PreparedImage {
  name: string;
  width: number;
  height: number;
  meta: ImageMeta;
  calibrated: CalibrateResult;
  /** Scale-bar label crops to read (null: nothing to read, or no reader was expected). */
  labelPlan: LabelPlan | null;
  /** The model's spec it was normalised with; null for the threshold method or a given label image. */
  spec: PrepareSpec | null;
  /** The normalised image segmentation takes (null for a given label image). */
  norm: GreyF32 | null;
  /** Grey quantised for the contrast filter (the model's, unless mixed contrast is allowed), else null. */
  contrastBytes: Uint8ClampedArray | null;
  /** Milliseconds the preparing took. */
  ms: number;
}

/** Typed-array buffers of a prepared image, to transfer it to another thread. */
export function preparedBuffers(p: PreparedImage): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  if (p.norm) out.push(p.norm.data.buffer as ArrayBuffer);
  if (p.contrastBytes) out.push(p.contrastBytes.buffer as ArrayBuffer);
  for (const b of p.labelPlan?.bars ?? []) for (const c of b.crops) out.push(c.data.buffer as ArrayBuffer);
  return out;
}
