/**
 * IndexedDB (idb-keyval) storage: analysis results keyed by file hash + model + segmentation settings,
 * the source bytes (so a reload can re-analyse or edit without the user dropping files again), the
 * batch itself, edited analyses, and a custom model. One database, one store, prefixed keys.
 */
import { clear, createStore, del, get, set } from 'idb-keyval';
import type { AnalysisOptions, Calibration, ImageAnalysis } from '../core/types';
import type { ModelSidecar } from '../core/segment/model';
import type { Grey8 } from '../core/raster';
import type { ManualCalibration } from '../core/types';

/** Where an image of the batch stands (kept with the batch so a reload shows the same). */
export type ItemStatus = 'queued' | 'analysing' | 'done' | 'error';

const store = createStore('saemi', 'kv');

export interface CachedResult {
  analysis: ImageAnalysis;
  /** Calibration the pipeline found, before any manual override. */
  autoCalibration: Calibration;
  /** Options the analysis was measured with (min area, edges) so a restore can re-measure if they changed. */
  options: AnalysisOptions;
}

export interface StoredItem {
  id: string;
  name: string;
  size: number;
  status: ItemStatus;
  error: string | null;
  fileHash: string | null;
  cacheKey: string | null;
  manual: ManualCalibration | null;
  edited: boolean;
  sidecarTexts: string[];
  /** Measurement options (min area, edges, pixel size) the shown result was measured with. */
  measuredKey?: string;
  /** The error lies in the file itself (not an image, unsupported, broken): retrying cannot help. */
  errorInFile?: boolean;
}

export interface StoredBatch {
  items: StoredItem[];
  selected: string | null;
  batchCalibration: ManualCalibration | null;
}

export interface CustomModel {
  bytes: Uint8Array;
  sidecar: ModelSidecar;
  fileName: string;
}

export function resultKey(fileHash: string, modelKey: string, segmentationKey: string): string {
  return `result:${fileHash}|${modelKey}|${segmentationKey}`;
}

export const getResult = (key: string) => get<CachedResult>(key, store);
export const putResult = (key: string, r: CachedResult) => set(key, r, store);

/** The 8-bit preview lives apart from the result, so restoring a batch does not read every image's pixels. */
export const getPreview = (key: string) => get<Grey8>(`preview:${key}`, store);
export const putPreview = (key: string, g: Grey8) => set(`preview:${key}`, g, store);

export const getFileBytes = (hash: string) => get<Uint8Array>(`file:${hash}`, store);
export const putFileBytes = (hash: string, bytes: Uint8Array) => set(`file:${hash}`, bytes, store);

export const getEdited = (itemId: string) => get<ImageAnalysis>(`edited:${itemId}`, store);
export const putEdited = (itemId: string, a: ImageAnalysis) => set(`edited:${itemId}`, a, store);
export const delEdited = (itemId: string) => del(`edited:${itemId}`, store);

export const getBatch = () => get<StoredBatch>('batch', store);
export const putBatch = (b: StoredBatch) => set('batch', b, store);

export const getCustomModel = () => get<CustomModel>('model:custom', store);
export const putCustomModel = (m: CustomModel) => set('model:custom', m, store);
export const delCustomModel = () => del('model:custom', store);

/** Removes everything this app stored (results, images, batch, custom model). */
export const clearAll = () => clear(store);
