/**
 * The OCR for Node (CLI, tests, benchmarks): tesseract.js with the language data from node_modules, and SAEMI's
 * label network (models/saemi-label.onnx) run by onnxruntime-web's WASM build, which every install has.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  createOrtLineRunner,
  labelNetSpecProblem,
  lazyLabelReader,
  netLabelReader,
  type LabelNetSpec,
  type LabelReader,
} from '../core/calibrate/label-net';
import type { OrtModuleLike } from '../core/segment/ort-backend';
import { TesseractRecognizer } from '../ocr/tesseract-recognizer';
import { PACKAGE_ROOT } from './load-model';

const require = createRequire(import.meta.url);

export const LABEL_NET_SIDECAR = path.join(PACKAGE_ROOT, 'models', 'saemi-label.json');

/** The label network read from `sidecarPath` and the .onnx it names, its hash checked. */
export async function loadLabelNet(sidecarPath = LABEL_NET_SIDECAR): Promise<LabelReader> {
  const spec = JSON.parse(await readFile(sidecarPath, 'utf8')) as LabelNetSpec & {
    file: string;
    sha256: string;
  };
  const problem = labelNetSpecProblem(spec) ?? (typeof spec.file === 'string' ? null : 'file missing');
  if (problem) throw new Error(`${sidecarPath}: ${problem}`);
  const bytes = new Uint8Array(
    await readFile(path.join(path.dirname(sidecarPath), path.basename(spec.file))),
  );
  if (createHash('sha256').update(bytes).digest('hex') !== spec.sha256)
    throw new Error(`${spec.file} does not match the sha256 in ${sidecarPath}`);
  const ort = (await import('onnxruntime-web')) as unknown as OrtModuleLike;
  return netLabelReader(await createOrtLineRunner(ort, bytes), spec);
}

export interface NodeRecognizer {
  recognizeLine: TesseractRecognizer['recognizeLine'];
  labelReader?: LabelReader;
  /** Milliseconds the engine took to load (once it has). */
  readonly loadMs: number | null;
  dispose(): Promise<void>;
}

/** `labelNet: false` reads with the engine alone (benchmarks compare the two). */
export function nodeRecognizer(
  opts: { labelNet?: boolean; onWarning?: (m: string) => void } = {},
): NodeRecognizer {
  const engine = new TesseractRecognizer({
    langPath: path.join(
      path.dirname(require.resolve('@tesseract.js-data/eng/package.json')),
      '4.0.0_best_int',
    ),
  });
  const weight = (require(LABEL_NET_SIDECAR) as { voteWeight: number }).voteWeight;
  return {
    recognizeLine: (img) => engine.recognizeLine(img),
    get loadMs() {
      return engine.loadMs;
    },
    labelReader:
      opts.labelNet === false
        ? undefined
        : lazyLabelReader(
            weight,
            () => loadLabelNet(),
            (e) =>
              (opts.onWarning ?? ((m: string) => process.stderr.write(`${m}\n`)))(
                `label network not loaded, the OCR engine reads alone: ${e instanceof Error ? e.message : String(e)}`,
              ),
          ),
    dispose: () => engine.dispose(),
  };
}
