/**
 * The app's controller: turns user intents (add files, cancel, edit, change settings, calibrate, load a model)
 * into worker calls and keeps the batch state and the IndexedDB cache in step. Four parts, each with its own
 * state: the queue (batch-runner), editing (editor), the saved batch (batch-store), the model (model-loader).
 * Components call the intents and render state; nothing here touches the DOM.
 */
import { BatchRunner } from './batch-runner';
import { BatchStore } from './batch-store';
import { Editor } from './editor';
import { Measurements } from './measurements';
import { ModelLoader } from './model-loader';
import type { Deps } from './ports';

export type { Deps } from './ports';

export function createController(d: Deps, bundledSidecarUrl: string) {
  const m = new Measurements(d);
  const store = new BatchStore(d, m);
  const editor = new Editor(d, m, store);
  const runner = new BatchRunner(d, m, store, editor);
  const models = new ModelLoader(d, m, bundledSidecarUrl);
  return {
    counters: d.counters,
    optionsFor: m.optionsFor.bind(m),
    markStale: m.markStale.bind(m),
    persistBatch: store.persist.bind(store),
    /** Restores the last visit's batch, re-measures what was measured with other options, queues the rest. */
    async restoreBatch(): Promise<void> {
      if ((await store.restore()) === 0) return;
      void editor.remeasureAll();
      void runner.pump();
    },
    addFiles: runner.addFiles.bind(runner),
    addDemo: runner.addDemo.bind(runner),
    pump: runner.pump.bind(runner),
    cancel: runner.cancel.bind(runner),
    retry: runner.retry.bind(runner),
    reanalyseStale: runner.reanalyseStale.bind(runner),
    removeItem: runner.removeItem.bind(runner),
    clearData: runner.clearData.bind(runner),
    idle: runner.idle.bind(runner),
    ensureHeld: editor.ensureHeld.bind(editor),
    editSelected: editor.editSelected.bind(editor),
    undo: editor.undo.bind(editor),
    redo: editor.redo.bind(editor),
    remeasureAll: editor.remeasureAll.bind(editor),
    setImageCalibration: editor.setImageCalibration.bind(editor),
    setBatchCalibration: editor.setBatchCalibration.bind(editor),
    settingsChanged: editor.settingsChanged.bind(editor),
    overlayPng: editor.overlayPng.bind(editor),
    applySessionLabels: editor.applySessionLabels.bind(editor),
    importLabelImage: editor.importLabelImage.bind(editor),
    startEngine: models.start.bind(models),
    loadCustomModel: models.loadCustom.bind(models),
    useBundledModel: models.useBundled.bind(models),
    /** For tests: settles when added images' bytes are stashed and the batch is saved. */
    async settled(): Promise<void> {
      await runner.stashed();
      await store.settled();
    },
  };
}

export type Controller = ReturnType<typeof createController>;
