/**
 * The contract between the page and the analysis worker (comlink). Types only, so the page can import
 * it without pulling core or onnxruntime into the main bundle.
 */
import type { AnalysisOptions, Calibration, ImageAnalysis } from '../core/types';
import type { ModelSidecar } from '../core/segment/model';
import type { Precision, PrecisionChoice } from '../core/segment/model-variant';
import type { EditIntent } from '../core/edit';
import type { StageTimes } from './stage-clock';
import type { Grey8 } from '../core/raster';
import type { PreparedImage, PrepareSpec } from '../core/prepared-image';

export type { StageTimes };

export type { EditIntent };

export interface ModelSource {
  /** Bytes of the .onnx (custom model from IndexedDB); transferred. */
  bytes?: Uint8Array;
  sidecar?: ModelSidecar;
  /** URL of the bundled sidecar; the worker fetches it and the .onnx it names from the app's origin. */
  sidecarUrl?: string;
}

export interface InitOptions {
  model: ModelSource | null;
  /** Try the WebGPU execution provider when the browser exposes navigator.gpu. */
  preferGpu: boolean;
  /**
   * Which of the bundled model's weights files (default auto: the one its sidecar prefers on the backend tried,
   * the int8 variant on WASM, fp32 on WebGPU). A custom model is one file: it runs as given.
   */
  precision?: PrecisionChoice;
}

export interface InitResult {
  /** Execution provider actually in use: 'webgpu', 'wasm', or 'none' (no model: threshold only). */
  backend: string;
  /** Build of onnxruntime-web the model runs on: 'wasm' (plain, CPU) or 'jsep' (WebGPU); null without a model. */
  ortBuild: 'wasm' | 'jsep' | null;
  threads: number;
  crossOriginIsolated: boolean;
  /** WebGPU only: nodes (other than shape arithmetic) onnxruntime left on the CPU provider. */
  cpuNodes: number;
  /** Why WebGPU is not in use although it was preferred (no adapter, a software one, failed); else null. */
  gpuNote: string | null;
  /** sha256 of the weights file loaded (so cached results of the fp32 and int8 files never mix). */
  model: { name: string; version: string; sha256: string } | null;
  /** Precision of the weights file loaded (null: no model). */
  precision: Precision | null;
  /** Why that precision although another was asked for or preferred (a variant missing or damaged), else null. */
  precisionNote: string | null;
  /** Why no model is loaded (missing bundled model, bad custom model); null when one is. */
  modelError: string | null;
  /** What preparing an image ahead needs of the model (its normalisation); null without a model. */
  prepareSpec: PrepareSpec | null;
}

/** 8-bit grey preview of the micrograph (percentile-stretched), kept for caching and overlay export. */
export type { Grey8 } from '../core/raster';

export interface AnalyzeRequest {
  id: string;
  name: string;
  bytes: Uint8Array;
  sidecarTexts?: string[];
  options: AnalysisOptions;
  /** sha-256 of the bytes: the worker stores them (IndexedDB) so a reload can re-analyse without the file. */
  fileHash: string;
  storeBytes: boolean;
  /** Where the worker caches the result (IndexedDB), off the page's thread. */
  cacheKey: string;
  /** Make the display bitmap now (the image is on screen); else it is made when asked for (bitmap()). */
  withBitmap?: boolean;
  /** The image prepared ahead by the prepare worker with the same options (transferred); else analysed whole. */
  prepared?: PreparedAhead;
}

/** A batch's next image, to prepare while the current one is post-processed. */
export interface PrepareRequest {
  name: string;
  /** A copy (transferred): the page keeps its own for the analysis request. */
  bytes: Uint8Array;
  sidecarTexts?: string[];
  options: AnalysisOptions;
  /** The loaded model's (InitResult.prepareSpec); null for the threshold method. */
  spec: PrepareSpec | null;
}

/** An image prepared ahead: everything before segmentation, its display preview, and those stages' times. */
export interface PreparedAhead {
  prepared: PreparedImage;
  preview: Grey8;
  times: StageTimes;
}

/** The prepare worker (prepare.worker.ts). */
export interface PrepareWorkerApi {
  /** Null when the image is not prepared ahead (too large, or it does not decode: its analysis reports why). */
  prepare(req: PrepareRequest): Promise<PreparedAhead | null>;
  /**
   * Prepares a small synthetic image a few times, once per worker (later calls get the first call's promise), so
   * the JS engine has compiled the stages before a batch's second image; resolves with the runs done (fewer
   * when a real image came first).
   */
  warmPrepare(spec: PrepareSpec | null): Promise<number>;
  /** Ends the warm-up after the run in progress (a batch has started: its first image needs both cores). */
  stopWarmUp(): Promise<void>;
}

export interface AnalyzeResult {
  analysis: ImageAnalysis;
  /** Calibration the pipeline found (metadata, scale bar, none), before any manual override. */
  autoCalibration: Calibration;
  /** Null unless the request asked for it (withBitmap). */
  bitmap: ImageBitmap | null;
  /** Wall-clock ms per stage in the worker (decode, preview, calibrate, normalise, network, ...; total). */
  timings: StageTimes;
}

export interface Adopted {
  analysis: ImageAnalysis;
  /** Calibration the pipeline found (metadata, scale bar, none), before any manual override. */
  autoCalibration: Calibration;
  bitmap: ImageBitmap;
  /** Options the cached result was measured with. */
  options: AnalysisOptions;
}

export interface EditOutcome {
  analysis: ImageAnalysis;
  canUndo: boolean;
  canRedo: boolean;
}

export type ProgressFn = (stage: string, fraction: number) => void;

/** What the compute worker hands the document worker with each result (its own copies, transferred). */
export interface Analysed {
  analysis: ImageAnalysis;
  autoCalibration: Calibration;
  grey: Grey8;
}

/**
 * The compute worker: model and inference only. It keeps no per-image state, so cancelling by terminating
 * it loses nothing but the running analysis.
 */
export interface ComputeWorkerApi {
  init(opts: InitOptions): Promise<InitResult>;
  analyze(req: AnalyzeRequest, onProgress?: ProgressFn): Promise<AnalyzeResult & { held: Analysed }>;
  /** The "try the demo" micrograph from the synthetic generator, PNG-encoded. */
  demoImage(): Promise<{ name: string; bytes: Uint8Array }>;
  /** Number of model inference runs since the worker started (tests assert cache hits with it). */
  inferenceRuns(): Promise<number>;
  /** Pipeline runs of the idle-time warm-up (warm-up.ts) after the model loaded, once it has ended. */
  warmUpRuns(): Promise<number>;
}

/**
 * The document worker: every image's labels, edit history and preview. Long-lived (never terminated by a
 * cancel), so undo stacks survive one; edits run here, off the page, on buffers it owns.
 */
export interface DocumentWorkerApi {
  /** Takes a fresh result as the image's document, replacing (and so un-editing) any earlier one. */
  hold(id: string, doc: Analysed): Promise<void>;
  /**
   * Takes an image's result from the cache (IndexedDB, read here, not on the page) so it can be shown,
   * edited and exported: the edited state when `edited`, else the cached result. Null when not cached.
   */
  adopt(id: string, cacheKey: string, edited: boolean): Promise<Adopted | null>;
  has(id: string): Promise<boolean>;
  /** The display bitmap of an image the worker holds (null when it holds none by that id). */
  bitmap(id: string): Promise<ImageBitmap | null>;
  /** Mask edits (and re-measures of edited images) are saved to IndexedDB by the worker as `edited:<id>`. */
  edit(id: string, intent: EditIntent, options: AnalysisOptions): Promise<EditOutcome>;
  undo(id: string, options: AnalysisOptions): Promise<EditOutcome>;
  redo(id: string, options: AnalysisOptions): Promise<EditOutcome>;
  /** Re-measures after option or calibration changes (min area, edges, manual pixel size), no inference. */
  remeasure(id: string, options: AnalysisOptions): Promise<EditOutcome>;
  /** Replaces the labels wholesale (session file with edits); becomes one undoable step. */
  replaceLabels(id: string, labels: Int32Array, options: AnalysisOptions): Promise<EditOutcome>;
  /**
   * Replaces the labels with a label image file (16-bit PNG/TIFF of the image's size, 0 = background), one
   * undoable step; rejects with a one-line message naming the file when it is not one.
   */
  importLabels(
    id: string,
    file: { name: string; bytes: Uint8Array },
    options: AnalysisOptions,
  ): Promise<EditOutcome>;
  overlayPng(id: string, mode: 'outline' | 'filled'): Promise<Uint8Array>;
  forget(id: string): Promise<void>;
}

/** The two workers as the page calls them (worker-client joins them; analyze also hands the document over). */
export type AnalysisWorkerApi = Omit<ComputeWorkerApi, 'analyze'> &
  Omit<DocumentWorkerApi, 'hold'> &
  PrepareWorkerApi & {
    analyze(req: AnalyzeRequest, onProgress?: ProgressFn): Promise<AnalyzeResult>;
  };
