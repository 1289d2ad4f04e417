/**
 * The OCR engine behind core's `LineRecognizer`: tesseract.js (LSTM, English `best_int` data from npm), one
 * engine worker per recogniser, created lazily on the first label that must be read. Used by the analysis worker
 * (browser: engine script, core and language data from the app's own origin) and by the CLI and tests (Node:
 * from node_modules). Every path is given explicitly and the engine's own cache is off, so it never reaches a CDN
 * and never writes a stray eng.traineddata into the working folder.
 */
import { encode } from 'fast-png';
import type { GreyU8, LineRecognizer, RecognizedLine } from '../core/calibrate/label-ocr';
import { LABEL_CHARSET } from '../core/calibrate/label-ocr';

export interface TesseractSources {
  /** Folder (Node) or URL (browser) holding eng.traineddata.gz. */
  langPath: string;
  /** Browser only: URLs of tesseract.js's worker script and of one tesseract-core*.wasm.js build. */
  workerPath?: string;
  corePath?: string;
  /** How to import tesseract.js (the browser takes its ESM build); default: the package's main entry. */
  load?: () => Promise<typeof import('tesseract.js')>;
}

interface EngineWorker {
  recognize(image: Uint8Array): Promise<{ data: { text: string; confidence: number } }>;
  terminate(): Promise<unknown>;
}

export class TesseractRecognizer implements LineRecognizer {
  private engine: Promise<EngineWorker> | null = null;
  /** Milliseconds the engine took to start (import, core, language data), once started. */
  loadMs: number | null = null;

  constructor(private readonly sources: TesseractSources) {}

  private start(): Promise<EngineWorker> {
    this.engine ??= (async () => {
      const t0 = performance.now();
      const { createWorker, OEM, PSM } = await (this.sources.load?.() ?? import('tesseract.js'));
      const worker = await createWorker('eng', OEM.LSTM_ONLY, {
        langPath: this.sources.langPath,
        cacheMethod: 'none',
        gzip: true,
        ...(this.sources.workerPath ? { workerPath: this.sources.workerPath, workerBlobURL: false } : {}),
        ...(this.sources.corePath ? { corePath: this.sources.corePath } : {}),
      });
      await worker.setParameters({
        tessedit_pageseg_mode: PSM.SINGLE_LINE,
        tessedit_char_whitelist: LABEL_CHARSET,
        // Tesseract writes diagnostics ("Line cannot be recognized!!") to stdout, which is the CLI's JSON.
        debug_file: '/dev/null',
      });
      this.loadMs = performance.now() - t0;
      return worker as unknown as EngineWorker;
    })();
    // A failed start is not cached: the next label tries again (e.g. after a flaky first fetch).
    this.engine.catch(() => (this.engine = null));
    return this.engine;
  }

  /** Starts the engine now; a failed start is left to the first reading to report (and retry). */
  async warm(): Promise<void> {
    await this.start().catch(() => undefined);
  }

  async recognizeLine(img: GreyU8): Promise<RecognizedLine> {
    const worker = await this.start();
    const png = encode({ width: img.width, height: img.height, data: img.data, channels: 1, depth: 8 });
    const r = await worker.recognize(png);
    return { text: r.data.text, confidence: r.data.confidence };
  }

  async dispose(): Promise<void> {
    const e = this.engine;
    this.engine = null;
    if (e) await (await e).terminate();
  }
}
