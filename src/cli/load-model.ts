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
  warnings: string[];
}

/** Reads sidecar + onnx. `p` may name the .json or the .onnx (then the .json beside it, same stem). */
export async function readModelFiles(p: string = DEFAULT_MODEL_PATH): Promise<ModelFiles> {
  const sidecarPath = p.toLowerCase().endsWith('.onnx') ? p.slice(0, -5) + '.json' : p;
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
  const onnxPath = p.toLowerCase().endsWith('.onnx') ? p : path.join(path.dirname(sidecarPath), sidecar.file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(onnxPath));
  } catch {
    throw new Error(`cannot read model weights ${onnxPath} (named by ${sidecarPath})`);
  }
  const warnings: string[] = [];
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sidecar.sha256 && sha !== sidecar.sha256.toLowerCase())
    warnings.push(
      `model ${path.basename(onnxPath)}: sha256 ${sha.slice(0, 12)}... differs from the sidecar's ${sidecar.sha256.slice(0, 12)}...; the weights may not be the ones described`,
    );
  return { sidecar, bytes, sidecarPath, onnxPath, warnings };
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
): Promise<{ model: LoadedModel; warnings: string[]; files: ModelFiles }> {
  const files = await readModelFiles(p ?? DEFAULT_MODEL_PATH);
  const { ort } = await loadOrt(choice);
  const backend = await createOrtBackend(ort, files.bytes, files.sidecar, {
    threads: threads ?? availableParallelism(),
  });
  return { model: { sidecar: files.sidecar, backend }, warnings: files.warnings, files };
}
