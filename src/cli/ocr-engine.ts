/** The OCR engine for Node (CLI, tests, benchmarks): tesseract.js with the language data from node_modules. */
import { createRequire } from 'node:module';
import path from 'node:path';
import { TesseractRecognizer } from '../ocr/tesseract-recognizer';

const require = createRequire(import.meta.url);

export function nodeRecognizer(): TesseractRecognizer {
  return new TesseractRecognizer({
    langPath: path.join(
      path.dirname(require.resolve('@tesseract.js-data/eng/package.json')),
      '4.0.0_best_int',
    ),
  });
}
