/**
 * Analysis settings and display preferences, persisted in localStorage (small, synchronous, read before
 * the first paint so the theme never flashes).
 */
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../core/types';
import { PRECISION_CHOICES, type PrecisionChoice } from '../../core/segment/model-variant';

export type Theme = 'system' | 'light' | 'dark';
export type ModelChoice = 'bundled' | 'custom';

interface Stored {
  options: AnalysisOptions;
  theme: Theme;
  preferGpu: boolean;
  /** Which weights file of the bundled model: auto (int8 on WASM, fp32 on WebGPU), fp32 or int8. */
  precision: PrecisionChoice;
  modelChoice: ModelChoice;
}

const KEY = 'saemi:settings:v1';

function load(): Stored {
  const fallback: Stored = {
    options: { ...DEFAULT_OPTIONS },
    theme: 'system',
    preferGpu: true,
    precision: 'auto',
    modelChoice: 'bundled',
  };
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return fallback;
    const s = JSON.parse(raw) as Partial<Stored>;
    return {
      options: { ...DEFAULT_OPTIONS, ...(s.options ?? {}), pixelSizeOverride: null },
      theme: s.theme ?? 'system',
      preferGpu: s.preferGpu ?? true,
      precision: s.precision && PRECISION_CHOICES.includes(s.precision) ? s.precision : 'auto',
      modelChoice: s.modelChoice ?? 'bundled',
    };
  } catch {
    return fallback;
  }
}

/** Options that change what segmentation produces: changing one makes existing results stale. */
export const SEGMENTATION_KEYS = [
  'method',
  'split',
  'watershed',
  'threshold',
  'darkParticles',
  'banner',
  'thorough',
  'mixedContrast',
] as const;
/** Options applied by re-measuring the existing labels (no inference). */
export const MEASUREMENT_KEYS = ['minAreaPx', 'excludeEdges'] as const;

class Settings {
  /** Batch-wide options; manual pixel size lives per image in the batch (see calibration state). */
  options = $state<AnalysisOptions>(load().options);
  theme = $state<Theme>(load().theme);
  preferGpu = $state<boolean>(load().preferGpu);
  precision = $state<PrecisionChoice>(load().precision);
  modelChoice = $state<ModelChoice>(load().modelChoice);

  save(): void {
    const s: Stored = {
      options: $state.snapshot(this.options) as AnalysisOptions,
      theme: this.theme,
      preferGpu: this.preferGpu,
      precision: this.precision,
      modelChoice: this.modelChoice,
    };
    localStorage.setItem(KEY, JSON.stringify(s));
  }

  /** The analysis options as a plain object (no reactive proxy), safe to send to a worker. */
  optionsSnapshot(): AnalysisOptions {
    return $state.snapshot(this.options) as AnalysisOptions;
  }

  /** The part of the options that segmentation depends on, as a stable string for cache keys. */
  segmentationKey(options: AnalysisOptions = this.options): string {
    const o = $state.snapshot(options) as AnalysisOptions;
    return JSON.stringify(SEGMENTATION_KEYS.map((k) => o[k]));
  }

  reset(): void {
    Object.assign(this.options, DEFAULT_OPTIONS);
    this.save();
  }
}

export const settings = new Settings();
