/**
 * The app's one controller, wired to the real workers, IndexedDB and the app's state. Components import
 * their intents from here; the logic lives in src/app/controller (unit-tested with fakes).
 */
import * as storage from '../../storage/cache';
import { createController } from '../controller';
import { batch } from '../state/batch.svelte';
import { calibration } from '../state/calibration.svelte';
import { engine } from '../state/engine.svelte';
import { settings } from '../state/settings.svelte';
import { ui } from '../state/ui.svelte';
import { WorkerClient } from './worker-client';

export const client = new WorkerClient();

const controller = createController(
  {
    client,
    storage,
    state: { batch, ui, settings, calibration, engine },
    counters: { analyses: 0, cacheHits: 0 },
  },
  `${import.meta.env.BASE_URL}models/saemi-unet.json`,
);

export const {
  counters,
  optionsFor,
  markStale,
  persistBatch,
  restoreBatch,
  addFiles,
  addDemo,
  pump,
  cancel,
  retry,
  reanalyseStale,
  removeItem,
  clearData,
  idle,
  ensureHeld,
  editSelected,
  undo,
  redo,
  remeasureAll,
  setImageCalibration,
  setBatchCalibration,
  settingsChanged,
  overlayPng,
  applySessionLabels,
  importLabelImage,
  startEngine,
  loadCustomModel,
  useBundledModel,
} = controller;
