/**
 * The batch: one entry per dropped image with its status and (when done) its analysis. Analyses are
 * held as raw state: they are replaced wholesale, never mutated, so deep reactivity would only cost.
 */
import type { CalibrationSource, ImageAnalysis } from '../../core/types';
import type { ManualCalibration } from '../../core/types';
import type { ItemStatus } from '../../storage/cache';

export type { ItemStatus };

export class BatchItem {
  readonly id: string;
  name = $state('');
  size = $state(0);
  status = $state<ItemStatus>('queued');
  stage = $state('');
  progress = $state(0);
  error = $state<string | null>(null);
  /**
   * The error lies in the file itself (core's InputError: not an image, an unsupported format, a broken
   * stream): the same bytes fail the same way, so no retry is offered. Cancels, unreadable files and engine
   * failures can be retried.
   */
  errorInFile = $state(false);
  analysis = $state.raw<ImageAnalysis | null>(null);
  bitmap = $state.raw<ImageBitmap | null>(null);
  /** Wall-clock ms per stage of the last analysis (page and worker marks), for the row's timing details. */
  timings = $state.raw<Record<string, number> | null>(null);
  /** sha-256 of the file bytes (hex), known once read. */
  fileHash = $state<string | null>(null);
  /** Key of the cached, unedited result. */
  cacheKey = $state<string | null>(null);
  /** Manual pixel size for this image only (wins over the batch's). */
  manual = $state<ManualCalibration | null>(null);
  /** Where the pipeline found the pixel size (before any manual one), once analysed. */
  autoSource = $state<CalibrationSource | null>(null);
  /** The labels differ from the analysis' own: edits applied and not all undone. */
  edited = $state(false);
  /**
   * The state the undo history starts from is itself edited (restored from a saved edit, which has no
   * history): undoing everything then still leaves an edited image.
   */
  editedBase = false;
  canUndo = $state(false);
  canRedo = $state(false);
  fromCache = $state(false);
  /** Results were made with other segmentation settings than the current ones. */
  stale = $state(false);
  /** In-memory source for this session (dropped file); after a reload the bytes come from IndexedDB. */
  file: Blob | null = null;
  /** The bytes are in IndexedDB under fileHash (stored when added, or by the worker on analysis). */
  bytesStored = false;
  sidecarTexts: string[] = [];

  constructor(id: string, name: string, size: number) {
    this.id = id;
    this.name = name;
    this.size = size;
  }

  get count(): number {
    return this.analysis ? this.analysis.particles.filter((p) => p.excluded === null).length : 0;
  }
}

let seq = 0;
export function newItemId(): string {
  seq++;
  return `${Date.now().toString(36)}-${seq}-${Math.random().toString(36).slice(2, 7)}`;
}

class Batch {
  items = $state<BatchItem[]>([]);

  get done(): BatchItem[] {
    return this.items.filter((i) => i.status === 'done' && i.analysis);
  }

  get analyses(): ImageAnalysis[] {
    return this.done.map((i) => i.analysis as ImageAnalysis);
  }

  get finished(): number {
    return this.items.filter((i) => i.status === 'done' || i.status === 'error').length;
  }

  get busy(): boolean {
    return this.items.some((i) => i.status === 'queued' || i.status === 'analysing');
  }

  /** Overall progress 0..1: finished images plus the fraction of the one in progress. */
  get progress(): number {
    const n = this.items.length;
    if (n === 0) return 0;
    let sum = this.finished;
    for (const i of this.items) if (i.status === 'analysing') sum += i.progress;
    return sum / n;
  }

  byId(id: string | null): BatchItem | undefined {
    return id ? this.items.find((i) => i.id === id) : undefined;
  }

  add(item: BatchItem): void {
    this.items.push(item);
  }

  remove(id: string): void {
    this.items = this.items.filter((i) => i.id !== id);
  }

  clear(): void {
    this.items = [];
  }
}

export const batch = new Batch();
