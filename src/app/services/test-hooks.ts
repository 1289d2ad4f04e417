/**
 * A read-only window.__saemi for the e2e tests (and curious users in the console): how many analyses
 * the worker was asked to run (a reload must restore from the cache without any), what is loaded.
 */
import { batch } from '../state/batch.svelte';
import { engine } from '../state/engine.svelte';
import { client, counters } from './controller';
import { plotlyWarmed } from '../components/plotly-warm-up';

export interface SaemiDebug {
  readonly analyses: number;
  readonly cacheHits: number;
  readonly ready: boolean;
  readonly backend: string | null;
  /** WASM threads onnxruntime runs with (0 on WebGPU). */
  readonly threads: number | null;
  /** Why WebGPU is not in use although preferred, or null. */
  readonly gpuNote: string | null;
  /** Precision of the model's weights file in use (fp32, int8), null without a model. */
  readonly precision: string | null;
  readonly model: string | null;
  readonly crossOriginIsolated: boolean;
  counts(): Record<string, number>;
  /** Per-stage ms of every image analysed in this visit (not restored from the cache). */
  timings(): Record<string, number>[];
  /** The worker's idle-time warm-up runs of the pipeline, once the warm-up has ended. */
  warmUpRuns(): Promise<number>;
  /** The prepare worker's idle-time warm-up runs, once it has ended. */
  prepareWarmUpRuns(): Promise<number>;
  /** Whether the idle-time throw-away plot (components/plotly-warm-up.ts) was drawn, once it has ended. */
  plotlyWarmed(): Promise<boolean>;
}

export function installTestHooks(): void {
  const hooks: SaemiDebug = {
    get analyses() {
      return counters.analyses;
    },
    get cacheHits() {
      return counters.cacheHits;
    },
    get ready() {
      return engine.ready;
    },
    get backend() {
      return engine.info?.backend ?? null;
    },
    get threads() {
      return engine.info?.threads ?? null;
    },
    get gpuNote() {
      return engine.info?.gpuNote ?? null;
    },
    get precision() {
      return engine.info?.precision ?? null;
    },
    get model() {
      return engine.info?.model ? `${engine.info.model.name}@${engine.info.model.version}` : null;
    },
    get crossOriginIsolated() {
      return self.crossOriginIsolated;
    },
    counts() {
      return Object.fromEntries(batch.done.map((i) => [i.name, i.count]));
    },
    timings() {
      return batch.done.filter((i) => i.timings && !i.fromCache).map((i) => ({ ...i.timings }));
    },
    warmUpRuns: () => client.api.warmUpRuns(),
    // The first call's promise: the argument of this later call is not used.
    prepareWarmUpRuns: () => client.api.warmPrepare(null),
    plotlyWarmed,
  };
  (window as unknown as { __saemi: SaemiDebug }).__saemi = hooks;
}
