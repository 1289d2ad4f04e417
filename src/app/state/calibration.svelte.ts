/**
 * Manual calibration: the line being drawn, the batch-wide pixel size, and named presets
 * (instrument + magnification) kept in localStorage.
 */
import { calibrationFromLine } from '../../core/calibrate/index';

import type { ManualCalibration } from '../../core/types';

export type { ManualCalibration };

export interface Preset extends ManualCalibration {
  name: string;
  instrument: string;
  magnification: string;
}

export interface DrawnLine {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** The image it was drawn on: its length means nothing on another image. */
  imageId: string;
}

/** What the last "apply to all images" did: which images took the pixel size and which kept their own. */
export interface BatchReport {
  applied: string[];
  keptMetadata: string[];
}

const PRESETS_KEY = 'saemi:presets:v1';

function loadPresets(): Preset[] {
  try {
    return JSON.parse(localStorage.getItem(PRESETS_KEY) ?? '[]') as Preset[];
  } catch {
    return [];
  }
}

export function lineLength(l: DrawnLine): number {
  return Math.hypot(l.x1 - l.x0, l.y1 - l.y0);
}

class CalibrationState {
  line = $state<DrawnLine | null>(null);
  /** Known length of the line and its unit, as typed. */
  knownLength = $state<number | null>(null);
  knownUnit = $state<'nm' | 'um'>('nm');
  /**
   * Applies to every image without its own manual calibration, except those whose file metadata gave a pixel
   * size, unless `batchOverMetadata` (the user said so).
   */
  batch = $state<ManualCalibration | null>(null);
  batchOverMetadata = $state(false);
  batchReport = $state<BatchReport | null>(null);
  presets = $state<Preset[]>(loadPresets());

  /** The drawn line when it was drawn on this image. */
  lineOn(imageId: string | undefined): DrawnLine | null {
    return this.line && this.line.imageId === imageId ? this.line : null;
  }

  /** Pixel size from the line drawn on this image and the typed length, or null while either is missing. */
  fromLineOn(imageId: string | undefined): ManualCalibration | null {
    const l = this.lineOn(imageId);
    const len = this.knownLength;
    if (!l || !len || !(len > 0)) return null;
    const px = lineLength(l);
    if (px < 2) return null;
    const c = calibrationFromLine(px, len, this.knownUnit);
    if (c.pixelSize === null || c.unit === 'px') return null;
    return { pixelSize: c.pixelSize, unit: c.unit, detail: c.detail ?? '' };
  }

  savePreset(p: Preset): void {
    this.presets = [...this.presets.filter((q) => q.name !== p.name), p];
    localStorage.setItem(PRESETS_KEY, JSON.stringify(this.presets));
  }

  deletePreset(name: string): void {
    this.presets = this.presets.filter((q) => q.name !== name);
    localStorage.setItem(PRESETS_KEY, JSON.stringify(this.presets));
  }
}

export const calibration = new CalibrationState();
