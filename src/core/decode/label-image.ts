/**
 * A label image given instead of a segmentation (ImageJ/Fiji, Cellpose, an edited labels/<stem>.png of an
 * earlier run): one grey channel of whole non-negative numbers, 0 = background, each other value one particle,
 * as large as the micrograph it labels. The values are kept as the particle ids.
 */
import type { LabelImage } from '../raster';
import { inputError } from './common';
import { decodeImage } from './index';

export function readLabelImage(bytes: Uint8Array, name: string, width: number, height: number): LabelImage {
  const { raster } = decodeImage(bytes, name);
  if (raster.channels !== 1)
    throw inputError(name, `a label image has one grey channel, this one has ${raster.channels}`);
  if (raster.width !== width || raster.height !== height)
    throw inputError(
      name,
      `label image is ${raster.width}x${raster.height} px, the micrograph ${width}x${height} px: they must match`,
    );
  const src = raster.data;
  const data = new Int32Array(src.length);
  let count = 0;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!(v >= 0) || v !== Math.floor(v) || v > 0x7fffffff)
      throw inputError(
        name,
        `pixel (${i % width}, ${Math.floor(i / width)}) is ${v}: a label image holds whole numbers >= 0`,
      );
    data[i] = v;
    if (v > count) count = v;
  }
  return { width, height, data, count };
}
