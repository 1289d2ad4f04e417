/**
 * What the controller needs from outside itself, as interfaces: the workers, the browser's storage and the
 * app's state. The app wires the real ones (services/controller.ts); unit tests pass fakes.
 */
import type { AnalysisWorkerApi, InitOptions, InitResult } from '../../worker/api';
import type * as cache from '../../storage/cache';
import type { batch } from '../state/batch.svelte';
import type { calibration } from '../state/calibration.svelte';
import type { engine } from '../state/engine.svelte';
import type { settings } from '../state/settings.svelte';
import type { ui } from '../state/ui.svelte';

/** The page's handle on the workers (services/worker-client.ts). */
export interface WorkerPort {
  readonly api: AnalysisWorkerApi;
  /** Image ids whose documents the document worker holds. */
  readonly held: Set<string>;
  /** Settles when the compute worker has its model (null before the first init). */
  readonly ready: Promise<InitResult> | null;
  init(options: () => Promise<InitOptions>): Promise<InitResult>;
  remember(options: () => Promise<InitOptions>): void;
  /** Terminates the compute worker (the running analysis with it) and starts a fresh one; documents stay. */
  restart(): Promise<InitResult | null>;
}

/** The IndexedDB cache, as far as the controller uses it (storage/cache.ts). */
export type StoragePort = Pick<
  typeof cache,
  | 'resultKey'
  | 'getBatch'
  | 'putBatch'
  | 'getResult'
  | 'getEdited'
  | 'delEdited'
  | 'getFileBytes'
  | 'putFileBytes'
  | 'clearAll'
  | 'getCustomModel'
  | 'putCustomModel'
  | 'delCustomModel'
>;

export interface AppState {
  batch: typeof batch;
  ui: typeof ui;
  settings: typeof settings;
  calibration: typeof calibration;
  engine: typeof engine;
}

/** Counters the e2e tests read (window.__saemi): analyses sent to the worker, results restored from the cache. */
export interface Counters {
  analyses: number;
  cacheHits: number;
}

export interface Deps {
  client: WorkerPort;
  storage: StoragePort;
  state: AppState;
  counters: Counters;
}
