/**
 * The label worker: reads scale-bar labels (tesseract.js and SAEMI's label network, ocr-engine.ts) for the
 * analysis worker, which spawns it. A label is read view by view, each view a round trip to the engine; run in the
 * analysis worker those round trips waited for every network run to end (a WASM run holds its thread), so the
 * reading only began once the image was segmented. Here it goes on while the network runs, and the engine loads
 * while the app is idle.
 */
import * as Comlink from 'comlink';
import { findLabel, type FoundLabel, type LabelPlan } from '../core/calibrate/read-bar-label';
import { browserRecognizer } from './ocr-engine';

export interface LabelWorkerApi {
  findLabel(plan: LabelPlan): Promise<FoundLabel | null>;
  /** Loads the engine and the label network now; resolves when both are loaded (or failed, for a later retry). */
  warm(): Promise<void>;
}

const api: LabelWorkerApi = {
  findLabel: (plan) => findLabel(plan, browserRecognizer()),
  warm: async () => {
    await browserRecognizer().warm?.();
  },
};

Comlink.expose(api);
