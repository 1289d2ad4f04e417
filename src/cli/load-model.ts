/**
 * Node-side model loading: reads a sidecar .json and its .onnx, checks the hash, and opens an inference
 * backend with onnxruntime-node (native) or onnxruntime-web (WASM), whichever was asked for or loads.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sidecarProblem, type LoadedModel, type ModelSidecar } from '../core/segment/model';
import {
  resolveModelFile,
  type Precision,
  type PrecisionChoice,
  type VariantBackend,
} from '../core/segment/model-variant';
import { createOrtBackend, type OrtModuleLike } from '../core/segment/ort-backend';
import type { BackendChoice } from './args';

/** Package root, found from this file's location so the default model resolves from any working directory. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_MODEL_PATH = path.join(PACKAGE_ROOT, 'models', 'saemi-unet.json');

export interface ModelFiles {
  sidecar: ModelSidecar;
  bytes: Uint8Array;
  sidecarPath: string;
  onnxPath: string;
  /** Which of the sidecar's files was loaded: the base (fp32) one or a variant (segment/model-variant.ts). */
  precision: Precision;
  /** sha256 of `bytes`. */
  sha256: string;
  warnings: string[];
}

const sha256Of = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Reads sidecar + onnx. `p` may name the .json or the .onnx (then the .json beside it, same stem, and exactly
 * that .onnx is loaded: a precision other than auto/fp32 is refused there). Otherwise the file loaded is the
 * one `precision` picks for `backend` among the sidecar's file and its variants.
 */
export async function readModelFiles(
  p: string = DEFAULT_MODEL_PATH,
  backend: VariantBackend = 'native',
  precision: PrecisionChoice = 'fp32',
): Promise<ModelFiles> {
  const namedOnnx = p.toLowerCase().endsWith('.onnx');
  const sidecarPath = namedOnnx ? p.slice(0, -5) + '.json' : p;
  let text: string;
  try {
    text = await readFile(sidecarPath, 'utf8');
  } catch {
    throw new Error(
      p === DEFAULT_MODEL_PATH
        ? `no model at ${sidecarPath}; pass --model PATH or use --method threshold`
        : `cannot read model sidecar ${sidecarPath}`,
    );
  }
  let sidecar: ModelSidecar;
  try {
    sidecar = JSON.parse(text) as ModelSidecar;
  } catch (e) {
    throw new Error(`model sidecar ${sidecarPath} is not valid JSON: ${(e as Error).message}`);
  }
  validateSidecar(sidecar, sidecarPath);
  const dir = path.dirname(sidecarPath);
  if (namedOnnx) {
    // The .onnx named on the command line is what loads; the sidecar describes it (its file and sha256).
    if (precision === 'int8')
      throw new Error(`--precision int8 needs the model's sidecar .json, not the .onnx ${p}`);
    sidecar = { ...sidecar, file: path.basename(p), variants: undefined };
  }
  const r = await resolveModelFile(sidecar, backend, precision, {
    read: async (file) => {
      try {
        return new Uint8Array(await readFile(path.join(dir, file)));
      } catch {
        throw new Error(`cannot read model weights ${path.join(dir, file)} (named by ${sidecarPath})`);
      }
    },
    sha256: async (b) => sha256Of(b),
  });
  return {
    sidecar,
    bytes: r.bytes,
    sidecarPath,
    onnxPath: path.join(dir, r.file),
    precision: r.precision,
    sha256: r.sha256,
    warnings: r.warnings,
  };
}

function validateSidecar(s: ModelSidecar, where: string): void {
  const problem = sidecarProblem(s) ?? (typeof s.file !== 'string' ? 'file (the .onnx name) missing' : null);
  if (problem) throw new Error(`model sidecar ${where}: ${problem}`);
}

const NATIVE_ORT: string = 'onnxruntime-node';

/** onnxruntime module for the backend choice; auto prefers native (about 4x faster) when it loads. */
export async function loadOrt(choice: BackendChoice): Promise<{ ort: OrtModuleLike; native: boolean }> {
  if (choice !== 'wasm') {
    try {
      // The name goes through a variable so that type-checking does not need the optional package installed.
      const mod = (await import(NATIVE_ORT)) as unknown as OrtModuleLike & {
        default?: OrtModuleLike;
      };
      return { ort: mod.InferenceSession ? mod : (mod.default as OrtModuleLike), native: true };
    } catch (e) {
      if (choice === 'native')
        throw new Error(`onnxruntime-node does not load here: ${(e as Error).message}`);
    }
  }
  const web = (await import('onnxruntime-web')) as unknown as OrtModuleLike;
  return { ort: web, native: false };
}

export async function loadModel(
  p: string | null,
  choice: BackendChoice,
  threads: number | null,
  /** fp32 unless asked (the benches measure the base file); the CLI passes its --precision. */
  precision: PrecisionChoice = 'fp32',
): Promise<{ model: LoadedModel; warnings: string[]; files: ModelFiles }> {
  const { ort, native } = await loadOrt(choice);
  const files = await readModelFiles(p ?? DEFAULT_MODEL_PATH, native ? 'native' : 'wasm', precision);
  const backend = await createOrtBackend(ort, files.bytes, files.sidecar, {
    threads: threads ?? availableParallelism(),
  });
  return { model: { sidecar: files.sidecar, backend }, warnings: files.warnings, files };
}
