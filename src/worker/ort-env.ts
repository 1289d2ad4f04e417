/**
 * Loads onnxruntime-web inside the worker with its .wasm/.mjs served from the app's own origin: the
 * `?url` imports make Vite emit them into dist/assets (precached by the service worker), so no request
 * ever goes to a CDN and the app runs offline.
 *
 * Two builds of the runtime: the plain WASM one (`onnxruntime-web/wasm`, 12 MB .wasm) and the JSEP one that
 * also carries the WebGPU provider (`onnxruntime-web`, 25 MB). On the CPU the JSEP build starts slower (Chromium,
 * 2 threads, int8, 768x576 tile: first runs 1919 and 743 ms against 641 and 210 ms on the plain build; later runs
 * alike, 210-290 ms) and is twice the download. So WASM always runs on the plain build, and the JSEP one is loaded
 * only for a WebGPU attempt.
 */
import jsepMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import plainMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import plainWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

export type Ort = typeof import('onnxruntime-web');

/** Which build of the runtime: 'wasm' (CPU only) or 'jsep' (WebGPU + CPU). */
export type OrtBuild = 'wasm' | 'jsep';

const ortPromises: Partial<Record<OrtBuild, Promise<Ort>>> = {};
let tapInstalled = false;

/**
 * The WASM threads onnxruntime runs with: what was asked for, unless it is not cross-origin isolated (it then
 * runs one and says so on the console) — read back from its settings after the first session.
 */
export function ortThreads(ort: Ort, asked: number): number {
  const n = ort.env.wasm.numThreads;
  if (!self.crossOriginIsolated || typeof SharedArrayBuffer === 'undefined') return 1;
  return typeof n === 'number' && n > 0 ? n : asked;
}

/** Threads: one per core when cross-origin isolated (SharedArrayBuffer available), else 1. */
export function wasmThreads(): number {
  return self.crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
}

/**
 * onnxruntime's WASM module binds console.log/console.error once, when it loads, and prints its native log
 * through them. Both are wrapped before that, so a session's log can be read (see captureOrtLog) instead of
 * only printed.
 */
let tap: ((line: string) => void) | null = null;
function installConsoleTap(): void {
  for (const level of ['log', 'error', 'warn', 'info'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      if (tap) tap(args.map(String).join(' '));
      else original(...args);
    };
  }
}

/**
 * Runs `fn` with onnxruntime's printed log collected (and kept off the console); returns its result and the
 * lines.
 */
export async function captureOrtLog<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  tap = (line) => lines.push(line);
  try {
    return { value: await fn(), lines };
  } finally {
    tap = null;
  }
}

/** The runtime of one build, loaded once per worker (both builds can be loaded side by side). */
export function loadOrt(build: OrtBuild): Promise<Ort> {
  const p = (ortPromises[build] ??= (
    build === 'jsep' ? import('onnxruntime-web') : (import('onnxruntime-web/wasm') as Promise<Ort>)
  ).then((ort) => {
    if (!tapInstalled) installConsoleTap();
    tapInstalled = true;
    const [mjs, wasm] = build === 'jsep' ? [jsepMjsUrl, jsepWasmUrl] : [plainMjsUrl, plainWasmUrl];
    // Absolute URLs: ORT resolves relative paths against its own chunk, which Vite places elsewhere.
    ort.env.wasm.wasmPaths = {
      mjs: new URL(mjs, self.location.href).href,
      wasm: new URL(wasm, self.location.href).href,
    };
    ort.env.wasm.numThreads = wasmThreads();
    // We are already off the main thread; ORT's own proxy worker would only add a copy.
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return ort;
  }));
  return p;
}

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; vendor?: string; architecture?: string };
}

/**
 * The WebGPU adapter to run on, or why there is none. navigator.gpu alone can exist without an adapter, and a
 * fallback adapter is a software rasteriser (SwiftShader) on the CPU: slower than WASM with SIMD and threads,
 * so it is not used (and the header does not say WebGPU for it).
 */
export async function webGpuAdapter(): Promise<{ adapter: unknown } | { reason: string }> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<AdapterLike | null> } }).gpu;
  if (!gpu) return { reason: 'this browser has no WebGPU' };
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { reason: `no WebGPU adapter (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!adapter) return { reason: 'no WebGPU adapter' };
  if (adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter)
    return { reason: 'the only WebGPU adapter is a software fallback' };
  return { adapter };
}

let runTail: Promise<unknown> = Promise.resolve();

/**
 * Runs onnxruntime calls of this worker one after another. The idle-time warm-up run and an image's tiles share
 * one session, and a WebGPU run yields mid-run: a second run started then is refused by the runtime ("multiple
 * async operations"). On WASM a run never yields, so the queue never makes anything wait.
 */
export function inOrtQueue<T>(fn: () => Promise<T>): Promise<T> {
  const next = runTail.then(fn, fn);
  runTail = next.catch(() => undefined);
  return next;
}
