/**
 * The OCR engine in the browser: tesseract.js's worker script and its SIMD LSTM core as `?url` assets, the
 * English data at ocr/eng.traineddata.gz (emitted by vite.config.ts under a fixed name, which tesseract.js
 * needs); all from the app's own origin and precached by the service worker, so labels are read offline. The
 * app already needs WASM SIMD for onnxruntime-web, so only the SIMD core ships. Beside it SAEMI's own label
 * network (models/saemi-label.onnx), run by this worker's onnxruntime (the plain WASM build, one thread: a small
 * LSTM gains nothing on WebGPU or from threads). Used by the label worker (label.worker.ts), which loads both as
 * soon as the model is loaded, while the user is still choosing files.
 */
import workerUrl from 'tesseract.js/dist/worker.min.js?url';
import coreUrl from 'tesseract.js-core/tesseract-core-simd-lstm.wasm.js?url';
import labelNetUrl from '../../models/saemi-label.onnx?url';
import labelNetSidecar from '../../models/saemi-label.json';
import { TesseractRecognizer } from '../ocr/tesseract-recognizer';
import type { LineRecognizer } from '../core/calibrate/label-ocr';
import {
  createOrtLineRunner,
  labelNetSpecProblem,
  lazyLabelReader,
  netLabelReader,
  type LabelNetSpec,
} from '../core/calibrate/label-net';
import { memoRecognizer } from '../core/calibrate/recognizer-memo';
import { sha256Hex } from '../core/hash';
import { loadOrt } from './ort-env';

let recognizer: LineRecognizer | null = null;

async function loadLabelNet(): Promise<ReturnType<typeof netLabelReader>> {
  const spec = labelNetSidecar as unknown as LabelNetSpec & { sha256: string };
  const problem = labelNetSpecProblem(spec);
  if (problem) throw new Error(`label network sidecar: ${problem}`);
  const res = await fetch(labelNetUrl);
  if (!res.ok) throw new Error(`label network: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if ((await sha256Hex(bytes)) !== spec.sha256)
    throw new Error('label network: file does not match its sidecar');
  const ort = await loadOrt('wasm');
  // The analysis worker's network has the cores; this one runs between its views.
  ort.env.wasm.numThreads = 1;
  return netLabelReader(await createOrtLineRunner(ort, bytes), spec);
}

/**
 * The worker's one recogniser, remembering its readings: a batch from one microscope repeats its data bar, and
 * its label is read by the engine once.
 */
export function browserRecognizer(): LineRecognizer {
  if (recognizer) return recognizer;
  const engine = new TesseractRecognizer({
    langPath: new URL(`${import.meta.env.BASE_URL}ocr`, self.location.origin).href,
    workerPath: new URL(workerUrl, self.location.href).href,
    corePath: new URL(coreUrl, self.location.href).href,
    load: async () => (await import('tesseract.js/dist/tesseract.esm.min.js')).default,
  });
  const labelReader = lazyLabelReader(labelNetSidecar.voteWeight, loadLabelNet, (e) =>
    console.warn(`label network not loaded, the OCR engine reads alone: ${String(e)}`),
  );
  recognizer = memoRecognizer({
    recognizeLine: (img) => engine.recognizeLine(img),
    labelReader,
    warm: async () => {
      await Promise.all([engine.warm(), labelReader.warm?.()]);
    },
  });
  return recognizer;
}
