/**
 * Contracts shared by every part of the core (decode, calibrate, segment, measure, export),
 * the worker, the CLI and the app. Change with care: several files rely on these shapes.
 */
import type { LabelImage, Raster } from './raster';

export type LengthUnit = 'nm' | 'um' | 'px';
export type CalibrationSource = 'metadata' | 'scale-bar' | 'manual' | 'none';

/** A TIFF tag value as decoded (numbers, rationals as numbers, strings, byte arrays). */
export type TagValue = string | number | number[] | Uint8Array;

/**
 * The calibration a microscopy container stores beside its pixels (Gatan DM3/DM4 tags, the MRC header), as
 * the decoder found it; calibrate/metadata.ts turns it into a pixel size.
 */
export interface EmbeddedCalibration {
  /** Names the source in messages: "DM4 calibration", "MRC header". */
  source: string;
  /** Width of one pixel in `unit` as stored; null when the file is uncalibrated. */
  scale: number | null;
  /** Unit as stored: "nm", "µm", "Å", or something that is not a length ("1/nm" in a diffraction pattern). */
  unit: string;
  instrument?: InstrumentInfo;
  /** What the decoder had to choose (first frame of a stack, non-square pixels), for the analysis warnings. */
  warnings?: string[];
}

export interface ImageMeta {
  format: 'png' | 'jpeg' | 'tiff' | 'dm3' | 'dm4' | 'mrc';
  /** Original bit depth and channels before any conversion. */
  bitDepth: number;
  channels: number;
  /** Number of pages/IFDs in a TIFF, frames in a DM or MRC stack (only the first is analysed). */
  pages?: number;
  /** TIFF tags of the first IFD keyed by numeric tag id (e.g. 34118 Zeiss, 34682 FEI, 270 description). */
  tiffTags?: Record<number, TagValue>;
  /** Calibration from a DM or MRC file's own structure. */
  embedded?: EmbeddedCalibration;
}

export interface DecodedImage {
  raster: Raster;
  meta: ImageMeta;
}

/** Instrument fields read from metadata, shown to the user. */
export interface InstrumentInfo {
  vendor?: string;
  magnification?: string;
  voltage?: string;
  workingDistance?: string;
  [key: string]: string | undefined;
}

/** A pixel size the user set by hand (a drawn line, a typed value or a preset), applied over the automatic one. */
export interface ManualCalibration {
  pixelSize: number;
  unit: 'nm' | 'um';
  /** How it was set, shown beside the source: "line 182.0 px = 500 nm", "preset Zeiss 50kx". */
  detail: string;
}

export interface Calibration {
  /** Physical length of one pixel in `unit`; null when unknown (unit is then 'px'). */
  pixelSize: number | null;
  unit: LengthUnit;
  source: CalibrationSource;
  /** Human-readable detail: which tag, which scale bar text, which preset. */
  detail?: string;
  instrument?: InstrumentInfo;
}

/** Rows [y0, y1) excluded from analysis (SEM info banner). */
export interface ExcludedBand {
  y0: number;
  y1: number;
  reason: 'banner' | 'manual';
}

export interface ScaleBarReading {
  /** Bar end points in image pixels. */
  x0: number;
  x1: number;
  y: number;
  lengthPx: number;
  /** Parsed label, when read. */
  value?: number;
  unit?: LengthUnit;
  text?: string;
  /** Who read the label: the OCR engine, SAEMI's label network, or both agreeing. */
  readBy?: 'ocr' | 'ocr+net' | 'net';
}

export type SegmentMethod = 'model' | 'threshold';

export interface AnalysisOptions {
  method: SegmentMethod;
  /** Split touching particles (model separation output, or watershed for threshold). */
  split: boolean;
  /** Use distance-transform watershed on top of the model's separation output. */
  watershed: boolean;
  /** Minimum particle area in pixels; smaller particles are flagged excluded 'small'. */
  minAreaPx: number;
  /** Exclude particles that touch the image (or banner) edge. */
  excludeEdges: boolean;
  /** Threshold method: explicit 0..1 threshold on normalised grey, or null for Otsu. */
  threshold: number | null;
  /** Threshold method: particles are darker than ground (bright-field TEM). null = auto. */
  darkParticles: boolean | null;
  /** Manual calibration override (CLI --pixel-size/--unit, app manual calibration). */
  pixelSizeOverride: { pixelSize: number; unit: 'nm' | 'um' } | null;
  /** Banner detection on/off, or a manual band. */
  banner: 'auto' | 'off' | { y0: number; y1: number };
  /** Model method: average the model over four mirrored views of each tile (about 4x the inference time). */
  thorough: boolean;
  /**
   * Model method: keep detections brighter and darker than their surroundings alike. Off (the default), the
   * minority contrast is dropped when the sidecar sets thresholds.contrastShare (one kind of particle per image).
   */
  mixedContrast: boolean;
}

export const DEFAULT_OPTIONS: AnalysisOptions = {
  method: 'model',
  split: true,
  watershed: false,
  minAreaPx: 10,
  excludeEdges: false,
  threshold: null,
  darkParticles: null,
  pixelSizeOverride: null,
  banner: 'auto',
  thorough: false,
  mixedContrast: false,
};

/** Per-particle measurements, always in pixels; unit conversion happens at report/export time. */
export interface Particle {
  id: number;
  /** Centroid, pixels. */
  x: number;
  y: number;
  area: number;
  ecd: number;
  perimeter: number;
  feretMax: number;
  feretMin: number;
  /** Degrees, 0..180, angle of feret_max measured as in ImageJ (counter-clockwise from +x, y up). */
  feretAngle: number;
  circularity: number;
  aspectRatio: number;
  solidity: number;
  touchesEdge: boolean;
  bbox: [x0: number, y0: number, x1: number, y1: number];
  /** Why the particle is left out of statistics, or null when included. */
  excluded: null | 'edge' | 'small';
}

export interface ImageAnalysis {
  name: string;
  width: number;
  height: number;
  meta: ImageMeta;
  calibration: Calibration;
  excluded: ExcludedBand[];
  scaleBar?: ScaleBarReading;
  labels: LabelImage;
  particles: Particle[];
  /** How the labels came: segmented by a method, or given (a label image measured as it is). */
  method: SegmentMethod | 'labels';
  modelName?: string;
  /** Wall-clock seconds of the analysis. */
  seconds: number;
  /** Non-fatal notes for the user (e.g. "no pixel size found: sizes in px"). */
  warnings: string[];
  /**
   * What each stage decided and why, one short line per stage (pixel size and its source, rows left out, the
   * scale the model ran at, counts dropped by each filter). Absent on analyses stored before it existed.
   */
  trace?: string[];
}

/** Thrown for inputs that cannot be analysed; message is one clear line for the user. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
