/**
 * The app's controller (src/app/controller) against fake workers and a fake IndexedDB: the queue, cancel,
 * repeats, cache restores, editing and batch calibration, with no browser. The fake document side runs core's
 * real ImageDocument, so edit counts are real; the fake compute side makes hand-made label grids.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createController, type Deps } from '../src/app/controller';
import type { StoragePort, WorkerPort } from '../src/app/controller/ports';
import { batch } from '../src/app/state/batch.svelte';
import { calibration } from '../src/app/state/calibration.svelte';
import { engine } from '../src/app/state/engine.svelte';
import { settings } from '../src/app/state/settings.svelte';
import { ui } from '../src/app/state/ui.svelte';
import { ImageDocument } from '../src/core/document';
import { cloneAnalysis } from '../src/core/analysis-copy';
import { analysisFromLabels } from './helpers/label-analysis';
import type { LabelImage } from '../src/core/raster';
import {
  DEFAULT_OPTIONS,
  type AnalysisOptions,
  type Calibration,
  type ImageAnalysis,
} from '../src/core/types';
import { resultKey, type CachedResult, type StoredBatch } from '../src/storage/cache';
import type {
  AnalysisWorkerApi,
  AnalyzeRequest,
  EditOutcome,
  InitOptions,
  InitResult,
  PreparedAhead,
} from '../src/worker/api';

const W = 32;
const H = 24;

/** `n` separate 3x3 particles in a row. */
function analysisOf(name: string, n: number, cal: Calibration): ImageAnalysis {
  const labels: LabelImage = { width: W, height: H, count: n, data: new Int32Array(W * H) };
  for (let k = 0; k < n; k++)
    for (let y = 2; y < 5; y++) for (let x = 2 + 5 * k; x < 5 + 5 * k; x++) labels.data[y * W + x] = k + 1;
  return analysisFromLabels(name, labels, cal, { ...DEFAULT_OPTIONS, minAreaPx: 1 });
}

const NONE: Calibration = { pixelSize: null, unit: 'px', source: 'none' };
const META: Calibration = { pixelSize: 3, unit: 'nm', source: 'metadata', detail: 'tag' };

/** IndexedDB as maps. */
class FakeStorage implements StoragePort {
  results = new Map<string, CachedResult>();
  edited = new Map<string, ImageAnalysis>();
  files = new Map<string, Uint8Array>();
  saved: StoredBatch | undefined;
  resultKey = resultKey;
  getBatch = async () => this.saved;
  putBatch = async (b: StoredBatch) => void (this.saved = structuredClone(b));
  getResult = async (k: string) => this.results.get(k);
  getEdited = async (id: string) => this.edited.get(id);
  delEdited = async (id: string) => void this.edited.delete(id);
  getFileBytes = async (h: string) => this.files.get(h);
  putFileBytes = async (h: string, b: Uint8Array) => void this.files.set(h, b.slice());
  clearAll = async () => {
    this.results.clear();
    this.edited.clear();
    this.files.clear();
    this.saved = undefined;
  };
  getCustomModel = async () => undefined;
  putCustomModel = async () => undefined;
  delCustomModel = async () => undefined;
}

const INFO: InitResult = {
  backend: 'wasm',
  ortBuild: 'wasm',
  threads: 2,
  crossOriginIsolated: true,
  cpuNodes: 0,
  gpuNote: null,
  model: { name: 'fake', version: '1', sha256: 'ab'.repeat(32) },
  precision: 'int8',
  precisionNote: null,
  modelError: null,
  prepareSpec: { low: 1, high: 99 },
};

/**
 * Both workers. Images are told apart by name: `bad*` is not an image (InputError), `hang*` never finishes
 * (until the compute side is restarted), `meta*` has a pixel size in its metadata; the particle count is the
 * number in the name.
 */
class FakeWorkers implements WorkerPort {
  readonly held = new Set<string>();
  ready: Promise<InitResult> | null = null;
  restarts = 0;
  analysed: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Names the prepare worker was asked for, and the names whose analysis came with a preparation. */
  preparing: string[] = [];
  preparedUsed: string[] = [];
  private docs = new Map<string, ImageDocument>();
  private generation = 0;

  constructor(private storage: FakeStorage) {}

  /** What the controller asked the last init for. */
  lastInit: InitOptions | null = null;

  init = async (options?: () => Promise<InitOptions>) => {
    if (options) this.lastInit = await options();
    this.ready = Promise.resolve(INFO);
    return INFO;
  };
  remember = () => undefined;
  restart = async () => {
    this.restarts++;
    this.generation++;
    return this.init();
  };

  private outcome(id: string): EditOutcome {
    const d = this.docs.get(id);
    if (!d) throw new Error(`unknown image ${id}`);
    if (d.edited) this.storage.edited.set(id, cloneAnalysis(d.analysis));
    return { analysis: cloneAnalysis(d.analysis), canUndo: d.canUndo, canRedo: d.canRedo };
  }

  readonly api: AnalysisWorkerApi = {
    init: async () => INFO,
    analyze: async (req: AnalyzeRequest, onProgress?: (stage: string, f: number) => void) => {
      const gen = this.generation;
      this.analysed.push(req.name);
      if (req.prepared) this.preparedUsed.push(req.prepared.prepared.name);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await new Promise((r) => setTimeout(r, 5));
        if (req.name.startsWith('hang')) await new Promise<never>(() => undefined); // only a restart (which the page races) ends it
        if (gen !== this.generation) throw new Error('worker terminated');
        onProgress?.('network', 1);
        onProgress?.('instances', 0);
        await new Promise((r) => setTimeout(r, 5));
        if (req.name.startsWith('bad')) {
          const e = new Error(`${req.name}: not an image`);
          e.name = 'InputError';
          throw e;
        }
        const auto = req.name.startsWith('meta') ? META : NONE;
        const a = analysisOf(req.name, Number(/\d+/.exec(req.name)?.[0] ?? 1), auto);
        this.storage.results.set(req.cacheKey, { analysis: a, autoCalibration: auto, options: req.options });
        this.docs.set(req.id, new ImageDocument(cloneAnalysis(a), auto));
        return { analysis: cloneAnalysis(a), autoCalibration: auto, bitmap: null, timings: { total: 5 } };
      } finally {
        this.inFlight--;
      }
    },
    adopt: async (id, key, edited) => {
      const c = this.storage.results.get(key);
      if (!c) return null;
      const saved = edited ? this.storage.edited.get(id) : undefined;
      const d = new ImageDocument(cloneAnalysis(saved ?? c.analysis), c.autoCalibration, !!saved);
      this.docs.set(id, d);
      const bitmap = {} as ImageBitmap;
      return {
        analysis: cloneAnalysis(d.analysis),
        autoCalibration: c.autoCalibration,
        bitmap,
        options: c.options,
      };
    },
    has: async (id) => this.docs.has(id),
    bitmap: async (id) => (this.docs.has(id) ? ({} as ImageBitmap) : null),
    edit: async (id, intent, o) => (this.docs.get(id)?.edit(intent, o), this.outcome(id)),
    undo: async (id, o) => (this.docs.get(id)?.undo(o), this.outcome(id)),
    redo: async (id, o) => (this.docs.get(id)?.redo(o), this.outcome(id)),
    remeasure: async (id, o) => (this.docs.get(id)?.remeasure(o), this.outcome(id)),
    replaceLabels: async (id, l, o) => (this.docs.get(id)?.replace(l, o), this.outcome(id)),
    importLabels: async () => {
      throw new Error('not used here');
    },
    overlayPng: async () => new Uint8Array(8),
    warmPrepare: async () => 0,
    stopWarmUp: async () => undefined,
    prepare: async (req) => {
      this.preparing.push(req.name);
      // `big*` stands for an image too large to prepare ahead.
      if (req.name.startsWith('big')) return null;
      const prepared = { name: req.name, spec: req.spec, norm: null, contrastBytes: null, labelPlan: null };
      return {
        prepared: prepared as unknown as PreparedAhead['prepared'],
        preview: { width: 1, height: 1, data: new Uint8Array(1) },
        times: { decode: 1 },
      };
    },
    demoImage: async () => ({ name: 'demo3.png', bytes: new Uint8Array([1, 2, 3]) }),
    forget: async (id) => void this.docs.delete(id),
    inferenceRuns: async () => this.analysed.length,
    warmUpRuns: async () => 0,
  };
}

function file(name: string, content = name): File {
  return new File([new TextEncoder().encode(content)], name, { type: 'image/png' });
}

function setup(storage = new FakeStorage()) {
  const workers = new FakeWorkers(storage);
  const deps: Deps = {
    client: workers,
    storage,
    state: { batch, ui, settings, calibration, engine },
    counters: { analyses: 0, cacheHits: 0 },
  };
  const c = createController(deps, '/models/saemi-unet.json');
  return { c, workers, storage, deps };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

const item = (name: string) => batch.items.find((i) => i.name === name)!;
const status = () => batch.items.map((i) => `${i.name}:${i.status}${i.error ? `(${i.error})` : ''}`);

beforeEach(() => {
  const mem = new Map<string, string>();
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => mem.get(k) ?? null,
    setItem: (k: string, v: string) => void mem.set(k, v),
    removeItem: (k: string) => void mem.delete(k),
  });
  batch.clear();
  ui.selectedImage = null;
  calibration.batch = null;
  calibration.batchOverMetadata = false;
  calibration.batchReport = null;
  Object.assign(settings.options, DEFAULT_OPTIONS, { minAreaPx: 1 } satisfies Partial<AnalysisOptions>);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('controller: the queue', () => {
  it('analyses images one at a time, in order; a broken file is reported and the batch goes on', async () => {
    const { c, workers } = setup();
    await c.startEngine();
    c.addFiles([file('a2.png'), file('bad.png'), file('c4.png')]);
    await until(() => !batch.busy && batch.items.length === 3, 'the batch');
    await c.idle();
    expect(workers.analysed).toEqual(['a2.png', 'bad.png', 'c4.png']);
    expect(workers.maxInFlight).toBe(1);
    expect(status()).toEqual(['a2.png:done', 'bad.png:error(bad.png: not an image)', 'c4.png:done']);
    // The file itself is at fault: no retry is offered for it.
    expect(item('bad.png').errorInFile).toBe(true);
    expect(item('a2.png').count).toBe(2);
    expect(item('c4.png').count).toBe(4);
    expect(c.counters.analyses).toBe(3);
    expect(ui.selectedImage).toBe(item('a2.png').id);
  });

  it("the next image is prepared during this one's post-network stages and analysed from that", async () => {
    const { c, workers } = setup();
    await c.startEngine();
    c.addFiles([file('a1.png'), file('b2.png'), file('big3.png'), file('d4.png')]);
    await until(() => !batch.busy && batch.items.length === 4, 'the batch');
    await c.idle();
    expect(workers.analysed).toEqual(['a1.png', 'b2.png', 'big3.png', 'd4.png']);
    // The first image has nothing before it; big3 was asked for but not prepared (too large).
    expect(workers.preparing).toEqual(['b2.png', 'big3.png', 'd4.png']);
    expect(workers.preparedUsed).toEqual(['b2.png', 'd4.png']);
    expect(item('b2.png').timings).toMatchObject({ ahead: expect.any(Number), decode: 1 });
    expect(item('big3.png').timings).not.toHaveProperty('ahead');
    expect(status()).toEqual(['a1.png:done', 'b2.png:done', 'big3.png:done', 'd4.png:done']);
  });

  it('the same content under another name is not a second row, and the user is told', async () => {
    const { c, workers } = setup();
    const notify = vi.spyOn(ui, 'notify').mockImplementation(() => undefined);
    await c.startEngine();
    c.addFiles([file('x3.png', 'same bytes'), file('copy3.png', 'same bytes')]);
    await until(() => !batch.busy && batch.items.length === 1, 'the repeat to leave');
    await c.idle();
    expect(batch.items.map((i) => i.name)).toEqual(['x3.png']);
    expect(workers.analysed).toEqual(['x3.png']);
    expect(notify).toHaveBeenCalledWith('copy3.png is already in the batch as x3.png; not added again');
  });

  it('cancel ends the running image, restarts only the compute side, and the queue goes on', async () => {
    const { c, workers } = setup();
    await c.startEngine();
    c.addFiles([file('hang.png'), file('next2.png')]);
    await until(() => item('hang.png')?.status === 'analysing' && workers.inFlight === 1, 'hang to start');
    await c.cancel(false);
    await until(() => !batch.busy, 'the rest of the batch');
    await c.idle();
    expect(status()).toEqual(['hang.png:error(cancelled)', 'next2.png:done']);
    expect(item('hang.png').errorInFile).toBe(false);
    expect(workers.restarts).toBe(1);
    // Retry queues it again (and this time it is cancelled together with the queue behind it).
    c.addFiles([file('later1.png')]);
    c.retry(item('hang.png'));
    await until(() => item('hang.png').status === 'analysing', 'retry');
    await c.cancel(true);
    await c.idle();
    expect(status()).toEqual(['hang.png:error(cancelled)', 'next2.png:done', 'later1.png:error(cancelled)']);
    expect(workers.restarts).toBe(2);
  });
  it('clear data empties the cache at once: the same image added right after is analysed again', async () => {
    const { c, workers, storage } = setup();
    await c.startEngine();
    c.addFiles([file('k2.png')]);
    await until(() => item('k2.png')?.status === 'done', 'k2');
    await c.clearData();
    expect(batch.items).toHaveLength(0);
    expect(storage.results.size).toBe(0);
    c.addFiles([file('k2.png')]);
    await until(() => item('k2.png')?.status === 'done', 'k2 again');
    expect(workers.analysed).toEqual(['k2.png', 'k2.png']);
  });
});

describe('controller: editing', () => {
  it('edits made before a cancel stay undoable after it; undone to the original the row is not edited', async () => {
    const { c } = setup();
    await c.startEngine();
    c.addFiles([file('e3.png')]);
    await until(() => item('e3.png')?.status === 'done', 'e3');
    ui.selectedImage = item('e3.png').id;
    await c.editSelected({ kind: 'delete', id: 2 });
    expect(item('e3.png').count).toBe(2);
    expect(item('e3.png').edited).toBe(true);
    expect(item('e3.png').canUndo).toBe(true);

    c.addFiles([file('hang.png')]);
    await until(() => item('hang.png')?.status === 'analysing', 'hang');
    await c.cancel(false);
    await c.idle();

    await c.undo();
    expect(item('e3.png').count).toBe(3);
    expect(item('e3.png').edited).toBe(false);
    expect(item('e3.png').canRedo).toBe(true);
    await c.redo();
    expect(item('e3.png').count).toBe(2);
    expect(item('e3.png').edited).toBe(true);
  });

  it('a reload restores done images from the cache (edited ones as edited) and analyses nothing again', async () => {
    const storage = new FakeStorage();
    const first = setup(storage);
    await first.c.startEngine();
    first.c.addFiles([file('r2.png'), file('s5.png')]);
    await until(() => batch.items.length === 2 && !batch.busy, 'first visit');
    await first.c.idle();
    ui.selectedImage = item('s5.png').id;
    await first.c.editSelected({ kind: 'delete', id: 1 });
    await first.c.settled();

    batch.clear();
    const second = setup(storage);
    await second.c.startEngine();
    await second.c.restoreBatch();
    await second.c.idle();
    expect(status()).toEqual(['r2.png:done', 's5.png:done']);
    expect(second.workers.analysed).toEqual([]);
    expect(second.c.counters.cacheHits).toBe(2);
    expect(item('s5.png').count).toBe(4);
    expect(item('s5.png').edited).toBe(true);
    expect(ui.selectedImage).toBe(item('s5.png').id);
    // The restored edit is the start of this visit's history: nothing to undo, still edited.
    expect(await second.c.ensureHeld(item('s5.png'))).toBe(true);
    expect(item('s5.png').canUndo).toBe(false);
  });

  it('a row shown done is saved done: a tab closed that moment reopens it finished, the rest queued', async () => {
    const storage = new FakeStorage();
    const first = setup(storage);
    await first.c.startEngine();
    first.c.addFiles([file('f3.png'), file('hang.png'), file('g2.png')]);
    await until(() => item('f3.png').status === 'done', 'the first row');
    // No throttled save has come yet (they wait 150 ms): this one was written before the row turned done.
    expect(storage.saved?.items.map((i) => `${i.name}:${i.status}`)).toEqual([
      'f3.png:done',
      'hang.png:queued',
      'g2.png:queued',
    ]);
    expect(storage.saved?.items.every((i) => i.fileHash)).toBe(true);

    batch.clear();
    const second = setup(storage);
    await second.c.startEngine();
    await second.c.restoreBatch();
    expect(item('f3.png').status).toBe('done');
    expect(item('f3.png').count).toBe(3);
    expect(item('g2.png').error).toBeNull();
  });

  it('a batch pixel size leaves images calibrated by their metadata alone, and says which it changed', async () => {
    const { c } = setup();
    await c.startEngine();
    c.addFiles([file('meta2.png'), file('plain2.png')]);
    await until(() => batch.items.length === 2 && !batch.busy, 'batch');
    await c.idle();
    await c.setBatchCalibration({ pixelSize: 0.5, unit: 'nm', detail: 'typed' }, false);
    expect(calibration.batchReport).toEqual({ applied: ['plain2.png'], keptMetadata: ['meta2.png'] });
    expect(item('meta2.png').analysis?.calibration).toMatchObject({ pixelSize: 3, source: 'metadata' });
    expect(item('plain2.png').analysis?.calibration).toMatchObject({ pixelSize: 0.5, source: 'manual' });
    // Asked to, it overrides the metadata too.
    calibration.batchOverMetadata = true;
    await c.setBatchCalibration({ pixelSize: 0.5, unit: 'nm', detail: 'typed' }, false);
    expect(calibration.batchReport).toEqual({ applied: ['meta2.png', 'plain2.png'], keptMetadata: [] });
    expect(item('meta2.png').analysis?.calibration).toMatchObject({ pixelSize: 0.5, source: 'manual' });
  });

  it('a measurement setting re-measures without analysing; a segmentation setting marks results stale', async () => {
    const { c, workers } = setup();
    await c.startEngine();
    c.addFiles([file('m4.png')]);
    await until(() => item('m4.png')?.status === 'done', 'm4');
    settings.options.minAreaPx = 50;
    await c.settingsChanged();
    expect(item('m4.png').count).toBe(0);
    expect(item('m4.png').stale).toBe(false);
    settings.options.watershed = !settings.options.watershed;
    await c.settingsChanged();
    expect(item('m4.png').stale).toBe(true);
    expect(workers.analysed).toEqual(['m4.png']);
    c.reanalyseStale();
    await until(() => workers.analysed.length === 2 && !batch.busy, 're-analysis');
    expect(item('m4.png').stale).toBe(false);
  });
});

describe('controller: the model', () => {
  it('asks the worker for the precision the settings say, and remembers the setting', async () => {
    const { c, workers } = setup();
    settings.precision = 'auto';
    await c.startEngine();
    expect(workers.lastInit).toEqual({
      model: { sidecarUrl: '/models/saemi-unet.json' },
      preferGpu: settings.preferGpu,
      precision: 'auto',
    });
    expect(engine.backendLabel).toBe('WASM · 2 threads · int8');
    settings.precision = 'fp32';
    settings.save();
    await c.startEngine();
    expect(workers.lastInit?.precision).toBe('fp32');
    expect(JSON.parse(localStorage.getItem('saemi:settings:v1')!).precision).toBe('fp32');
    settings.precision = 'auto';
  });
});
