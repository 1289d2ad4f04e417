/**
 * The batch as it survives a closed tab: saved to IndexedDB (throttled) on every change, restored on the
 * next visit with results from the cache, so nothing that was finished is analysed again.
 */
import type { StoredBatch } from '../../storage/cache';
import { BatchItem } from '../state/batch.svelte';
import { optionsKey, type Measurements } from './measurements';
import type { Deps } from './ports';

/** How old the saved batch may get while a batch runs, ms. */
const SAVE_EVERY_MS = 150;

export class BatchStore {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending: Promise<void> = Promise.resolve();
  private finishing: BatchItem | null = null;

  constructor(
    private readonly d: Deps,
    private readonly m: Measurements,
  ) {}

  /**
   * Throttled, not debounced: while a batch runs (rows finishing, bytes being stored) the saved state must
   * still be at most SAVE_EVERY_MS old, or a tab closed then reopens without it.
   */
  persist(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pending = this.d.storage.putBatch(this.snapshot()).catch(() => undefined);
    }, SAVE_EVERY_MS);
  }

  /**
   * Marks an image done the durable way: the batch is written now with `item` saved as done, and only then is
   * `markDone` run. A row the user has seen finish thus comes back finished from a tab closed the next moment,
   * with every image whose bytes were stashed by then.
   */
  async finish(item: BatchItem, markDone: () => void): Promise<void> {
    // A throttled save firing meanwhile must not write the image back as queued.
    this.finishing = item;
    try {
      const write = this.d.storage.putBatch(this.snapshot()).catch(() => undefined);
      this.pending = Promise.all([this.pending, write]).then(() => undefined);
      await write;
    } finally {
      this.finishing = null;
      markDone();
    }
  }

  /** Settles when the last save has been written (tests, and clearing the data). */
  async settled(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, SAVE_EVERY_MS));
    await this.pending;
  }

  private snapshot(): StoredBatch {
    const { batch, ui, calibration } = this.d.state;
    return {
      items: batch.items.map((i) => ({
        id: i.id,
        name: i.name,
        size: i.size,
        status: i === this.finishing ? 'done' : i.status === 'analysing' ? 'queued' : i.status,
        error: i.error,
        errorInFile: i.errorInFile,
        fileHash: i.fileHash,
        cacheKey: i.cacheKey,
        manual: i.manual ? { ...i.manual } : null,
        edited: i.edited,
        sidecarTexts: [...i.sidecarTexts],
        measuredKey: this.m.get(i.id),
      })),
      selected: ui.selectedImage,
      batchCalibration: calibration.batch ? { ...calibration.batch } : null,
    };
  }

  /**
   * Restores the batch saved by the last visit: done images take their results from the cache (the edited
   * state where they were edited); unfinished ones are queued again. Returns the number of rows restored.
   */
  async restore(): Promise<number> {
    const { storage, counters } = this.d;
    const { batch, ui, calibration } = this.d.state;
    const stored = await storage.getBatch();
    if (!stored || stored.items.length === 0) return 0;
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
        const cached = !s.edited && s.cacheKey ? await storage.getResult(s.cacheKey) : undefined;
        const a = s.edited ? await storage.getEdited(s.id) : cached?.analysis;
        // What the loaded analysis was measured with: the edited state's last options, or the cached result's.
        const key = s.edited ? s.measuredKey : cached ? optionsKey(cached.options) : undefined;
        if (key) this.m.set(s.id, key);
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
    this.m.markStale();
    return stored.items.length;
  }
}
