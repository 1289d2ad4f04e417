/**
 * InferenceBackend over onnxruntime. The module is passed in, so the same code serves onnxruntime-web
 * (WASM or WebGPU, in a worker or in Node) and onnxruntime-node (native CPU) without core importing either.
 */
import type { InferenceBackend, ModelSidecar } from './model';

/** The slice of the onnxruntime API used here; both onnxruntime-web and onnxruntime-node satisfy it. */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

export interface OrtModuleLike {
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensorLike;
  env: {
    wasm?: { numThreads?: number; wasmPaths?: unknown; proxy?: boolean };
    versions?: Record<string, string | undefined>;
  };
}

export interface OrtBackendOptions {
  /** e.g. ['webgpu', 'wasm'] for onnxruntime-web, ['cpu'] for onnxruntime-node. Default: ['wasm'] / ['cpu']. */
  executionProviders?: string[];
  /** Threads: WASM threads (env.wasm.numThreads, set before the first session) or native intra-op threads. */
  threads?: number;
  /** Where onnxruntime-web finds its .wasm/.mjs files when a bundler moved them. */
  wasmPaths?: string | Record<string, string>;
  /** The session's log severity (0 verbose .. 4 fatal); onnxruntime's default when unset. */
  logSeverityLevel?: number;
}

/** onnxruntime-node reports a `node` version in env.versions, onnxruntime-web a `web` one. */
export function isNativeOrt(ort: OrtModuleLike): boolean {
  return !!ort.env.versions?.node && !ort.env.versions?.web;
}

export async function createOrtBackend(
  ort: OrtModuleLike,
  modelBytes: Uint8Array,
  sidecar: ModelSidecar,
  opts: OrtBackendOptions = {},
): Promise<InferenceBackend> {
  const native = isNativeOrt(ort);
  const threads = opts.threads && opts.threads > 0 ? Math.floor(opts.threads) : undefined;
  const sessionOptions: Record<string, unknown> = { graphOptimizationLevel: 'all' };
  if (opts.logSeverityLevel !== undefined) sessionOptions.logSeverityLevel = opts.logSeverityLevel;
  let providers = opts.executionProviders;
  if (native) {
    providers ??= ['cpu'];
    if (threads) sessionOptions.intraOpNumThreads = threads;
  } else {
    providers ??= ['wasm'];
    // numThreads only takes effect before the WASM runtime initialises (first session of the process/worker).
    if (ort.env.wasm) {
      if (threads) ort.env.wasm.numThreads = threads;
      if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths;
    }
  }
  sessionOptions.executionProviders = providers;

  const session = await ort.InferenceSession.create(modelBytes, sessionOptions);
  const inputName = sidecar.input.name;
  if (!session.inputNames.includes(inputName)) {
    await session.release();
    throw new Error(
      `model input "${inputName}" (from the sidecar) not in the graph (inputs: ${session.inputNames.join(', ')})`,
    );
  }
  const wanted = sidecar.outputs.map((o) => o.name);
  const missing = wanted.filter((n) => !session.outputNames.includes(n));
  if (missing.length) {
    await session.release();
    throw new Error(`model outputs ${missing.join(', ')} (from the sidecar) not in the graph`);
  }

  const name = native ? 'node-native' : providers[0] === 'webgpu' ? 'webgpu' : 'wasm';
  let disposed = false;
  return {
    name,
    async run(input: Float32Array, height: number, width: number): Promise<Record<string, Float32Array>> {
      if (disposed) throw new Error('inference backend already disposed');
      const tensor = new ort.Tensor('float32', input, [1, 1, height, width]);
      const result = await session.run({ [inputName]: tensor });
      const out: Record<string, Float32Array> = {};
      for (const n of wanted) {
        const t = result[n];
        if (!(t.data instanceof Float32Array)) throw new Error(`model output "${n}" is not float32`);
        // Node's binding may hand back a view over a pooled buffer; own the values before disposing.
        out[n] = new Float32Array(t.data);
      }
      for (const t of Object.values(result)) t.dispose?.();
      tensor.dispose?.();
      return out;
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
