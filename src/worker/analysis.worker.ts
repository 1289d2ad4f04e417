/**
 * The analysis worker: owns the ONNX session, runs core's pipeline, keeps every image's current labels
 * and edit history, and hands results to the page with their large buffers transferred.
 * Cancellation is by terminating this worker (the page recreates it), so nothing here needs abort checks.
 */
import * as Comlink from 'comlink';
import { analyzeImage, remeasure } from '../core/pipeline';
import { readLabelImage } from '../core/decode/label-image';
import { createOrtBackend } from '../core/segment/ort-backend';
import { browserRecognizer } from './ocr-engine';
import { applyEdit, EditHistory } from '../core/edit';
import type { LoadedModel, ModelSidecar } from '../core/segment/model';
import type { AnalysisOptions, Calibration, ImageAnalysis } from '../core/types';
import type { LabelImage } from '../core/raster';
import type {
  AnalysisWorkerApi,
  AnalyzeRequest,
  AnalyzeResult,
  EditIntent,
  EditOutcome,
  Grey8,
  InitOptions,
  InitResult,
  ProgressFn,
} from './api';
import { captureOrtLog, loadOrt, ortThreads, wasmThreads, webGpuAdapter } from './ort-env';
import { parsePlacement } from './placement';
import { previewBitmap, previewFromGrey } from './preview';
import { StageClock } from './stage-clock';
import { encodeOverlayPng } from '../core/export/overlay';
import { applyCalibration, cloneAnalysis } from './analysis-copy';
import { DEMO_NAME, demoPng } from './demo';
import {
  getEdited,
  getPreview,
  getResult,
  putEdited,
  putFileBytes,
  putPreview,
  putResult,
} from '../storage/cache';
import { sha256Hex } from '../core/hash';

interface Held {
  /** As the page sees it: labels made sequential by remeasure. */
  analysis: ImageAnalysis;
  /**
   * The labels edits work on. Never renumbered, so the history's diffs stay valid; `toEdit` maps the
   * page's (sequential) particle ids to ids in here, rebuilt after every re-measure.
   */
  editLabels: LabelImage;
  toEdit: Int32Array;
  /** Calibration found by the pipeline (metadata, scale bar, none): restored when a manual one is removed. */
  autoCalibration: Calibration;
  grey: Grey8;
  history: EditHistory;
  /** Edited by the user: every new state is saved to IndexedDB so a reload keeps the edits. */
  edited: boolean;
}

let model: LoadedModel | null = null;
let runs = 0;
const held = new Map<string, Held>();
// One analysis at a time: inference already uses every core, interleaving would only thrash memory.
let queue: Promise<unknown> = Promise.resolve();

/** The pipeline's stage names as the timing details show them. */
const CLOCK_STAGE: Record<string, string> = { segment: 'network', done: 'result' };

function serial<T>(job: () => Promise<T>): Promise<T> {
  const next = queue.then(job, job);
  queue = next.catch(() => undefined);
  return next;
}

async function fetchModel(sidecarUrl: string): Promise<{ bytes: Uint8Array; sidecar: ModelSidecar }> {
  const res = await fetch(sidecarUrl);
  // Static servers answer a missing file with the app's index.html (SPA fallback): not a model either.
  if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) {
    throw new Error('this build has no bundled model');
  }
  let sidecar: ModelSidecar;
  try {
    sidecar = (await res.json()) as ModelSidecar;
  } catch {
    throw new Error('the bundled model sidecar is not valid JSON');
  }
  const onnxUrl = new URL(sidecar.file, new URL(sidecarUrl, self.location.href)).href;
  const onnx = await fetch(onnxUrl);
  if (!onnx.ok) throw new Error(`model file ${sidecar.file} missing (${onnx.status})`);
  return { bytes: new Uint8Array(await onnx.arrayBuffer()), sidecar };
}

async function init(opts: InitOptions): Promise<InitResult> {
  if (model) {
    await model.backend.dispose();
    model = null;
  }
  const threads = wasmThreads();
  const base: InitResult = {
    backend: 'none',
    threads,
    crossOriginIsolated: self.crossOriginIsolated,
    cpuNodes: 0,
    gpuNote: null,
    model: null,
    modelError: null,
  };
  if (!opts.model) return { ...base, modelError: 'no model selected' };
  let bytes: Uint8Array;
  let sidecar: ModelSidecar;
  try {
    if (opts.model.bytes && opts.model.sidecar) {
      bytes = opts.model.bytes;
      sidecar = opts.model.sidecar;
    } else if (opts.model.sidecarUrl) {
      ({ bytes, sidecar } = await fetchModel(opts.model.sidecarUrl));
    } else {
      return { ...base, modelError: 'no model selected' };
    }
    if (sidecar.sha256) {
      const actual = await sha256Hex(bytes);
      if (actual !== sidecar.sha256.toLowerCase()) {
        throw new Error(`model file does not match its sidecar (sha256 ${actual.slice(0, 12)}…)`);
      }
    }
  } catch (e) {
    return { ...base, modelError: e instanceof Error ? e.message : String(e) };
  }
  const ort = await loadOrt();
  const attempts: string[][] = [];
  // Why WebGPU is not what runs when it was asked for; the header shows it beside the backend in use.
  let gpuNote: string | null = null;
  if (opts.preferGpu) {
    const gpu = await webGpuAdapter();
    if ('adapter' in gpu) {
      // ORT then runs on this adapter, the one checked here, not one it picks itself.
      (ort.env.webgpu as { adapter: unknown }).adapter = gpu.adapter;
      attempts.push(['webgpu']);
    } else gpuNote = gpu.reason;
  }
  attempts.push(['wasm']);
  let lastError = '';
  for (const eps of attempts) {
    const gpu = eps[0] === 'webgpu';
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
      model = { sidecar, backend };
      return {
        ...base,
        backend: eps[0],
        threads: gpu ? 0 : ortThreads(ort, threads),
        cpuNodes: placement?.cpuCompute.length ?? 0,
        gpuNote,
        model: { name: sidecar.name, version: sidecar.version, sha256: sidecar.sha256 },
      };
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      if (gpu) gpuNote = `WebGPU failed: ${lastError}`;
    }
  }
  return { ...base, modelError: `model could not be loaded: ${lastError}` };
}

async function outcome(id: string, edited: boolean): Promise<EditOutcome> {
  const h = mustHold(id);
  if (edited) h.edited = true;
  if (h.edited) await putEdited(id, h.analysis);
  const analysis = cloneAnalysis(h.analysis);
  return Comlink.transfer({ analysis, canUndo: h.history.canUndo, canRedo: h.history.canRedo }, [
    analysis.labels.data.buffer,
  ]);
}

function mustHold(id: string): Held {
  const h = held.get(id);
  if (!h) throw new Error(`unknown image ${id}`);
  return h;
}

function measureAgain(h: Held, options: AnalysisOptions): void {
  const a = remeasure({ ...h.analysis, labels: h.editLabels }, options);
  h.analysis = applyCalibration(a, options, h.autoCalibration);
  h.toEdit = idMap(a.labels, h.editLabels);
}

/** For each sequential id, the id the same particle has in the edit labels (one pass over the pixels). */
function idMap(seq: LabelImage, edit: LabelImage): Int32Array {
  const map = new Int32Array(seq.count + 1);
  const s = seq.data;
  const e = edit.data;
  for (let i = 0; i < s.length; i++) if (s[i] > 0) map[s[i]] = e[i];
  return map;
}

function identity(n: number): Int32Array {
  const m = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) m[i] = i;
  return m;
}

function hold(analysis: ImageAnalysis, autoCalibration: Calibration, grey: Grey8, edited = false): Held {
  const l = analysis.labels;
  return {
    analysis,
    editLabels: { width: l.width, height: l.height, count: l.count, data: l.data.slice() },
    toEdit: identity(l.count),
    autoCalibration,
    grey,
    history: new EditHistory(),
    edited,
  };
}

/** Translates the page's particle ids in an intent to edit-label ids. */
function mapIntent(intent: EditIntent, m: Int32Array): EditIntent {
  const id = (v: number): number => (v > 0 && v < m.length ? m[v] : 0);
  switch (intent.kind) {
    case 'brush':
      return {
        ...intent,
        label: intent.label !== null && intent.label > 0 ? id(intent.label) || null : null,
      };
    case 'erase':
      return intent.only ? { ...intent, only: id(intent.only) } : intent;
    case 'delete':
      return { ...intent, id: id(intent.id) };
    case 'merge':
      return { ...intent, a: id(intent.a), b: id(intent.b) };
    case 'split':
      return intent.id === null ? intent : { ...intent, id: id(intent.id) };
  }
}

/** The labels replaced wholesale, as one undoable edit (a session's saved edits, an imported label image). */
function replaceWith(id: string, labels: Int32Array, options: AnalysisOptions): Promise<EditOutcome> {
  const h = mustHold(id);
  const data = h.editLabels.data;
  if (labels.length !== data.length) throw new Error('edited labels do not match the image size');
  // One diff over the changed pixels keeps the session's edits undoable like any other edit.
  const idx: number[] = [];
  for (let i = 0; i < data.length; i++) if (data[i] !== labels[i]) idx.push(i);
  const indices = Uint32Array.from(idx);
  const before = new Int32Array(indices.length);
  const after = new Int32Array(indices.length);
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  for (let k = 0; k < indices.length; k++) {
    before[k] = data[indices[k]];
    after[k] = labels[indices[k]];
    data[indices[k]] = after[k];
  }
  const countBefore = h.editLabels.count;
  h.editLabels.count = Math.max(max, countBefore);
  h.history.push({ indices, before, after, countBefore, countAfter: h.editLabels.count });
  measureAgain(h, options);
  return outcome(id, true);
}

const api: AnalysisWorkerApi = {
  init,

  analyze(req: AnalyzeRequest, onProgress?: ProgressFn): Promise<AnalyzeResult> {
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
      // Analysed without the manual pixel size, so the calibration the file itself gives is known (and kept when
      // the manual one is removed, or left alone by a batch calibration); the manual one is applied after.
      const analysis = await analyzeImage(
        { name: req.name, bytes: req.bytes, sidecarTexts: req.sidecarTexts },
        { ...options, pixelSizeOverride: null },
        options.method === 'model' ? model : null,
        {
          onProgress: (stage, fraction) => {
            clock.enter(CLOCK_STAGE[stage] ?? stage);
            onProgress?.(stage, fraction);
          },
          // The preview comes from the pipeline's own decode, not a second one.
          onGrey: (g) => {
            clock.enter('preview');
            grey = previewFromGrey(g);
          },
          ocr: browserRecognizer(),
        },
      );
      if (!grey) throw new Error(`${req.name}: no preview was made`);
      const preview: Grey8 = grey;
      analysis.warnings = [...warnings, ...analysis.warnings];
      const autoCalibration = analysis.calibration;
      const h = hold(applyCalibration(analysis, options, autoCalibration), autoCalibration, preview);
      held.set(req.id, h);
      const out = cloneAnalysis(h.analysis);
      // Only the image on screen needs its bitmap now; the others get theirs when they are shown (bitmap()).
      clock.enter('bitmap');
      const bitmap = req.withBitmap ? await previewBitmap(preview) : null;
      // Cached here, not on the page: the structured clone of large labels would block the page. The clone is
      // taken now; the commit is not waited for, so the result goes back (and the next image starts) at once.
      clock.enter('cache');
      const stored = h.analysis;
      void Promise.all([
        putPreview(req.cacheKey, preview),
        putResult(req.cacheKey, { analysis: stored, autoCalibration, options }),
      ]).catch(() => undefined);
      const timings = clock.finish();
      return Comlink.transfer({ analysis: out, autoCalibration, bitmap, timings }, [
        out.labels.data.buffer,
        ...(bitmap ? [bitmap] : []),
      ]);
    });
  },

  async bitmap(id) {
    const h = held.get(id);
    if (!h) return null;
    const bitmap = await previewBitmap(h.grey);
    return Comlink.transfer(bitmap, [bitmap]);
  },

  async adopt(id, cacheKey, edited) {
    const [cached, grey, saved] = await Promise.all([
      getResult(cacheKey),
      getPreview(cacheKey),
      edited ? getEdited(id) : undefined,
    ]);
    if (!cached || !grey) return null;
    const h = hold(saved ?? cached.analysis, cached.autoCalibration, grey, edited && saved !== undefined);
    held.set(id, h);
    const bitmap = await previewBitmap(grey);
    const analysis = cloneAnalysis(h.analysis);
    return Comlink.transfer(
      { analysis, autoCalibration: h.autoCalibration, bitmap, options: cached.options },
      [analysis.labels.data.buffer, bitmap],
    );
  },

  async has(id) {
    return held.has(id);
  },

  async edit(id: string, intent: EditIntent, options: AnalysisOptions) {
    const h = mustHold(id);
    const m = h.toEdit;
    const hints = h.analysis.particles.map((p) => ({ id: p.id < m.length ? m[p.id] : 0, bbox: p.bbox }));
    const result = applyEdit(h.editLabels, mapIntent(intent, m), hints);
    if (result.changed > 0) {
      h.history.push(result.diff);
      measureAgain(h, options);
    }
    return outcome(id, result.changed > 0);
  },

  async undo(id, options) {
    const h = mustHold(id);
    const changed = h.history.undo(h.editLabels) !== null;
    if (changed) measureAgain(h, options);
    return outcome(id, changed);
  },

  async redo(id, options) {
    const h = mustHold(id);
    const changed = h.history.redo(h.editLabels) !== null;
    if (changed) measureAgain(h, options);
    return outcome(id, changed);
  },

  async remeasure(id, options) {
    measureAgain(mustHold(id), options);
    return outcome(id, false);
  },

  async replaceLabels(id, labels, options) {
    return replaceWith(id, labels, options);
  },

  async importLabels(id, file, options) {
    const { width, height } = mustHold(id).editLabels;
    return replaceWith(id, readLabelImage(file.bytes, file.name, width, height).data, options);
  },

  async overlayPng(id, mode) {
    const h = mustHold(id);
    const g = h.grey;
    const base = { width: g.width, height: g.height, data: new Float32Array(g.data.length) };
    for (let i = 0; i < g.data.length; i++) base.data[i] = g.data[i] / 255;
    const a = h.analysis;
    const png = encodeOverlayPng(base, a.labels, a.particles, {
      mode: mode === 'filled' ? 'both' : 'outline',
    });
    return Comlink.transfer(png, [png.buffer]);
  },

  async demoImage() {
    const bytes = demoPng();
    return Comlink.transfer({ name: DEMO_NAME, bytes }, [bytes.buffer]);
  },

  async forget(id) {
    held.delete(id);
  },

  async inferenceRuns() {
    return runs;
  },
};

Comlink.expose(api);
