/**
 * Loads onnxruntime-web inside the worker with its .wasm/.mjs served from the app's own origin: the
 * `?url` imports make Vite emit them into dist/assets (precached by the service worker), so no request
 * ever goes to a CDN and the app runs offline.
 */
import jsepMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';

export type Ort = typeof import('onnxruntime-web');

let ortPromise: Promise<Ort> | null = null;

/** Threads: one per core when cross-origin isolated (SharedArrayBuffer available), else 1. */
export function wasmThreads(): number {
  return self.crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
}

export function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-web').then((ort) => {
    // Absolute URLs: ORT resolves relative paths against its own chunk, which Vite places elsewhere.
    ort.env.wasm.wasmPaths = {
      mjs: new URL(jsepMjsUrl, self.location.href).href,
      wasm: new URL(jsepWasmUrl, self.location.href).href,
    };
    ort.env.wasm.numThreads = wasmThreads();
    // We are already off the main thread; ORT's own proxy worker would only add a copy.
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return ort;
  });
  return ortPromise;
}

/** True when the browser offers a WebGPU adapter (navigator.gpu alone can exist without one). */
export async function hasWebGpu(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}
