/**
 * The OCR engine in the browser: tesseract.js's worker script and its SIMD LSTM core as `?url` assets, the
 * English data at ocr/eng.traineddata.gz (emitted by vite.config.ts under a fixed name, which tesseract.js
 * needs); all from the app's own origin and precached by the service worker, so labels are read offline. The
 * app already needs WASM SIMD for onnxruntime-web, so only the SIMD core ships. Nothing loads until the first
 * label must be read.
 */
import workerUrl from 'tesseract.js/dist/worker.min.js?url';
import coreUrl from 'tesseract.js-core/tesseract-core-simd-lstm.wasm.js?url';
import { TesseractRecognizer } from '../ocr/tesseract-recognizer';
import type { LineRecognizer } from '../core/calibrate/label-ocr';
import { memoRecognizer } from '../core/calibrate/recognizer-memo';

let recognizer: LineRecognizer | null = null;

/**
 * The worker's one recogniser, remembering its readings: a batch from one microscope repeats its data bar, and
 * its label is read by the engine once.
 */
export function browserRecognizer(): LineRecognizer {
  recognizer ??= memoRecognizer(
    new TesseractRecognizer({
      langPath: new URL(`${import.meta.env.BASE_URL}ocr`, self.location.origin).href,
      workerPath: new URL(workerUrl, self.location.href).href,
      corePath: new URL(coreUrl, self.location.href).href,
      load: async () => (await import('tesseract.js/dist/tesseract.esm.min.js')).default,
    }),
  );
  return recognizer;
}
