/**
 * The app's controller: turns user intents (add files, cancel, edit, change settings, calibrate) into
 * worker calls, keeps the batch state and the IndexedDB cache in step. Components call these functions
 * and render state; nothing here touches the DOM.
 */
import * as Comlink from 'comlink';
import type { AnalysisOptions } from '../../core/types';
import type { EditIntent, EditOutcome, InitOptions } from '../../worker/api';
import { sidecarProblem, type ModelSidecar } from '../../core/segment/model';
import { batch, BatchItem, newItemId } from '../state/batch.svelte';
import { calibration, type ManualCalibration } from '../state/calibration.svelte';
import { engine } from '../state/engine.svelte';
import { settings, MEASUREMENT_KEYS } from '../state/settings.svelte';
import { ui } from '../state/ui.svelte';
import {
  clearAll,
  delCustomModel,
  delEdited,
  getBatch,
  getCustomModel,
  getEdited,
  getFileBytes,
  getResult,
  putBatch,
  putFileBytes,
  putCustomModel,
  resultKey,
  type StoredBatch,
} from '../../storage/cache';
import { sha256Hex } from '../../core/hash';
import { WorkerClient } from './worker-client';
import { isSidecarText, stemOf } from './files';

export const client = new WorkerClient();

/** Counters the e2e tests read (window.__saemi): analyses sent to the worker, cache restores. */
export const counters = $state({ analyses: 0, cacheHits: 0 });

class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

let cancelCurrent: (() => void) | null = null;
let running: BatchItem | null = null;

function message(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

async function modelInit(): Promise<InitOptions> {
  const preferGpu = settings.preferGpu;
  if (settings.modelChoice === 'custom') {
    const m = await getCustomModel();
    if (m) return { model: { bytes: m.bytes, sidecar: m.sidecar }, preferGpu };
  }
  return { model: { sidecarUrl: `${import.meta.env.BASE_URL}models/saemi-unet.json` }, preferGpu };
}

/** Starts (or restarts, after a model change) the worker's model; results from another model go stale. */
export async function startEngine(): Promise<void> {
  engine.ready = false;
  const info = await client.init(modelInit);
  engine.info = info;
  engine.ready = true;
  if (settings.modelChoice === 'custom') engine.customModelName = info.model?.name ?? null;
  markStale();
}

/**
 * The image's own manual pixel size, else the batch's — which leaves an image whose file metadata gave a pixel
 * size alone unless the user asked for that too.
 */
function manualFor(item: BatchItem): ManualCalibration | null {
  if (item.manual) return item.manual;
  if (!calibration.batch) return null;
  return item.autoSource === 'metadata' && !calibration.batchOverMetadata ? null : calibration.batch;
}

/** The options one image is analysed and measured with: batch settings plus its manual pixel size. */
export function optionsFor(item: BatchItem): AnalysisOptions {
  const o = $state.snapshot(settings.options) as AnalysisOptions;
  const m = manualFor(item);
  return { ...o, pixelSizeOverride: m ? { pixelSize: m.pixelSize, unit: m.unit } : null };
}

/** What measurement depends on besides the labels; when it changes, results are re-measured. */
function measurementKey(item: BatchItem): string {
  return optionsKey(optionsFor(item));
}

function optionsKey(o: AnalysisOptions): string {
  return JSON.stringify([...MEASUREMENT_KEYS.map((k) => o[k]), o.pixelSizeOverride]);
}
/** Measurement key each held image was last measured with (bookkeeping, not displayed: not reactive). */
// eslint-disable-next-line svelte/prefer-svelte-reactivity
const measured = new Map<string, string>();

function currentKey(item: BatchItem): string | null {
  return item.fileHash ? resultKey(item.fileHash, engine.modelKey, settings.segmentationKey()) : null;
}

/** Flags done images whose results came from other segmentation settings or another model. */
export function markStale(): void {
  for (const item of batch.items) {
    if (item.status !== 'done') continue;
    item.stale = item.cacheKey !== null && item.cacheKey !== currentKey(item);
  }
}

// ---------------------------------------------------------------- persistence of the batch

let persistTimer: ReturnType<typeof setTimeout> | null = null;

export function persistBatch(): void {
  // Throttled, not debounced: while a batch runs (rows finishing, bytes being stored) the saved state must
  // still be at most 150 ms old, or a tab closed then reopens without it.
  if (persistTimer) return;
  persistTimer = setTimeout(() => {
    persistTimer = null;
    const b: StoredBatch = {
      items: batch.items.map((i) => ({
        id: i.id,
        name: i.name,
        size: i.size,
        status: i.status === 'analysing' ? 'queued' : i.status,
        error: i.error,
        errorInFile: i.errorInFile,
        fileHash: i.fileHash,
        cacheKey: i.cacheKey,
        manual: i.manual ? { ...i.manual } : null,
        edited: i.edited,
        sidecarTexts: [...i.sidecarTexts],
        measuredKey: measured.get(i.id),
      })),
      selected: ui.selectedImage,
      batchCalibration: calibration.batch ? { ...calibration.batch } : null,
    };
    void putBatch(b);
  }, 150);
}

/** Restores the batch saved by the last visit: results come from IndexedDB, nothing is re-analysed. */
export async function restoreBatch(): Promise<void> {
  const stored = await getBatch();
  if (!stored || stored.items.length === 0) return;
  calibration.batch = stored.batchCalibration;
  for (const s of stored.items) {
    const item = new BatchItem(s.id, s.name, s.size);
    item.fileHash = s.fileHash;
    item.cacheKey = s.cacheKey;
    item.manual = s.manual;
    item.sidecarTexts = s.sidecarTexts ?? [];
    item.error = s.error;
    item.errorInFile = s.errorInFile ?? false;
    item.status = s.status === 'error' ? 'error' : 'queued';
    if (s.status === 'done') {
      const cached = !s.edited && s.cacheKey ? await getResult(s.cacheKey) : undefined;
      const a = s.edited ? await getEdited(s.id) : cached?.analysis;
      // What the loaded analysis was measured with: the edited state's last options, or the cached result's.
      const key = s.edited ? s.measuredKey : cached ? optionsKey(cached.options) : undefined;
      if (key) measured.set(s.id, key);
      if (a) {
        item.analysis = a;
        item.edited = s.edited;
        item.status = 'done';
        item.fromCache = true;
        counters.cacheHits++;
      }
    }
    if (item.status === 'queued' && !item.fileHash) {
      item.status = 'error';
      item.error = 'image no longer stored in this browser: add the file again';
    }
    batch.add(item);
  }
  ui.selectedImage = batch.byId(stored.selected)?.id ?? batch.items[0]?.id ?? null;
  markStale();
  // Results measured with other options than today's (min area, edges, pixel size) are re-measured.
  void remeasureAll();
  void pump();
}

// ---------------------------------------------------------------- adding images and the queue

/** Adds files (dropped, picked, pasted, opened by the OS): images join the batch, text side-cars attach. */
export function addFiles(files: File[]): void {
  // Local bookkeeping, never rendered.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const texts = new Map<string, File[]>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const imageStems = new Set(files.filter((f) => !isSidecarText(f.name)).map((f) => stemOf(f.name)));
  const inputs: File[] = [];
  for (const f of files) {
    // A text file named like an image is that image's calibration side-car (Hitachi, JEOL).
    if (isSidecarText(f.name) && imageStems.has(stemOf(f.name))) {
      const list = texts.get(stemOf(f.name)) ?? [];
      list.push(f);
      texts.set(stemOf(f.name), list);
    } else inputs.push(f);
  }
  let first: BatchItem | null = null;
  const added: BatchItem[] = [];
  for (const f of inputs) {
    const item = new BatchItem(newItemId(), f.name, f.size);
    item.file = f;
    added.push(item);
    const side = texts.get(stemOf(f.name));
    if (side) void Promise.all(side.map((t) => t.text())).then((t) => (item.sidecarTexts = t));
    batch.add(item);
    first ??= item;
  }
  if (first && !batch.byId(ui.selectedImage)) ui.selectedImage = first.id;
  persistBatch();
  stashBytes(added);
  // Side-car texts are read asynchronously; give them a tick before the first analysis starts.
  setTimeout(pump, 0);
}

/**
 * The same content added again (the same file twice, or a copy under another name) is not a second image: it
 * would be analysed for nothing and counted twice in the pooled statistics. The later row leaves the batch,
 * and the user is told which row already holds it. True when `item` was such a repeat.
 */
function dropIfRepeat(item: BatchItem): boolean {
  if (!item.fileHash || !batch.byId(item.id)) return false;
  const at = batch.items.indexOf(item);
  const first = batch.items.find((o, k) => k < at && o.fileHash === item.fileHash);
  if (!first) return false;
  batch.remove(item.id);
  if (ui.selectedImage === item.id) ui.selectedImage = first.id;
  const as = first.name === item.name ? '' : ` as ${first.name}`;
  ui.notify(`${item.name} is already in the batch${as}; not added again`);
  persistBatch();
  return true;
}

let stashing: Promise<void> = Promise.resolve();

/**
 * Stores each added image's bytes in IndexedDB now rather than when its turn comes, one at a time beside
 * the analyses: a tab closed mid-batch then reopens with every image, and the unfinished ones queued again.
 */
function stashBytes(items: BatchItem[]): void {
  stashing = stashing.then(async () => {
    for (const item of items) {
      if (!item.file || item.bytesStored || !batch.byId(item.id)) continue;
      try {
        const bytes = new Uint8Array(await item.file.arrayBuffer());
        const hash = await sha256Hex(bytes);
        item.fileHash ??= hash;
        // One being analysed is checked by the analysis itself.
        if (item.status === 'queued' && dropIfRepeat(item)) continue;
        await putFileBytes(hash, bytes);
        item.bytesStored = true;
        persistBatch();
      } catch {
        // Unreadable now: the analysis reports it when the image's turn comes.
      }
    }
  });
}

let pumping = false;

/** Works through queued images one at a time (the worker uses every core for one image). */
export async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    if (client.ready) await client.ready;
    for (;;) {
      const item = batch.items.find((i) => i.status === 'queued');
      if (!item) break;
      await runItem(item);
    }
  } finally {
    pumping = false;
  }
}

async function readBytes(item: BatchItem): Promise<Uint8Array> {
  if (item.file) {
    try {
      return new Uint8Array(await item.file.arrayBuffer());
    } catch {
      throw new Error('the file could not be read (moved or deleted since it was added?)');
    }
  }
  const stored = item.fileHash ? await getFileBytes(item.fileHash) : undefined;
  if (!stored) throw new Error('image no longer stored in this browser: add the file again');
  return stored;
}

/**
 * The next queued image's bytes, read while the current one is in the worker, so the worker has its next image
 * without waiting for the file read. Read once, used once; a WeakMap lets a removed item's read go.
 */
const readAhead = new WeakMap<BatchItem, Promise<Uint8Array>>();

function readNextAhead(current: BatchItem): void {
  const next = batch.items.find((i) => i.status === 'queued' && i !== current);
  if (!next || readAhead.has(next)) return;
  const p = readBytes(next);
  p.catch(() => undefined); // the error is reported when that image's turn comes
  readAhead.set(next, p);
}

function takeBytes(item: BatchItem): Promise<Uint8Array> {
  const p = readAhead.get(item);
  readAhead.delete(item);
  return p ?? readBytes(item);
}

async function runItem(item: BatchItem): Promise<void> {
  running = item;
  item.status = 'analysing';
  item.stage = 'reading';
  item.progress = 0;
  item.error = null;
  item.errorInFile = false;
  // Analysing again starts from the unedited result; the worker must not treat it as edited.
  item.edited = item.editedBase = false;
  item.canUndo = item.canRedo = false;
  // Page-side marks beside the worker's own (ms): reading the file, hashing it, the cache lookup.
  const marks: Record<string, number> = {};
  let t = performance.now();
  const mark = (name: string): void => {
    const now = performance.now();
    marks[name] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  try {
    const bytes = await takeBytes(item);
    mark('read');
    if (!item.fileHash) item.fileHash = await sha256Hex(bytes);
    mark('hash');
    if (dropIfRepeat(item)) return;
    const key = currentKey(item) as string;
    item.cacheKey = key;
    const restored = await restoreResult(item);
    mark('lookup');
    if (restored) {
      counters.cacheHits++;
      item.fromCache = true;
    } else {
      // After a cancel the fresh worker must have its model before it is given work.
      if (client.ready) await client.ready;
      const options = optionsFor(item);
      counters.analyses++;
      readNextAhead(item);
      const cancelled = new Promise<never>((_, reject) => (cancelCurrent = () => reject(new Cancelled())));
      const res = await Promise.race([
        client.api.analyze(
          Comlink.transfer(
            {
              id: item.id,
              name: item.name,
              bytes,
              sidecarTexts: [...item.sidecarTexts],
              options,
              fileHash: item.fileHash,
              // Keep the bytes so a reload (or a settings change) can re-analyse without the original file.
              storeBytes: item.file !== null && !item.bytesStored,
              cacheKey: key,
              withBitmap: ui.selectedImage === item.id,
            },
            [bytes.buffer],
          ),
          Comlink.proxy((stage: string, fraction: number) => {
            item.stage = stage;
            item.progress = Math.max(0, Math.min(1, fraction));
          }),
        ),
        cancelled,
      ]);
      client.held.add(item.id);
      item.bytesStored = true;
      measured.set(item.id, optionsKey(options));
      mark('call');
      item.timings = { ...marks, ...res.timings };
      item.analysis = res.analysis;
      item.bitmap = res.bitmap;
      item.fromCache = false;
      item.autoSource = res.autoCalibration.source;
      // Only now is it known whether the file had a pixel size the batch calibration must leave alone.
      if (optionsKey(options) !== measurementKey(item))
        applyOutcome(item, await client.api.remeasure(item.id, optionsFor(item)), false);
    }
    item.cacheKey = key;
    item.edited = false;
    item.stale = false;
    item.canUndo = item.canRedo = false;
    // Not awaited: nothing that follows reads it, and IndexedDB keeps the order of writes.
    void delEdited(item.id).catch(() => undefined);
    item.status = 'done';
    item.progress = 1;
    item.stage = '';
  } catch (e) {
    item.status = 'error';
    item.error = e instanceof Cancelled ? 'cancelled' : message(e);
    // Comlink carries an Error's name across from the worker.
    item.errorInFile = e instanceof Error && e.name === 'InputError';
  } finally {
    cancelCurrent = null;
    running = null;
  }
  persistBatch();
}

/**
 * Has the worker take this image's result from the cache (for display, editing and export): the saved
 * edited state when the image was edited. Re-measures when the options changed since. False when the
 * cache has no result under the item's key. No inference runs.
 */
async function restoreResult(item: BatchItem): Promise<boolean> {
  if (!item.cacheKey) return false;
  const got = await client.api.adopt(item.id, item.cacheKey, item.edited);
  if (!got) return false;
  item.editedBase = item.edited;
  client.held.add(item.id);
  item.bitmap = got.bitmap;
  item.analysis = got.analysis;
  item.autoSource = got.autoCalibration.source;
  // An edited state was measured with the options of its last edit; a cached result with its own.
  const measuredWith = item.edited ? (measured.get(item.id) ?? '') : optionsKey(got.options);
  measured.set(item.id, measuredWith);
  if (measuredWith !== measurementKey(item)) {
    applyOutcome(item, await client.api.remeasure(item.id, optionsFor(item)), false);
  }
  return true;
}

/**
 * Makes sure the worker holds this image (after a reload or a worker restart), so it can be shown,
 * edited and exported. No inference: the labels come from the cache.
 */
export async function ensureHeld(item: BatchItem): Promise<boolean> {
  if (item.status !== 'done' || !item.analysis) return false;
  if (client.held.has(item.id)) {
    // Analysed off screen: the worker makes the bitmap when the image is first shown.
    item.bitmap ??= await client.api.bitmap(item.id);
    if (item.bitmap) return true;
  }
  return restoreResult(item);
}

/** Cancels the image being analysed (the worker is replaced) and, with `all`, everything queued. */
export async function cancel(all: boolean): Promise<void> {
  if (all) {
    for (const i of batch.items) {
      if (i.status === 'queued') {
        i.status = 'error';
        i.error = 'cancelled';
      }
    }
  }
  if (running && cancelCurrent) {
    cancelCurrent();
    const info = await client.restart();
    if (info) engine.info = info;
  }
  persistBatch();
}

/** Queues an image again (after an error, a cancel, or a settings change). */
export function retry(item: BatchItem): void {
  item.status = 'queued';
  item.error = null;
  void pump();
}

/** Re-analyses every image whose results are stale (settings or model changed). Edits on them are lost. */
export function reanalyseStale(): void {
  for (const i of batch.items) if (i.stale || i.status === 'error') retry(i);
}

export async function removeItem(item: BatchItem): Promise<void> {
  if (running === item) await cancel(false);
  batch.remove(item.id);
  client.held.delete(item.id);
  measured.delete(item.id);
  void delEdited(item.id);
  void client.api.forget(item.id);
  if (ui.selectedImage === item.id) ui.selectedImage = batch.items[0]?.id ?? null;
  persistBatch();
}

export async function clearData(): Promise<void> {
  await cancel(true);
  for (const i of batch.items) void client.api.forget(i.id);
  client.held.clear();
  batch.clear();
  ui.selectedImage = null;
  await clearAll();
  counters.cacheHits = 0;
}

// ---------------------------------------------------------------- editing, re-measuring, calibration

function applyOutcome(item: BatchItem, out: EditOutcome, edited: boolean): void {
  item.analysis = out.analysis;
  item.canUndo = out.canUndo;
  item.canRedo = out.canRedo;
  measured.set(item.id, measurementKey(item));
  // Every step of the history changes pixels, so at its start the labels are the base state's again.
  if (edited) item.edited = item.editedBase || out.canUndo;
  persistBatch();
}

// Edits on one image run in order; a brush stroke must not overtake the previous one.
let editChain: Promise<unknown> = Promise.resolve();
function chained<T>(job: () => Promise<T>): Promise<T> {
  const next = editChain.then(job, job);
  editChain = next.catch(() => undefined);
  return next;
}

export function editSelected(intent: EditIntent): Promise<void> {
  return chained(async () => {
    const item = batch.byId(ui.selectedImage);
    if (!item || !(await ensureHeld(item))) return;
    applyOutcome(item, await client.api.edit(item.id, intent, optionsFor(item)), true);
  });
}

export function undo(): Promise<void> {
  return chained(async () => {
    const item = batch.byId(ui.selectedImage);
    if (!item?.canUndo || !(await ensureHeld(item))) return;
    applyOutcome(item, await client.api.undo(item.id, optionsFor(item)), true);
  });
}

export function redo(): Promise<void> {
  return chained(async () => {
    const item = batch.byId(ui.selectedImage);
    if (!item?.canRedo || !(await ensureHeld(item))) return;
    applyOutcome(item, await client.api.redo(item.id, optionsFor(item)), true);
  });
}

async function remeasureItem(item: BatchItem): Promise<void> {
  if (!client.held.has(item.id)) {
    if (!(await ensureHeld(item))) return;
    if (measured.get(item.id) === measurementKey(item)) return;
  }
  applyOutcome(item, await client.api.remeasure(item.id, optionsFor(item)), false);
}

/** Re-measures every done image whose measurement options (min area, edges, pixel size) changed. */
export function remeasureAll(): Promise<void> {
  return chained(async () => {
    for (const item of batch.items) {
      if (item.status !== 'done' || !item.analysis) continue;
      if (measured.get(item.id) === measurementKey(item)) continue;
      await remeasureItem(item);
    }
  });
}

/** Applies a manual pixel size to one image, or clears it (back to metadata / scale bar / batch). */
export async function setImageCalibration(item: BatchItem, m: ManualCalibration | null): Promise<void> {
  item.manual = m;
  persistBatch();
  await chained(() => remeasureItem(item));
}

/** Applies a manual pixel size to the whole batch (images with their own manual value keep it). */
export async function setBatchCalibration(
  m: ManualCalibration | null,
  overrideImages: boolean,
): Promise<void> {
  calibration.batch = m;
  if (overrideImages) for (const i of batch.items) i.manual = null;
  persistBatch();
  await remeasureAll();
  const applied: string[] = [];
  const keptMetadata: string[] = [];
  if (m)
    for (const i of batch.items) {
      if (i.manual) continue;
      (manualFor(i) === calibration.batch ? applied : keptMetadata).push(i.name);
    }
  calibration.batchReport = m ? { applied, keptMetadata } : null;
}

/** Called after settings change: measurement options re-measure now, segmentation options go stale. */
export function settingsChanged(): void {
  settings.save();
  markStale();
  void remeasureAll();
}

/** Overlay PNG of one image, rendered in the worker. */
export async function overlayPng(item: BatchItem, mode: 'outline' | 'filled'): Promise<Uint8Array | null> {
  if (!(await ensureHeld(item))) return null;
  return client.api.overlayPng(item.id, mode);
}

export async function addDemo(): Promise<void> {
  if (client.ready) await client.ready;
  const demo = await client.api.demoImage();
  addFiles([new File([demo.bytes as Uint8Array<ArrayBuffer>], demo.name, { type: 'image/png' })]);
}

/** Replaces an image's labels with edited ones from a session file (one undoable step). */
export async function applySessionLabels(item: BatchItem, labels: Int32Array): Promise<void> {
  await chained(async () => {
    if (!(await ensureHeld(item))) return;
    applyOutcome(item, await client.api.replaceLabels(item.id, labels, optionsFor(item)), true);
  });
}

/**
 * Measures a label image (16-bit PNG/TIFF from Fiji, Cellpose, a CLI run's labels/) instead of the image's own
 * segmentation: one undoable edit. Returns the one-line reason when the file is not a fitting label image.
 */
export async function importLabelImage(item: BatchItem, file: File): Promise<string | null> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let problem: string | null = null;
  await chained(async () => {
    if (!(await ensureHeld(item))) return;
    try {
      const out = await client.api.importLabels(
        item.id,
        Comlink.transfer({ name: file.name, bytes }, [bytes.buffer]),
        optionsFor(item),
      );
      applyOutcome(item, out, true);
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
  });
  return problem;
}

/** Waits until no image is queued or being analysed (session import applies edits after this). */
export async function idle(): Promise<void> {
  while (batch.busy || pumping) await new Promise((r) => setTimeout(r, 50));
}

// ---------------------------------------------------------------- models

function checkSidecar(s: unknown): asserts s is ModelSidecar {
  const problem = sidecarProblem(s);
  if (problem) throw new Error(`sidecar: ${problem}`);
}

/**
 * Loads a user's model (.onnx + its .json sidecar), keeps it in IndexedDB and switches to it.
 * Returns the error text when the files are not a usable pair (the previous model stays active).
 */
export async function loadCustomModel(files: File[]): Promise<string | null> {
  const onnx = files.find((f) => /\.onnx$/i.test(f.name));
  const json = files.find((f) => /\.json$/i.test(f.name));
  if (!onnx || !json) return 'choose both the .onnx file and its .json sidecar';
  let sidecar: unknown;
  try {
    sidecar = JSON.parse(await json.text());
    checkSidecar(sidecar);
  } catch (e) {
    return `${json.name}: ${message(e)}`;
  }
  const bytes = new Uint8Array(await onnx.arrayBuffer());
  // Try the model before storing it, so a bad pair never replaces a working custom model.
  engine.ready = false;
  const info = await client.init(async () => ({
    model: { bytes: bytes.slice(), sidecar },
    preferGpu: settings.preferGpu,
  }));
  if (!info.model) {
    await startEngine();
    return info.modelError ?? 'model could not be loaded';
  }
  await putCustomModel({ bytes, sidecar, fileName: onnx.name });
  settings.modelChoice = 'custom';
  settings.save();
  client.remember(modelInit);
  engine.info = info;
  engine.customModelName = info.model.name;
  engine.ready = true;
  markStale();
  return null;
}

export async function useBundledModel(): Promise<void> {
  settings.modelChoice = 'bundled';
  settings.save();
  engine.customModelName = null;
  await delCustomModel();
  await startEngine();
}
