/**
 * One image's editable document: the labels as the page sees them, the never-renumbered labels edits work
 * on, and the undo/redo history. Pure (no storage, no messaging) so it can live in a worker that a cancel
 * does not terminate, and be unit-tested without one.
 */
import { remeasure } from './pipeline';
import { applyEdit, EditHistory, type EditIntent } from './edit';
import { applyCalibration } from './analysis-copy';
import type { AnalysisOptions, Calibration, ImageAnalysis } from './types';
import type { LabelImage } from './raster';

export class ImageDocument {
  /** As the page sees it: labels made sequential by remeasure. */
  analysis: ImageAnalysis;
  /**
   * The labels edits work on. Never renumbered, so the history's diffs stay valid; `toEdit` maps the
   * page's (sequential) particle ids to ids in here, rebuilt after every re-measure.
   */
  readonly editLabels: LabelImage;
  private toEdit: Int32Array;
  readonly history = new EditHistory();
  /** Edited by the user: the holder saves every new state so a reload keeps the edits. */
  edited: boolean;

  constructor(
    analysis: ImageAnalysis,
    /** Calibration found by the pipeline: restored when a manual one is removed. */
    readonly autoCalibration: Calibration,
    edited = false,
  ) {
    const l = analysis.labels;
    this.analysis = analysis;
    this.editLabels = { width: l.width, height: l.height, count: l.count, data: l.data.slice() };
    this.toEdit = identity(l.count);
    this.edited = edited;
  }

  get canUndo(): boolean {
    return this.history.canUndo;
  }

  get canRedo(): boolean {
    return this.history.canRedo;
  }

  /** Applies an edit in the page's particle ids; returns whether any pixel changed. */
  edit(intent: EditIntent, options: AnalysisOptions): boolean {
    const m = this.toEdit;
    const hints = this.analysis.particles.map((p) => ({
      id: p.id < m.length ? m[p.id] : 0,
      bbox: p.bbox,
    }));
    const result = applyEdit(this.editLabels, mapIntent(intent, m), hints);
    if (result.changed === 0) return false;
    this.history.push(result.diff);
    this.markEdited(options);
    return true;
  }

  undo(options: AnalysisOptions): boolean {
    if (this.history.undo(this.editLabels) === null) return false;
    this.markEdited(options);
    return true;
  }

  redo(options: AnalysisOptions): boolean {
    if (this.history.redo(this.editLabels) === null) return false;
    this.markEdited(options);
    return true;
  }

  /** The labels replaced wholesale (a session's saved edits, an imported label image), as one undoable edit. */
  replace(labels: Int32Array, options: AnalysisOptions): void {
    const data = this.editLabels.data;
    if (labels.length !== data.length) throw new Error('edited labels do not match the image size');
    // One diff over the changed pixels keeps the replacement undoable like any other edit.
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
    const countBefore = this.editLabels.count;
    this.editLabels.count = Math.max(max, countBefore);
    this.history.push({ indices, before, after, countBefore, countAfter: this.editLabels.count });
    this.markEdited(options);
  }

  /** Re-measures after option or calibration changes; no edit, so `edited` is left as it is. */
  remeasure(options: AnalysisOptions): void {
    const a = remeasure({ ...this.analysis, labels: this.editLabels }, options);
    this.analysis = applyCalibration(a, options, this.autoCalibration);
    this.toEdit = idMap(a.labels, this.editLabels);
  }

  private markEdited(options: AnalysisOptions): void {
    this.edited = true;
    this.remeasure(options);
  }
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
