/**
 * The one image type of the project. Pixel data are interleaved when channels > 1.
 * Decoders keep the source bit depth (8/16-bit integer, 32-bit float) so that
 * normalisation can use the full dynamic range of 16-bit TIFFs.
 */
export type PixelData = Uint8Array | Uint16Array | Float32Array;

export interface Raster {
  width: number;
  height: number;
  data: PixelData;
  bitDepth: 8 | 16 | 32;
  channels: 1 | 2 | 3 | 4;
}

/** Single-channel float image, the form every analysis step works on after normalisation. */
/** 8-bit grey image (previews, label crops). */
export interface Grey8 {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface GreyF32 {
  width: number;
  height: number;
  data: Float32Array;
}

/** Instance label image: 0 = background, 1..n = particle ids. */
export interface LabelImage {
  width: number;
  height: number;
  data: Int32Array;
  /** Highest label in use (labels are 1..count, contiguous after relabelling). */
  count: number;
}

/** Plain binary mask, 1 = foreground. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}
