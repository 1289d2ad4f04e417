/**
 * Which weights file of a model to load. A sidecar may list `variants` beside its base (fp32) file: the same
 * network quantised (int8 QDQ), with the same inputs, outputs and thresholds, faster on some backends. The
 * choice is per backend ('auto'), or forced by the user ('fp32', 'int8'). Pure: the caller injects how a file
 * is read and hashed (node fs in the CLI, fetch + WebCrypto in the worker).
 */
import type { ModelSidecar } from './model';

export type Precision = 'fp32' | 'int8';
export type PrecisionChoice = 'auto' | Precision;
/** Where a model runs: onnxruntime-web WASM or WebGPU, or onnxruntime-node. */
export type VariantBackend = 'wasm' | 'webgpu' | 'native';

export const PRECISION_CHOICES: readonly PrecisionChoice[] = ['auto', 'fp32', 'int8'];
const BACKENDS: readonly VariantBackend[] = ['wasm', 'webgpu', 'native'];

export interface ModelVariant {
  /** File name of the .onnx beside the sidecar. */
  file: string;
  /** sha256 hex of that file. */
  sha256: string;
  precision: 'int8';
  /** Backends on which 'auto' takes this variant (measured faster there at equal accuracy). */
  preferredOn: VariantBackend[];
}

/** One weights file to load. */
export interface ModelFileChoice {
  file: string;
  /** Expected sha256 (the sidecar's; may be empty for a user's model without one). */
  sha256: string;
  precision: Precision;
}

/** What makes `variants` unusable, or null (also null when there is none). */
export function variantsProblem(v: unknown): string | null {
  if (v === undefined) return null;
  if (!Array.isArray(v)) return 'variants must be a list';
  for (const [i, x] of (v as unknown[]).entries()) {
    const o = (x ?? {}) as Partial<ModelVariant>;
    const at = `variants[${i}]`;
    if (typeof o.file !== 'string' || !o.file.toLowerCase().endsWith('.onnx'))
      return `${at}.file must name an .onnx file`;
    if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(o.sha256))
      return `${at}.sha256 must be 64 hex digits`;
    if (o.precision !== 'int8') return `${at}.precision must be int8`;
    if (!Array.isArray(o.preferredOn) || o.preferredOn.some((b) => !BACKENDS.includes(b)))
      return `${at}.preferredOn must list backends among ${BACKENDS.join(', ')}`;
  }
  const precisions = (v as ModelVariant[]).map((x) => x.precision);
  if (new Set(precisions).size !== precisions.length) return 'variants lists one precision twice';
  return null;
}

function base(sidecar: ModelSidecar): ModelFileChoice {
  return { file: sidecar.file, sha256: sidecar.sha256 ?? '', precision: 'fp32' };
}

/**
 * The file for `backend` under `choice`: fp32 is the base file; int8 the int8 variant (an Error when the
 * sidecar lists none); auto the first variant preferred on `backend`, else the base file.
 */
export function pickVariant(
  sidecar: ModelSidecar,
  backend: VariantBackend,
  choice: PrecisionChoice,
): ModelFileChoice {
  const variants = sidecar.variants ?? [];
  if (choice === 'fp32') return base(sidecar);
  const v =
    choice === 'int8'
      ? variants.find((x) => x.precision === 'int8')
      : variants.find((x) => x.preferredOn.includes(backend));
  if (!v) {
    if (choice === 'int8')
      throw new Error(
        `model ${sidecar.name} ${sidecar.version} has no int8 variant (its sidecar lists none)`,
      );
    return base(sidecar);
  }
  return { file: v.file, sha256: v.sha256, precision: v.precision };
}

export interface ModelFileIo {
  /** The file's bytes; rejects when it cannot be read. */
  read(file: string): Promise<Uint8Array>;
  sha256(bytes: Uint8Array): Promise<string>;
}

export interface ResolvedModelFile {
  bytes: Uint8Array;
  file: string;
  precision: Precision;
  /** sha256 of the bytes loaded. */
  sha256: string;
  warnings: string[];
}

/**
 * Reads the file pickVariant chooses and checks its sha256. Under auto, a variant that cannot be read or does
 * not match its sha256 falls back to the base file with a warning (the base file always works where the model
 * does); under an explicit int8 that is an Error. The base file's own mismatch stays a warning (as it always was
 * in the CLI) unless `strictBase`, when it is an Error (the app refuses weights that are not the ones described).
 */
export async function resolveModelFile(
  sidecar: ModelSidecar,
  backend: VariantBackend,
  choice: PrecisionChoice,
  io: ModelFileIo,
  strictBase = false,
): Promise<ResolvedModelFile> {
  const picked = pickVariant(sidecar, backend, choice);
  const warnings: string[] = [];
  if (picked.precision !== 'fp32') {
    let bytes: Uint8Array | null = null;
    let problem: string;
    try {
      bytes = await io.read(picked.file);
      const sha = await io.sha256(bytes);
      if (sha === picked.sha256.toLowerCase())
        return { bytes, file: picked.file, precision: picked.precision, sha256: sha, warnings };
      problem = `its sha256 ${sha.slice(0, 12)}... differs from the sidecar's ${picked.sha256.slice(0, 12)}...`;
    } catch (e) {
      problem = `it cannot be read (${e instanceof Error ? e.message : String(e)})`;
    }
    if (choice !== 'auto') throw new Error(`${picked.precision} model ${picked.file}: ${problem}`);
    warnings.push(
      `${picked.precision} model ${picked.file} not used, ${problem}: fp32 ${sidecar.file} instead`,
    );
  }
  const b = base(sidecar);
  let bytes: Uint8Array;
  try {
    bytes = await io.read(b.file);
  } catch (e) {
    throw new Error(`model file ${b.file} cannot be read (${e instanceof Error ? e.message : String(e)})`);
  }
  const sha = await io.sha256(bytes);
  if (b.sha256 && sha !== b.sha256.toLowerCase()) {
    const problem = `sha256 ${sha.slice(0, 12)}... differs from the sidecar's ${b.sha256.slice(0, 12)}...`;
    if (strictBase) throw new Error(`model file ${b.file} does not match its sidecar (${problem})`);
    warnings.push(`model ${b.file}: ${problem}; the weights may not be the ones described`);
  }
  return { bytes, file: b.file, precision: 'fp32', sha256: sha, warnings };
}
