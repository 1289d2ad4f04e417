/**
 * The document worker: holds every image's document (labels, edit history, preview) and runs the edits.
 * Separate from the compute worker because a cancel terminates that one; this one lives as long as the
 * page, so undo stacks survive a cancel. Buffers arrive and leave transferred, never structured-cloned.
 */
import * as Comlink from 'comlink';
import { readLabelImage } from '../core/decode/label-image';
import { ImageDocument } from '../core/document';
import { cloneAnalysis } from '../core/analysis-copy';
import { encodeOverlayPng } from '../core/export/overlay';
import { getEdited, getPreview, getResult, putEdited } from '../storage/cache';
import type { DocumentWorkerApi, EditOutcome, Grey8 } from './api';
import { previewBitmap } from './preview';

interface Held {
  doc: ImageDocument;
  grey: Grey8;
}

const held = new Map<string, Held>();

function mustHold(id: string): Held {
  const h = held.get(id);
  if (!h) throw new Error(`unknown image ${id}`);
  return h;
}

async function outcome(id: string): Promise<EditOutcome> {
  const { doc } = mustHold(id);
  // Saved only once edited, so a reload restores the edits and an unedited image keeps its cached result.
  if (doc.edited) await putEdited(id, doc.analysis);
  const analysis = cloneAnalysis(doc.analysis);
  return Comlink.transfer({ analysis, canUndo: doc.canUndo, canRedo: doc.canRedo }, [
    analysis.labels.data.buffer,
  ]);
}

const api: DocumentWorkerApi = {
  async hold(id, { analysis, autoCalibration, grey }) {
    held.set(id, { doc: new ImageDocument(analysis, autoCalibration), grey });
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
    const doc = new ImageDocument(
      saved ?? cached.analysis,
      cached.autoCalibration,
      edited && saved !== undefined,
    );
    held.set(id, { doc, grey });
    const bitmap = await previewBitmap(grey);
    const analysis = cloneAnalysis(doc.analysis);
    return Comlink.transfer(
      { analysis, autoCalibration: doc.autoCalibration, bitmap, options: cached.options },
      [analysis.labels.data.buffer, bitmap],
    );
  },

  async has(id) {
    return held.has(id);
  },

  async edit(id, intent, options) {
    mustHold(id).doc.edit(intent, options);
    return outcome(id);
  },

  async undo(id, options) {
    mustHold(id).doc.undo(options);
    return outcome(id);
  },

  async redo(id, options) {
    mustHold(id).doc.redo(options);
    return outcome(id);
  },

  async remeasure(id, options) {
    mustHold(id).doc.remeasure(options);
    return outcome(id);
  },

  async replaceLabels(id, labels, options) {
    mustHold(id).doc.replace(labels, options);
    return outcome(id);
  },

  async importLabels(id, file, options) {
    const { doc } = mustHold(id);
    const { width, height } = doc.editLabels;
    doc.replace(readLabelImage(file.bytes, file.name, width, height).data, options);
    return outcome(id);
  },

  async overlayPng(id, mode) {
    const { doc, grey: g } = mustHold(id);
    const base = { width: g.width, height: g.height, data: new Float32Array(g.data.length) };
    for (let i = 0; i < g.data.length; i++) base.data[i] = g.data[i] / 255;
    const a = doc.analysis;
    const png = encodeOverlayPng(base, a.labels, a.particles, {
      mode: mode === 'filled' ? 'both' : 'outline',
    });
    return Comlink.transfer(png, [png.buffer]);
  },

  async forget(id) {
    held.delete(id);
  },
};

Comlink.expose(api);
