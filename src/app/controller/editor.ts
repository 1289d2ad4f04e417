/**
 * Editing and re-measuring images the document worker holds: mask edits, undo/redo, label replacement,
 * manual calibration and measurement options. Edits run one at a time, in the order they were made.
 */
import * as Comlink from 'comlink';
import type { EditIntent, EditOutcome } from '../../worker/api';
import type { BatchItem } from '../state/batch.svelte';
import type { ManualCalibration } from '../state/calibration.svelte';
import type { BatchStore } from './batch-store';
import { optionsKey, type Measurements } from './measurements';
import type { Deps } from './ports';

export class Editor {
  // A brush stroke must not overtake the previous one.
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly d: Deps,
    private readonly m: Measurements,
    private readonly store: BatchStore,
  ) {}

  private chained<T>(job: () => Promise<T>): Promise<T> {
    const next = this.chain.then(job, job);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Takes an edit's (or re-measure's) result into the row. */
  applyOutcome(item: BatchItem, out: EditOutcome, edited: boolean): void {
    item.analysis = out.analysis;
    item.canUndo = out.canUndo;
    item.canRedo = out.canRedo;
    this.m.set(item.id, this.m.wanted(item));
    // Every step of the history changes pixels, so at its start the labels are the base state's again.
    if (edited) item.edited = item.editedBase || out.canUndo;
    this.store.persist();
  }

  /**
   * Has the document worker take this image's result from the cache (for display, editing and export): the
   * saved edited state when the image was edited. Re-measures when the options changed since. False when the
   * cache has no result under the item's key. No inference runs.
   */
  async restoreResult(item: BatchItem): Promise<boolean> {
    const { client } = this.d;
    if (!item.cacheKey) return false;
    const got = await client.api.adopt(item.id, item.cacheKey, item.edited);
    if (!got) return false;
    item.editedBase = item.edited;
    item.canUndo = item.canRedo = false;
    client.held.add(item.id);
    item.bitmap = got.bitmap;
    item.analysis = got.analysis;
    item.autoSource = got.autoCalibration.source;
    // An edited state was measured with the options of its last edit; a cached result with its own.
    this.m.set(item.id, item.edited ? (this.m.get(item.id) ?? '') : optionsKey(got.options));
    if (this.m.outdated(item))
      this.applyOutcome(item, await client.api.remeasure(item.id, this.m.optionsFor(item)), false);
    return true;
  }

  /**
   * Makes sure the document worker holds this image (after a reload), so it can be shown, edited and
   * exported. No inference: the labels come from the cache.
   */
  async ensureHeld(item: BatchItem): Promise<boolean> {
    const { client } = this.d;
    if (item.status !== 'done' || !item.analysis) return false;
    if (client.held.has(item.id)) {
      // Analysed off screen: the worker makes the bitmap when the image is first shown.
      item.bitmap ??= await client.api.bitmap(item.id);
      if (item.bitmap) return true;
    }
    return this.restoreResult(item);
  }

  private onSelected(
    can: (item: BatchItem) => boolean,
    call: (item: BatchItem) => Promise<EditOutcome>,
  ): Promise<void> {
    return this.chained(async () => {
      const { batch, ui } = this.d.state;
      const item = batch.byId(ui.selectedImage);
      if (!item || !can(item) || !(await this.ensureHeld(item))) return;
      this.applyOutcome(item, await call(item), true);
    });
  }

  editSelected(intent: EditIntent): Promise<void> {
    const api = this.d.client.api;
    return this.onSelected(
      () => true,
      (item) => api.edit(item.id, intent, this.m.optionsFor(item)),
    );
  }

  undo(): Promise<void> {
    const api = this.d.client.api;
    return this.onSelected(
      (item) => item.canUndo,
      (item) => api.undo(item.id, this.m.optionsFor(item)),
    );
  }

  redo(): Promise<void> {
    const api = this.d.client.api;
    return this.onSelected(
      (item) => item.canRedo,
      (item) => api.redo(item.id, this.m.optionsFor(item)),
    );
  }

  private async remeasureItem(item: BatchItem): Promise<void> {
    if (!this.d.client.held.has(item.id)) {
      if (!(await this.ensureHeld(item))) return;
      if (!this.m.outdated(item)) return;
    }
    this.applyOutcome(item, await this.d.client.api.remeasure(item.id, this.m.optionsFor(item)), false);
  }

  /** Re-measures an image whose file turned out to have a pixel size that changes which options apply. */
  remeasureIfOutdated(item: BatchItem): Promise<void> {
    return this.chained(async () => {
      if (this.m.outdated(item)) await this.remeasureItem(item);
    });
  }

  /** Re-measures every done image whose measurement options (min area, edges, pixel size) changed. */
  remeasureAll(): Promise<void> {
    return this.chained(async () => {
      for (const item of this.d.state.batch.items) {
        if (item.status !== 'done' || !item.analysis || !this.m.outdated(item)) continue;
        await this.remeasureItem(item);
      }
    });
  }

  /** Applies a manual pixel size to one image, or clears it (back to metadata / scale bar / batch). */
  async setImageCalibration(item: BatchItem, m: ManualCalibration | null): Promise<void> {
    item.manual = m;
    this.store.persist();
    await this.chained(() => this.remeasureItem(item));
  }

  /**
   * Applies a manual pixel size to the whole batch (images with their own manual value keep it; images whose
   * file metadata gave one keep theirs unless the user said otherwise) and reports which images it changed.
   */
  async setBatchCalibration(m: ManualCalibration | null, overrideImages: boolean): Promise<void> {
    const { batch, calibration } = this.d.state;
    calibration.batch = m;
    if (overrideImages) for (const i of batch.items) i.manual = null;
    this.store.persist();
    await this.remeasureAll();
    const applied: string[] = [];
    const keptMetadata: string[] = [];
    if (m)
      for (const i of batch.items) {
        if (i.manual) continue;
        (this.m.manualFor(i) === calibration.batch ? applied : keptMetadata).push(i.name);
      }
    calibration.batchReport = m ? { applied, keptMetadata } : null;
  }

  /** Called after settings change: measurement options re-measure now, segmentation options go stale. */
  settingsChanged(): Promise<void> {
    this.d.state.settings.save();
    this.m.markStale();
    return this.remeasureAll();
  }

  /** Overlay PNG of one image, rendered in the document worker. */
  async overlayPng(item: BatchItem, mode: 'outline' | 'filled'): Promise<Uint8Array | null> {
    if (!(await this.ensureHeld(item))) return null;
    return this.d.client.api.overlayPng(item.id, mode);
  }

  /** Replaces an image's labels with edited ones from a session file (one undoable step). */
  applySessionLabels(item: BatchItem, labels: Int32Array): Promise<void> {
    return this.chained(async () => {
      if (!(await this.ensureHeld(item))) return;
      const out = await this.d.client.api.replaceLabels(item.id, labels, this.m.optionsFor(item));
      this.applyOutcome(item, out, true);
    });
  }

  /**
   * Measures a label image (16-bit PNG/TIFF from Fiji, Cellpose, a CLI run's labels/) instead of the image's
   * own segmentation: one undoable edit. Returns the one-line reason when the file is not a fitting label image.
   */
  async importLabelImage(item: BatchItem, file: File): Promise<string | null> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let problem: string | null = null;
    await this.chained(async () => {
      if (!(await this.ensureHeld(item))) return;
      try {
        const out = await this.d.client.api.importLabels(
          item.id,
          Comlink.transfer({ name: file.name, bytes }, [bytes.buffer]),
          this.m.optionsFor(item),
        );
        this.applyOutcome(item, out, true);
      } catch (e) {
        problem = e instanceof Error ? e.message : String(e);
      }
    });
    return problem;
  }
}
