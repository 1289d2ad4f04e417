/**
 * Which options each image is analysed and measured with, and whether what it holds is still current:
 * the manual pixel size that applies to it, the key of its cached result, the options it was last measured with.
 */
import type { AnalysisOptions } from '../../core/types';
import type { BatchItem } from '../state/batch.svelte';
import type { ManualCalibration } from '../state/calibration.svelte';
import { MEASUREMENT_KEYS } from '../state/settings.svelte';
import type { Deps } from './ports';

/** What measurement depends on besides the labels, as a stable string. */
export function optionsKey(o: AnalysisOptions): string {
  return JSON.stringify([...MEASUREMENT_KEYS.map((k) => o[k]), o.pixelSizeOverride]);
}

export class Measurements {
  /** Measurement key each held image was last measured with (bookkeeping, never rendered). */
  private readonly measured = new Map<string, string>();

  constructor(private readonly d: Deps) {}

  /**
   * The image's own manual pixel size, else the batch's — which leaves an image whose file metadata gave a
   * pixel size alone unless the user asked for that too.
   */
  manualFor(item: BatchItem): ManualCalibration | null {
    const { calibration } = this.d.state;
    if (item.manual) return item.manual;
    if (!calibration.batch) return null;
    return item.autoSource === 'metadata' && !calibration.batchOverMetadata ? null : calibration.batch;
  }

  /** The options one image is analysed and measured with: batch settings plus its manual pixel size. */
  optionsFor(item: BatchItem): AnalysisOptions {
    const o = this.d.state.settings.optionsSnapshot();
    const m = this.manualFor(item);
    return { ...o, pixelSizeOverride: m ? { pixelSize: m.pixelSize, unit: m.unit } : null };
  }

  /** The key the image should be measured with now. */
  wanted(item: BatchItem): string {
    return optionsKey(this.optionsFor(item));
  }

  /** True when the image was last measured with other options than it should be now. */
  outdated(item: BatchItem): boolean {
    return this.measured.get(item.id) !== this.wanted(item);
  }

  get(id: string): string | undefined {
    return this.measured.get(id);
  }

  set(id: string, key: string): void {
    this.measured.set(id, key);
  }

  forget(id: string): void {
    this.measured.delete(id);
  }

  /** The cache key of the image's unedited result under today's model and segmentation settings. */
  currentKey(item: BatchItem): string | null {
    const { engine, settings } = this.d.state;
    return item.fileHash
      ? this.d.storage.resultKey(item.fileHash, engine.modelKey, settings.segmentationKey())
      : null;
  }

  /** Flags done images whose results came from other segmentation settings or another model. */
  markStale(): void {
    for (const item of this.d.state.batch.items) {
      if (item.status !== 'done') continue;
      item.stale = item.cacheKey !== null && item.cacheKey !== this.currentKey(item);
    }
  }
}
