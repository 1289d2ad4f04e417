/**
 * The compute worker: owns the ONNX session, runs core's pipeline and hands results out with their large
 * buffers transferred. Cancellation is by terminating this worker (the page recreates it), so nothing here
 * needs abort checks, and it holds no image's document (those live in document.worker.ts) so a cancel
 * loses no edits.
 */
import * as Comlink from 'comlink';
import { analyzeImage, finishImage, preparedFits, prepareSpecOf } from '../core/pipeline';
import { createOrtBackend } from '../core/segment/ort-backend';
import type { LabelPlanReader } from '../core/calibrate/read-bar-label';
import type { LabelWorkerApi } from './label.worker';
import type { LoadedModel } from '../core/segment/model';
import type { GreyF32 } from '../core/raster';
import { warmWorker } from './warm-up';
import type { ResolvedModelFile } from '../core/segment/model-variant';
import type {
  Analysed,
  ComputeWorkerApi,
  AnalyzeRequest,
  Grey8,
  InitOptions,
  InitResult,
  ProgressFn,
} from './api';
import {
  captureOrtLog,
  inOrtQueue,
  loadOrt,
  ortThreads,
  wasmThreads,
  webGpuAdapter,
  type Ort,
  type OrtBuild,
} from './ort-env';
import { parsePlacement } from './placement';
import { previewBitmap, previewFromGrey } from './preview';
import { StageClock } from './stage-clock';
import { applyCalibration, cloneAnalysis } from '../core/analysis-copy';
import { DEMO_NAME, demoPng } from './demo';
import { putFileBytes, putPreview, putResult } from '../storage/cache';
import { fetchedModel, givenModel, type ModelBytes } from './model-files';

let model: LoadedModel | null = null;
let runs = 0;
/**
 * Aborted at the first analyze() call: ends the warm-up (warm-up.ts) at its next stage, and keeps a later one
 * (after a model change) from running the pipeline, which real images have warmed by then.
 */
const warmStop = new AbortController();
/** The idle-time warm-up's pipeline runs (warm-up.ts), once it has ended. */
let warming: Promise<number> = Promise.resolve(0);
// One analysis at a time: inference already uses every core, interleaving would only thrash memory.
let queue: Promise<unknown> = Promise.resolve();

/** The pipeline's stage names as the timing details show them. */
const CLOCK_STAGE: Record<string, string> = { segment: 'network', done: 'result' };

let labelWorker: Comlink.Remote<LabelWorkerApi> | null = null;

/** The label worker (spawned once; it dies with this worker, so a cancel restarts both). */
function labels(): Comlink.Remote<LabelWorkerApi> {
  labelWorker ??= Comlink.wrap<LabelWorkerApi>(
    new Worker(new URL('./label.worker.ts', import.meta.url), { type: 'module', name: 'saemi-labels' }),
  );
  return labelWorker;
}

/** Hands the label crops over (they are cut for this read alone) instead of copying them. */
const labelReader: LabelPlanReader = {
  findLabel: (plan) =>
    labels().findLabel(
      Comlink.transfer(
        plan,
        plan.bars.flatMap((b) => b.crops.map((c) => c.data.buffer)),
      ),
    ),
};

function serial<T>(job: () => Promise<T>): Promise<T> {
  const next = queue.then(job, job);
  queue = next.catch(() => undefined);
  return next;
}

async function init(opts: InitOptions): Promise<InitResult> {
  // Spawned now, while this thread is free: a nested worker starts through its parent's thread, which a
  // network run (the warm-up below, then every image) holds for up to seconds.
  labels();
  if (model) {
    await model.backend.dispose();
    model = null;
  }
  const threads = wasmThreads();
  const base: InitResult = {
    backend: 'none',
    ortBuild: null,
    threads,
    crossOriginIsolated: self.crossOriginIsolated,
    cpuNodes: 0,
    gpuNote: null,
    model: null,
    precision: null,
    precisionNote: null,
    modelError: null,
    prepareSpec: null,
  };
  if (!opts.model) return { ...base, modelError: 'no model selected' };
  let source: ModelBytes;
  try {
    if (opts.model.bytes && opts.model.sidecar) {
      source = givenModel(opts.model.bytes, opts.model.sidecar);
    } else if (opts.model.sidecarUrl) {
      source = await fetchedModel(opts.model.sidecarUrl);
    } else {
      return { ...base, modelError: 'no model selected' };
    }
  } catch (e) {
    return { ...base, modelError: e instanceof Error ? e.message : String(e) };
  }
  const { sidecar } = source;
  const precision = opts.precision ?? 'auto';
  const attempts: string[][] = [];
  // Why WebGPU is not what runs when it was asked for; the header shows it beside the backend in use.
  let gpuNote: string | null = null;
  let adapter: unknown = null;
  if (opts.preferGpu) {
    const gpu = await webGpuAdapter();
    if ('adapter' in gpu) {
      adapter = gpu.adapter;
      attempts.push(['webgpu']);
    } else gpuNote = gpu.reason;
  }
  attempts.push(['wasm']);
  let lastError = '';
  for (const eps of attempts) {
    const gpu = eps[0] === 'webgpu';
    // WebGPU needs the JSEP build; WASM runs on the plain one, whose CPU kernels are faster (ort-env.ts).
    const build: OrtBuild = gpu ? 'jsep' : 'wasm';
    let ort: Ort;
    try {
      ort = await loadOrt(build);
    } catch (e) {
      lastError = `onnxruntime (${build} build) could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
      if (gpu) {
        gpuNote = `WebGPU not tried: ${lastError}`;
        continue;
      }
      return { ...base, gpuNote, modelError: lastError };
    }
    // ORT then runs on the adapter checked here, not one it picks itself.
    if (gpu) (ort.env.webgpu as { adapter: unknown }).adapter = adapter;
    // The weights file for this backend: under auto the int8 variant on WASM, fp32 on WebGPU.
    let file: ResolvedModelFile;
    try {
      file = await source.bytesFor(gpu ? 'webgpu' : 'wasm', precision);
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      if (gpu) {
        gpuNote = `WebGPU not tried: ${lastError}`;
        continue;
      }
      return { ...base, gpuNote, modelError: lastError };
    }
    const bytes = file.bytes;
    try {
      // A WebGPU session is created with onnxruntime's verbose log read, which says where each node went.
      const { value: backend, lines } = await captureOrtLog(() =>
        createOrtBackend(ort, bytes, sidecar, {
          executionProviders: eps,
          threads,
          logSeverityLevel: gpu ? 0 : undefined,
        }),
      );
      const placement = gpu ? parsePlacement(lines) : null;
      const onGpu = placement ? (placement.nodes.JsExecutionProvider ?? 0) : null;
      if (gpu && onGpu === 0) {
        // Every node on the CPU provider: that is WASM, whatever the session was asked for.
        await backend.dispose();
        gpuNote = 'onnxruntime placed no node of the model on WebGPU';
        continue;
      }
      const run = backend.run.bind(backend);
      model = { sidecar, backend: { ...backend, run: (...a) => inOrtQueue(() => run(...a)) } };
      // Not awaited: the app is ready at once; an image given meanwhile waits for at most one warm-up step.
      // The label readers load beside it, in their own worker, in the same idle time.
      warming = warmWorker(model, serial, warmStop.signal).catch(() => 0);
      void labels()
        .warm()
        .catch(() => undefined);
      return {
        ...base,
        backend: eps[0],
        ortBuild: build,
        threads: gpu ? 0 : ortThreads(ort, threads),
        cpuNodes: placement?.cpuCompute.length ?? 0,
        gpuNote,
        model: { name: sidecar.name, version: sidecar.version, sha256: file.sha256 },
        precision: file.precision,
        precisionNote: file.warnings.join('; ') || null,
        prepareSpec: prepareSpecOf(sidecar),
      };
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      if (gpu) gpuNote = `WebGPU failed: ${lastError}`;
    }
  }
  return { ...base, modelError: `model could not be loaded: ${lastError}` };
}

const api: ComputeWorkerApi = {
  init,

  analyze(req: AnalyzeRequest, onProgress?: ProgressFn): ReturnType<ComputeWorkerApi['analyze']> {
    warmStop.abort();
    return serial(async () => {
      const clock = new StageClock();
      const options = { ...req.options };
      const warnings: string[] = [];
      if (options.method === 'model' && !model) {
        options.method = 'threshold';
        warnings.push('no segmentation model loaded: threshold method used');
      }
      // Not awaited: the write only has to land, not to hold up the analysis (IndexedDB keeps its order).
      if (req.storeBytes) void putFileBytes(req.fileHash, req.bytes).catch(() => undefined);
      onProgress?.('decoding', 0);
      let grey: Grey8 | null = null;
      runs++;
      const input = { name: req.name, bytes: req.bytes, sidecarTexts: req.sidecarTexts };
      // Analysed without the manual pixel size, so the calibration the file itself gives is known (and kept when
      // the manual one is removed, or left alone by a batch calibration); the manual one is applied after.
      const plain = { ...options, pixelSizeOverride: null };
      const used = options.method === 'model' ? model : null;
      const hooks = {
        onProgress: (stage: string, fraction: number) => {
          clock.enter(CLOCK_STAGE[stage] ?? stage);
          onProgress?.(stage, fraction);
        },
        // The preview comes from the pipeline's own decode, not a second one.
        onGrey: (g: GreyF32) => {
          clock.enter('preview');
          grey = previewFromGrey(g);
        },
        ocr: labelReader,
      };
      // Prepared by the prepare worker for another model (one loaded since) is analysed anew.
      const ahead = req.prepared && preparedFits(req.prepared.prepared, plain, used) ? req.prepared : null;
      if (ahead) grey = ahead.preview;
      const analysis = ahead
        ? await finishImage(ahead.prepared, input, plain, used, hooks)
        : await analyzeImage(input, plain, used, hooks);
      if (!grey) throw new Error(`${req.name}: no preview was made`);
      const preview: Grey8 = grey;
      analysis.warnings = [...warnings, ...analysis.warnings];
      const autoCalibration = analysis.calibration;
      const kept = applyCalibration(analysis, options, autoCalibration);
      const out = cloneAnalysis(kept);
      // Only the image on screen needs its bitmap now; the others get theirs when they are shown (bitmap()).
      clock.enter('bitmap');
      const bitmap = req.withBitmap ? await previewBitmap(preview) : null;
      // Cached here, not on the page: the structured clone of large labels would block the page. The clone is
      // taken now; the commit is not waited for, so the result goes back (and the next image starts) at once.
      clock.enter('cache');
      void Promise.all([
        putPreview(req.cacheKey, preview),
        putResult(req.cacheKey, { analysis: kept, autoCalibration, options }),
      ]).catch(() => undefined);
      const timings = clock.finish();
      // Two copies leave: the page's, and the document worker's (this worker keeps none, it may be killed).
      // Explicit copies, transferred: a structured clone of large labels would block the page on the way.
      const held: Analysed = {
        analysis: cloneAnalysis(kept),
        autoCalibration,
        grey: { ...preview, data: preview.data.slice() },
      };
      return Comlink.transfer({ analysis: out, autoCalibration, bitmap, timings, held }, [
        out.labels.data.buffer,
        held.analysis.labels.data.buffer,
        held.grey.data.buffer,
        ...(bitmap ? [bitmap] : []),
      ]);
    });
  },

  async demoImage() {
    const bytes = demoPng();
    return Comlink.transfer({ name: DEMO_NAME, bytes }, [bytes.buffer]);
  },

  warmUpRuns: () => warming,

  async inferenceRuns() {
    return runs;
  },
};

Comlink.expose(api);
