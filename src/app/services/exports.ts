/**
 * Everything the user can take away: particles.csv / summary.csv (the CLI's exact format, from core's
 * export module), the overlay PNG, and the session file; plus opening a session file again.
 */
import { particlesCsv, summaryCsv } from '../../core/export/csv';
import { encodeImagejRois } from '../../core/export/imagej-roi';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../../core/types';
import { batch, BatchItem, newItemId } from '../state/batch.svelte';
import { calibration } from '../state/calibration.svelte';
import { engine } from '../state/engine.svelte';
import { settings } from '../state/settings.svelte';
import { ui } from '../state/ui.svelte';
import { getFileBytes, putFileBytes } from '../../storage/cache';
import { sha256Hex } from '../../core/hash';
import { download } from './files';
import {
  decodeLabelsRle,
  EMBED_LIMIT_BYTES,
  encodeLabelsRle,
  fromBase64,
  parseSession,
  SESSION_FORMAT,
  SESSION_VERSION,
  toBase64,
  type SessionFile,
  type SessionImage,
} from './session';
import { applySessionLabels, idle, overlayPng, persistBatch, pump, settingsChanged } from './controller';

/** The image's file name without folder and extension. */
function baseName(item: BatchItem): string {
  return item.name.slice(item.name.lastIndexOf('/') + 1).replace(/\.[^.]+$/, '');
}

/**
 * Download names say what a table holds, so two downloads never both arrive as particles.csv: one image's
 * tables are named after it, a batch's after its size ("batch-3-images-particles.csv").
 */
export function tableFileName(items: BatchItem[], table: 'particles' | 'summary'): string {
  const what = items.length === 1 ? baseName(items[0]) : `batch-${items.length}-images`;
  return `${what}-${table}.csv`;
}

export function exportParticlesCsv(items: BatchItem[] = batch.done): void {
  download(particlesCsv(items.map((i) => i.analysis!)), tableFileName(items, 'particles'), 'text/csv');
}

export function exportSummaryCsv(items: BatchItem[] = batch.done): void {
  download(summaryCsv(items.map((i) => i.analysis!)), tableFileName(items, 'summary'), 'text/csv');
}

export async function exportOverlay(item: BatchItem, mode: 'outline' | 'filled'): Promise<void> {
  const png = await overlayPng(item, mode);
  if (png) download(png as Uint8Array<ArrayBuffer>, `${baseName(item)}-overlay.png`, 'image/png');
}

/** The selected image's particles as an ImageJ ROI set (the CLI's --rois), named after the image. */
export function exportImagejRois(item: BatchItem): void {
  const a = item.analysis;
  if (!a) return;
  const set = encodeImagejRois(a.labels, a.particles);
  const base = item.name.slice(item.name.lastIndexOf('/') + 1).replace(/\.[^.]+$/, '');
  download(set.zip as Uint8Array<ArrayBuffer>, `${base}-RoiSet.zip`, 'application/zip');
  if (set.tooLarge.length)
    ui.notify(
      `${set.tooLarge.length} particle(s) too large for ImageJ's 16-bit ROI coordinates were left out`,
    );
}

async function bytesOf(item: BatchItem): Promise<Uint8Array | undefined> {
  if (item.file) return new Uint8Array(await item.file.arrayBuffer());
  return item.fileHash ? getFileBytes(item.fileHash) : undefined;
}

export async function exportSession(): Promise<void> {
  const total = batch.items.reduce((s, i) => s + i.size, 0);
  const embed = total <= EMBED_LIMIT_BYTES;
  const images: SessionImage[] = [];
  for (const item of batch.items) {
    const img: SessionImage = {
      name: item.name,
      sha256: item.fileHash,
      size: item.size,
      manual: item.manual ? { ...item.manual } : null,
      sidecarTexts: item.sidecarTexts.length ? [...item.sidecarTexts] : undefined,
    };
    if (embed) {
      const b = await bytesOf(item);
      if (b) img.bytes = toBase64(b);
    }
    if (item.edited && item.analysis) {
      const l = item.analysis.labels;
      img.labels = { width: l.width, height: l.height, rle: encodeLabelsRle(l.data) };
    }
    images.push(img);
  }
  const session: SessionFile = {
    format: SESSION_FORMAT,
    version: SESSION_VERSION,
    created: new Date().toISOString(),
    app: 'SAEMI',
    model: engine.modelLabel,
    options: $state_snapshot(settings.options),
    batchCalibration: calibration.batch ? { ...calibration.batch } : null,
    presets: calibration.presets.map((p) => ({ ...p })),
    images,
  };
  download(JSON.stringify(session), `saemi-session-${session.created.slice(0, 10)}.json`, 'application/json');
}

function $state_snapshot(o: AnalysisOptions): AnalysisOptions {
  return JSON.parse(JSON.stringify(o)) as AnalysisOptions;
}

/**
 * Opens a session: settings and calibrations first, then the images are (re-)analysed — cache hits when
 * this browser has seen them — and finally the saved mask edits are applied on top.
 */
export async function importSession(file: File): Promise<void> {
  const s = parseSession(await file.text());
  // In place: panels hold the options object. Defaults first: a session saved before an option existed
  // (e.g. thorough) means that option's default, not whatever this browser has set.
  Object.assign(settings.options, DEFAULT_OPTIONS, s.options, { pixelSizeOverride: null });
  settingsChanged();
  calibration.batch = s.batchCalibration;
  for (const p of s.presets ?? []) calibration.savePreset(p);
  const edits: [BatchItem, SessionImage][] = [];
  for (const img of s.images) {
    const item = new BatchItem(newItemId(), img.name, img.size);
    item.manual = img.manual;
    item.sidecarTexts = img.sidecarTexts ?? [];
    if (img.bytes) {
      const bytes = fromBase64(img.bytes);
      item.fileHash = await sha256Hex(bytes);
      if (img.sha256 && img.sha256 !== item.fileHash) {
        item.status = 'error';
        item.error = 'session file: embedded image does not match its checksum';
      } else await putFileBytes(item.fileHash, bytes);
    } else if (img.sha256 && (await getFileBytes(img.sha256))) {
      item.fileHash = img.sha256;
    } else {
      item.status = 'error';
      item.error = 'image not embedded in the session and not stored in this browser: add the file again';
    }
    batch.add(item);
    if (img.labels && item.status !== 'error') edits.push([item, img]);
  }
  ui.selectedImage = batch.items[batch.items.length - s.images.length]?.id ?? ui.selectedImage;
  persistBatch();
  void pump();
  await idle();
  for (const [item, img] of edits) {
    const l = img.labels!;
    const a = item.analysis;
    if (item.status !== 'done' || !a) continue;
    if (a.labels.width !== l.width || a.labels.height !== l.height) {
      ui.notify(`${item.name}: saved edits do not match the image size; not applied`);
      continue;
    }
    await applySessionLabels(item, decodeLabelsRle(l.rle, l.width * l.height));
  }
}
