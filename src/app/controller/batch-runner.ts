/**
 * The queue: images join the batch, their bytes are stashed, and they are analysed one at a time (the compute
 * worker uses every core for one image), each from the cache when its result is there. Cancel terminates the
 * compute worker; documents and their edit histories live in the document worker and stay.
 */
import * as Comlink from 'comlink';
import { BatchItem, newItemId } from '../state/batch.svelte';
import { sha256Hex } from '../../core/hash';
import { preparedBuffers } from '../../core/prepared-image';
import type { PreparedAhead } from '../../worker/api';
import { isSidecarText, stemOf } from '../services/files';
import type { BatchStore } from './batch-store';
import type { Editor } from './editor';
import { optionsKey, type Measurements } from './measurements';
import type { Deps } from './ports';
import type { AnalysisOptions } from '../../core/types';

class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Stages after the network: the analysis worker then runs on one core, and the next image is prepared on the
 * other (prepare.worker.ts). Beside the network it would take a core from inference.
 */
const POST_NETWORK = new Set(['instances', 'contrast', 'scale-bar', 'measure']);

/** Everything preparing depends on: an image prepared with other options is analysed whole. */
function prepareKey(o: AnalysisOptions): string {
  return JSON.stringify({ ...o, pixelSizeOverride: null });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class BatchRunner {
  private cancelCurrent: (() => void) | null = null;
  private running: BatchItem | null = null;
  private pumping = false;
  private stashing: Promise<void> = Promise.resolve();
  /**
   * The next queued image's bytes, read while the current one is in the worker, so the worker has its next
   * image without waiting for the file read. Read once, used once; a WeakMap lets a removed item's read go.
   */
  private readonly readAhead = new WeakMap<BatchItem, Promise<Uint8Array>>();

  /** The next image, prepared by the prepare worker during the current one's post-processing; used once. */
  private readonly preparedAhead = new WeakMap<
    BatchItem,
    { key: string; ready: Promise<PreparedAhead | null> }
  >();

  constructor(
    private readonly d: Deps,
    private readonly m: Measurements,
    private readonly store: BatchStore,
    private readonly editor: Editor,
  ) {}

  /** True while an image is being worked on or the queue is being walked. */
  get active(): boolean {
    return this.pumping || this.d.state.batch.busy;
  }

  /** Adds files (dropped, picked, pasted, opened by the OS): images join the batch, text side-cars attach. */
  addFiles(files: File[]): void {
    const { batch, ui } = this.d.state;
    const texts = new Map<string, File[]>();
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
    const added: BatchItem[] = [];
    const sidecarsRead: Promise<unknown>[] = [];
    for (const f of inputs) {
      const item = new BatchItem(newItemId(), f.name, f.size);
      item.file = f;
      added.push(item);
      const side = texts.get(stemOf(f.name));
      if (side)
        sidecarsRead.push(Promise.all(side.map((t) => t.text())).then((t) => (item.sidecarTexts = t)));
      batch.add(item);
    }
    if (added.length && !batch.byId(ui.selectedImage)) ui.selectedImage = added[0].id;
    this.store.persist();
    this.stashBytes(added);
    // An image is analysed with its side-car's calibration, so the queue waits for those reads.
    void Promise.allSettled(sidecarsRead).then(() => this.pump());
  }

  /**
   * The same content added again (the same file twice, or a copy under another name) is not a second image: it
   * would be analysed for nothing and counted twice in the pooled statistics. The later row leaves the batch,
   * and the user is told which row already holds it. True when `item` was such a repeat.
   */
  private dropIfRepeat(item: BatchItem): boolean {
    const { batch, ui } = this.d.state;
    if (!item.fileHash || !batch.byId(item.id)) return false;
    const at = batch.items.indexOf(item);
    const first = batch.items.find((o, k) => k < at && o.fileHash === item.fileHash);
    if (!first) return false;
    batch.remove(item.id);
    if (ui.selectedImage === item.id) ui.selectedImage = first.id;
    const as = first.name === item.name ? '' : ` as ${first.name}`;
    ui.notify(`${item.name} is already in the batch${as}; not added again`);
    this.store.persist();
    return true;
  }

  /**
   * Stores each added image's bytes in IndexedDB now rather than when its turn comes, one at a time beside
   * the analyses: a tab closed mid-batch then reopens with every image, and the unfinished ones queued again.
   */
  private stashBytes(items: BatchItem[]): void {
    this.stashing = this.stashing.then(async () => {
      for (const item of items) {
        if (!item.file || item.bytesStored || !this.d.state.batch.byId(item.id)) continue;
        try {
          const bytes = new Uint8Array(await item.file.arrayBuffer());
          const hash = await sha256Hex(bytes);
          item.fileHash ??= hash;
          // One being analysed is checked by the analysis itself.
          if (item.status === 'queued' && this.dropIfRepeat(item)) continue;
          await this.d.storage.putFileBytes(hash, bytes);
          item.bytesStored = true;
          this.store.persist();
        } catch {
          // Unreadable now: the analysis reports it when the image's turn comes.
        }
      }
    });
  }

  /** Settles when every added image's bytes have been stashed (tests). */
  stashed(): Promise<void> {
    return this.stashing;
  }

  /** Works through queued images one at a time. */
  async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      if (this.d.client.ready) await this.d.client.ready;
      for (;;) {
        const item = this.d.state.batch.items.find((i) => i.status === 'queued');
        if (!item) break;
        await this.runItem(item);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async readBytes(item: BatchItem): Promise<Uint8Array> {
    if (item.file) {
      try {
        return new Uint8Array(await item.file.arrayBuffer());
      } catch {
        throw new Error('the file could not be read (moved or deleted since it was added?)');
      }
    }
    const stored = item.fileHash ? await this.d.storage.getFileBytes(item.fileHash) : undefined;
    if (!stored) throw new Error('image no longer stored in this browser: add the file again');
    return stored;
  }

  private readNextAhead(current: BatchItem): void {
    const next = this.d.state.batch.items.find((i) => i.status === 'queued' && i !== current);
    if (!next || this.readAhead.has(next)) return;
    const p = this.readBytes(next);
    p.catch(() => undefined); // the error is reported when that image's turn comes
    this.readAhead.set(next, p);
  }

  /** Prepares the next queued image (its bytes already read ahead) in the prepare worker. */
  private prepareNext(current: BatchItem): void {
    const next = this.d.state.batch.items.find((i) => i.status === 'queued' && i !== current);
    const read = next && this.readAhead.get(next);
    if (!next || !read || this.preparedAhead.has(next)) return;
    const options = this.m.optionsFor(next);
    const ready = (async () => {
      const info = await this.d.client.ready;
      // A copy: the read-ahead bytes go to the analysis worker with the analysis request.
      const bytes = (await read).slice();
      const sidecarTexts = [...next.sidecarTexts];
      const spec = info?.prepareSpec ?? null;
      return this.d.client.api.prepare(
        Comlink.transfer({ name: next.name, bytes, sidecarTexts, options, spec }, [bytes.buffer]),
      );
    })().catch(() => null);
    this.preparedAhead.set(next, { key: prepareKey(options), ready });
  }

  /** The item's preparation, when there is one for these options (null when it gave none). */
  private async takePrepared(item: BatchItem, options: AnalysisOptions): Promise<PreparedAhead | null> {
    const ahead = this.preparedAhead.get(item);
    this.preparedAhead.delete(item);
    return ahead && ahead.key === prepareKey(options) ? ahead.ready : null;
  }

  private takeBytes(item: BatchItem): Promise<Uint8Array> {
    const p = this.readAhead.get(item);
    this.readAhead.delete(item);
    return p ?? this.readBytes(item);
  }

  private async runItem(item: BatchItem): Promise<void> {
    const { client, counters } = this.d;
    const { ui } = this.d.state;
    this.running = item;
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
      const bytes = await this.takeBytes(item);
      mark('read');
      if (!item.fileHash) item.fileHash = await sha256Hex(bytes);
      mark('hash');
      if (this.dropIfRepeat(item)) return;
      const key = this.m.currentKey(item) as string;
      item.cacheKey = key;
      const restored = await this.editor.restoreResult(item);
      mark('lookup');
      if (restored) {
        counters.cacheHits++;
        item.fromCache = true;
      } else {
        // After a cancel the fresh worker must have its model before it is given work.
        if (client.ready) await client.ready;
        const options = this.m.optionsFor(item);
        const prepared = await this.takePrepared(item, options);
        // The wait for a preparation still running (it overlapped the previous image's post-processing).
        if (prepared) mark('ahead');
        counters.analyses++;
        this.readNextAhead(item);
        const cancelled = new Promise<never>(
          (_, reject) => (this.cancelCurrent = () => reject(new Cancelled())),
        );
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
                ...(prepared ? { prepared } : {}),
              },
              [
                bytes.buffer,
                ...(prepared ? [...preparedBuffers(prepared.prepared), prepared.preview.data.buffer] : []),
              ],
            ),
            Comlink.proxy((stage: string, fraction: number) => {
              item.stage = stage;
              item.progress = Math.max(0, Math.min(1, fraction));
              if (POST_NETWORK.has(stage)) this.prepareNext(item);
            }),
          ),
          cancelled,
        ]);
        client.held.add(item.id);
        item.bytesStored = true;
        this.m.set(item.id, optionsKey(options));
        mark('call');
        // A prepared image's decode, preview, calibrate and normalise ran in the prepare worker, off its path.
        item.timings = { ...marks, ...(prepared?.times ?? {}), ...res.timings };
        item.analysis = res.analysis;
        item.bitmap = res.bitmap;
        item.fromCache = false;
        item.autoSource = res.autoCalibration.source;
        // Only now is it known whether the file had a pixel size the batch calibration must leave alone.
        await this.editor.remeasureIfOutdated(item);
      }
      item.cacheKey = key;
      item.edited = false;
      item.stale = false;
      item.canUndo = item.canRedo = false;
      // Not awaited: nothing that follows reads it, and IndexedDB keeps the order of writes.
      void this.d.storage.delEdited(item.id).catch(() => undefined);
      await this.store.finish(item, () => {
        item.status = 'done';
        item.progress = 1;
        item.stage = '';
      });
    } catch (e) {
      item.status = 'error';
      item.error = e instanceof Cancelled ? 'cancelled' : message(e);
      // Comlink carries an Error's name across from the worker.
      item.errorInFile = e instanceof Error && e.name === 'InputError';
    } finally {
      this.cancelCurrent = null;
      this.running = null;
    }
    this.store.persist();
  }

  /** Cancels the image being analysed (the compute worker is replaced) and, with `all`, everything queued. */
  async cancel(all: boolean): Promise<void> {
    const { batch, engine } = this.d.state;
    if (all) {
      for (const i of batch.items) {
        if (i.status === 'queued') {
          i.status = 'error';
          i.error = 'cancelled';
        }
        // A preparation waiting for its image holds that image's normalised copy (up to ~100 MB).
        this.preparedAhead.delete(i);
      }
    }
    if (this.running && this.cancelCurrent) {
      this.cancelCurrent();
      const info = await this.d.client.restart();
      if (info) engine.info = info;
    }
    this.store.persist();
  }

  /** Queues an image again (after an error, a cancel, or a settings change). */
  retry(item: BatchItem): void {
    item.status = 'queued';
    item.error = null;
    void this.pump();
  }

  /** Re-analyses every image whose results are stale (settings or model changed). Edits on them are lost. */
  reanalyseStale(): void {
    for (const i of this.d.state.batch.items) if (i.stale || i.status === 'error') this.retry(i);
  }

  async removeItem(item: BatchItem): Promise<void> {
    const { client, storage } = this.d;
    const { batch, ui } = this.d.state;
    if (this.running === item) await this.cancel(false);
    batch.remove(item.id);
    client.held.delete(item.id);
    this.m.forget(item.id);
    void storage.delEdited(item.id);
    void client.api.forget(item.id);
    if (ui.selectedImage === item.id) ui.selectedImage = batch.items[0]?.id ?? null;
    this.store.persist();
  }

  async clearData(): Promise<void> {
    const { client, storage, counters } = this.d;
    const { batch, ui } = this.d.state;
    await this.cancel(true);
    // The storage is emptied before the rows go: a save still pending would write the old batch back, and an
    // image added the moment the rows are gone must not find the old results.
    await this.store.settled();
    await storage.clearAll();
    for (const i of batch.items) {
      void client.api.forget(i.id);
      this.m.forget(i.id);
    }
    client.held.clear();
    batch.clear();
    ui.selectedImage = null;
    counters.cacheHits = 0;
  }

  /** Waits until no image is queued or being analysed (session import applies edits after this). */
  async idle(): Promise<void> {
    while (this.active) await new Promise((r) => setTimeout(r, 50));
  }

  async addDemo(): Promise<void> {
    if (this.d.client.ready) await this.d.client.ready;
    const demo = await this.d.client.api.demoImage();
    this.addFiles([new File([demo.bytes as Uint8Array<ArrayBuffer>], demo.name, { type: 'image/png' })]);
  }
}
