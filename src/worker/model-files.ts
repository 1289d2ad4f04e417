/**
 * Where the compute worker gets a model's weights: the bundled model's sidecar and the files it names, fetched
 * from the app's origin (precached by the service worker), or a user's model handed over as bytes. Which file
 * loads for a backend is core's choice (segment/model-variant.ts); here only how it is fetched and hashed.
 */
import type { ModelSidecar } from '../core/segment/model';
import {
  resolveModelFile,
  type PrecisionChoice,
  type ResolvedModelFile,
  type VariantBackend,
} from '../core/segment/model-variant';
import { sha256Hex } from '../core/hash';

export interface ModelBytes {
  sidecar: ModelSidecar;
  /** The weights file for `backend` under `precision`, its sha256 checked; rejects with a one-line message. */
  bytesFor(backend: VariantBackend, precision: PrecisionChoice): Promise<ResolvedModelFile>;
}

/**
 * sha256Hex, once per buffer: a WebGPU attempt that fails is followed by the WASM one, which under fp32 (or a
 * custom model) checks the very same bytes again.
 */
function hashOnce(): (bytes: Uint8Array) => Promise<string> {
  const done = new WeakMap<Uint8Array, Promise<string>>();
  return (bytes) => {
    let h = done.get(bytes);
    if (!h) done.set(bytes, (h = sha256Hex(bytes)));
    return h;
  };
}

export async function fetchedModel(sidecarUrl: string): Promise<ModelBytes> {
  const res = await fetch(sidecarUrl);
  // Static servers answer a missing file with the app's index.html (SPA fallback): not a model either.
  if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) {
    throw new Error('this build has no bundled model');
  }
  let sidecar: ModelSidecar;
  try {
    sidecar = (await res.json()) as ModelSidecar;
  } catch {
    throw new Error('the bundled model sidecar is not valid JSON');
  }
  const baseUrl = new URL(sidecarUrl, self.location.href);
  // Each file fetched once per init, though a WebGPU attempt and the WASM one may both ask for it.
  const fetched = new Map<string, Promise<Uint8Array>>();
  const read = (file: string): Promise<Uint8Array> => {
    let p = fetched.get(file);
    if (!p) {
      p = (async () => {
        const r = await fetch(new URL(file, baseUrl).href);
        if (!r.ok) throw new Error(`model file ${file} missing (${r.status})`);
        return new Uint8Array(await r.arrayBuffer());
      })();
      fetched.set(file, p);
    }
    return p;
  };
  const sha256 = hashOnce();
  return {
    sidecar,
    bytesFor: (backend, precision) => resolveModelFile(sidecar, backend, precision, { read, sha256 }, true),
  };
}

/**
 * A user's model: one .onnx and its sidecar. Variants its sidecar may list are not there, so it runs as given
 * whatever precision was asked for (said in the result's warnings when int8 was).
 */
export function givenModel(bytes: Uint8Array, sidecar: ModelSidecar): ModelBytes {
  const single: ModelSidecar = { ...sidecar, variants: undefined };
  const sha256 = hashOnce();
  return {
    sidecar,
    async bytesFor(backend, precision) {
      const r = await resolveModelFile(single, backend, 'fp32', { read: async () => bytes, sha256 }, true);
      if (precision === 'int8') r.warnings.push('a custom model is one file: it runs as given');
      return r;
    },
  };
}
