/**
 * ImageDocument: one image's labels and edit history, outside any worker. Hand-made label grids with
 * known particles, so every count and area is exact.
 */
import { describe, expect, it } from 'vitest';
import { ImageDocument } from '../src/core/document';
import { analysisFromLabels } from './helpers/label-analysis';
import {
  DEFAULT_OPTIONS,
  type AnalysisOptions,
  type Calibration,
  type ImageAnalysis,
} from '../src/core/types';
import type { LabelImage } from '../src/core/raster';

const W = 40;
const H = 30;
const opts: AnalysisOptions = { ...DEFAULT_OPTIONS, minAreaPx: 1 };
const auto: Calibration = { pixelSize: 2, unit: 'nm', source: 'metadata', detail: 'test' };

function rect(l: LabelImage, x0: number, y0: number, x1: number, y1: number, id: number): void {
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) l.data[y * l.width + x] = id;
  l.count = Math.max(l.count, id);
}

/** Three particles: A 5x5 at (2,2), B 6x4 at (20,3) touching C 4x4 at (26,3), all inside the image. */
function analysis(): ImageAnalysis {
  const labels: LabelImage = { width: W, height: H, count: 0, data: new Int32Array(W * H) };
  rect(labels, 2, 2, 6, 6, 1);
  rect(labels, 20, 3, 25, 6, 2);
  rect(labels, 26, 3, 29, 6, 3);
  return analysisFromLabels('t.png', labels, auto, opts);
}

const areas = (d: ImageDocument): number[] => d.analysis.particles.map((p) => p.area).sort((a, b) => a - b);
const idAt = (d: ImageDocument, x: number, y: number): number => d.analysis.labels.data[y * W + x];

describe('ImageDocument', () => {
  it('starts unedited with nothing to undo, the analysis as given', () => {
    const d = new ImageDocument(analysis(), auto);
    expect(d.edited).toBe(false);
    expect(d.canUndo).toBe(false);
    expect(d.canRedo).toBe(false);
    expect(areas(d)).toEqual([16, 24, 25]);
  });

  it('delete, undo, redo step the particle count 3 -> 2 -> 3 -> 2', () => {
    const d = new ImageDocument(analysis(), auto);
    expect(d.edit({ kind: 'delete', id: idAt(d, 3, 3) }, opts)).toBe(true);
    expect(d.analysis.particles).toHaveLength(2);
    expect(areas(d)).toEqual([16, 24]);
    expect(d.edited).toBe(true);
    expect([d.canUndo, d.canRedo]).toEqual([true, false]);
    expect(d.undo(opts)).toBe(true);
    expect(areas(d)).toEqual([16, 24, 25]);
    expect([d.canUndo, d.canRedo]).toEqual([false, true]);
    expect(d.redo(opts)).toBe(true);
    expect(areas(d)).toEqual([16, 24]);
    // Nothing further either way.
    expect(d.redo(opts)).toBe(false);
  });

  it('an edit that changes no pixel is not a history step', () => {
    const d = new ImageDocument(analysis(), auto);
    expect(d.edit({ kind: 'delete', id: 0 }, opts)).toBe(false);
    expect(d.canUndo).toBe(false);
    expect(d.edited).toBe(false);
  });

  it('ids the page sees after a renumbering still reach the right particle', () => {
    const d = new ImageDocument(analysis(), auto);
    // Deleting the first particle renumbers the rest 1..2 on the page; the edit labels keep 2 and 3.
    d.edit({ kind: 'delete', id: idAt(d, 3, 3) }, opts);
    const b = idAt(d, 21, 4);
    const c = idAt(d, 27, 4);
    expect([b, c].sort()).toEqual([1, 2]);
    d.edit({ kind: 'merge', a: b, b: c }, opts);
    expect(areas(d)).toEqual([40]);
    // Then deleting by the merged particle's new page id empties the image.
    d.edit({ kind: 'delete', id: idAt(d, 27, 4) }, opts);
    expect(d.analysis.particles).toHaveLength(0);
    // Three undos bring all three back with their own areas.
    d.undo(opts);
    d.undo(opts);
    d.undo(opts);
    expect(areas(d)).toEqual([16, 24, 25]);
    expect(d.canUndo).toBe(false);
  });

  it('replacing the labels wholesale is one undoable step', () => {
    const d = new ImageDocument(analysis(), auto);
    const next = new Int32Array(W * H);
    for (let y = 10; y < 20; y++) for (let x = 10; x < 20; x++) next[y * W + x] = 7;
    d.replace(next, opts);
    expect(areas(d)).toEqual([100]);
    expect(d.edited).toBe(true);
    d.undo(opts);
    expect(areas(d)).toEqual([16, 24, 25]);
    expect(d.canUndo).toBe(false);
    expect(() => d.replace(new Int32Array(5), opts)).toThrow(/size/);
  });

  it('re-measuring applies a manual pixel size and falls back to the file calibration without it', () => {
    const d = new ImageDocument(analysis(), auto);
    d.remeasure({ ...opts, pixelSizeOverride: { pixelSize: 5, unit: 'nm' } });
    expect(d.analysis.calibration).toMatchObject({ pixelSize: 5, source: 'manual' });
    expect(d.edited).toBe(false);
    d.remeasure(opts);
    expect(d.analysis.calibration).toEqual(auto);
    // Options that leave particles out are honoured on re-measure: min area 20 px flags the 16 px one.
    d.remeasure({ ...opts, minAreaPx: 20 });
    expect(d.analysis.particles.filter((p) => p.excluded === 'small').map((p) => p.area)).toEqual([16]);
  });
});
