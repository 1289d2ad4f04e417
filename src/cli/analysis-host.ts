/**
 * Main-thread side of the analysis thread (analysis-worker.ts). One image at a time; when one runs past its
 * time, or the thread dies under it (out of memory, a crash in native code), that thread is given up and the
 * next image gets a fresh one, model loaded again. The batch goes on either way.
 *
 * Giving a thread up: Worker.terminate() stops JS and WASM at once, even in a busy loop, but terminating a
 * thread while onnxruntime-node runs an inference aborts the whole process (the native call returns into a
 * torn-down environment). So the thread and its host share a gate word: the thread claims it (IDLE -> NATIVE)
 * around each native call, and the host claims it (IDLE -> STOPPED) before terminating. Whoever claims it
 * first wins: a thread caught inside a native call is told to abort instead, stops at the pipeline's next
 * check (between tiles) and is terminated then; meanwhile the next image already runs on a fresh thread.
 */
import { Worker } from 'node:worker_threads';
import type { AnalysisOptions } from '../core/types';
import type { BackendChoice } from './args';
import type { Precision, PrecisionChoice } from '../core/segment/model-variant';
import type { FinishedImage } from './finished-image';

export interface WorkerSetup {
  options: AnalysisOptions;
  /** Model to load (method model), or null for the threshold method. */
  model: {
    path: string | null;
    backend: BackendChoice;
    threads: number | null;
    precision: PrecisionChoice;
  } | null;
  /** Encode label PNGs (only when there is an --out folder to write them to). */
  withLabels: boolean;
  /** Encode ImageJ ROI sets (--rois). */
  withRois: boolean;
}

/** Gate states, in an Int32Array over a SharedArrayBuffer of one element. */
export const GATE_IDLE = 0;
export const GATE_NATIVE = 1;
export const GATE_STOPPED = 2;

export interface ModelIdentity {
  name: string;
  version: string;
  /** sha256 of the .onnx bytes actually loaded. */
  sha256: string;
  backend: string;
  /** The weights file loaded (the sidecar's own or a variant's) and its precision. */
  file: string;
  precision: Precision;
}

export type WorkerMessage =
  | { type: 'ready'; model: ModelIdentity | null; warnings: string[] }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; image: FinishedImage }
  | { type: 'error'; id: number; message: string };

export type HostMessage =
  | {
      type: 'analyze';
      id: number;
      name: string;
      bytes: Uint8Array;
      sidecarTexts: string[];
      labels?: { name: string; bytes: Uint8Array };
    }
  | { type: 'abort' }
  | { type: 'close' };

export interface WorkerReady {
  model: ModelIdentity | null;
  warnings: string[];
}

/** The image ran past its time limit; the thread that analysed it is given up. */
export class ImageTimeout extends Error {
  constructor(seconds: number) {
    super(`timed out after ${seconds} s`);
    this.name = 'ImageTimeout';
  }
}

const ENTRY = new URL('../../bin/analysis-worker.js', import.meta.url);

interface Thread {
  worker: Worker;
  gate: Int32Array;
  ready: Promise<WorkerReady>;
  exited: Promise<void>;
}

interface Pending {
  id: number;
  resolve: (f: FinishedImage) => void;
  reject: (e: Error) => void;
}

export class AnalysisHost {
  private thread: Thread | null = null;
  /** Threads given up while inside a native call: they end at their next check. */
  private readonly leaving = new Set<Thread>();
  private pending: Pending | null = null;
  private nextId = 1;

  constructor(private readonly setup: WorkerSetup) {}

  /** Starts the thread if none runs and waits until its model is loaded; rejects with the load error. */
  start(): Promise<WorkerReady> {
    if (this.thread) return this.thread.ready;
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(ENTRY, { workerData: { ...this.setup, gate } });
    let resolveReady!: (r: WorkerReady) => void;
    let rejectReady!: (e: Error) => void;
    const ready = new Promise<WorkerReady>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    const t: Thread = { worker, gate, ready, exited };
    this.thread = t;
    let started = false;
    worker.on('message', (m: WorkerMessage) => {
      if (this.leaving.has(t)) {
        // Out of its native call and answering: now it can be stopped safely.
        this.stop(t);
        return;
      }
      if (m.type === 'ready') {
        started = true;
        resolveReady({ model: m.model, warnings: m.warnings });
      } else if (m.type === 'failed') {
        rejectReady(new Error(m.message));
      } else if (this.pending && m.id === this.pending.id) {
        const p = this.pending;
        this.pending = null;
        if (m.type === 'done') p.resolve(m.image);
        else p.reject(new Error(m.message));
      }
    });
    const died = (why: string): void => {
      this.leaving.delete(t);
      if (this.thread !== t) return;
      this.thread = null;
      if (!started) rejectReady(new Error(`the analysis thread did not start: ${why}`));
      const p = this.pending;
      this.pending = null;
      p?.reject(new Error(`the analysis thread stopped: ${why}`));
    };
    worker.on('error', (e) => died(e.message.split('\n')[0]));
    worker.on('exit', (code) => died(`exit code ${code}`));
    // A failed start is reported by the caller; the next start() tries again.
    ready.catch(() => {
      if (this.thread === t) this.thread = null;
    });
    return ready;
  }

  /**
   * Analyses one image. `timeoutMs` (0 = none) counts from this call; the model load of a restarted thread
   * happens in start(), before it. Rejects with ImageTimeout, or an Error whose message is one line.
   */
  async analyze(
    input: {
      name: string;
      bytes: Uint8Array;
      sidecarTexts: string[];
      labels?: { name: string; bytes: Uint8Array };
    },
    timeoutMs: number,
    timeoutSeconds: number,
  ): Promise<FinishedImage> {
    await this.start();
    const t = this.thread!;
    const id = this.nextId++;
    // Transferred, not copied; a view into a larger (shared, pooled) buffer is copied out first.
    const whole = input.bytes.byteOffset === 0 && input.bytes.byteLength === input.bytes.buffer.byteLength;
    const bytes = whole ? input.bytes : input.bytes.slice();
    return new Promise<FinishedImage>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const settle =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          if (timer) clearTimeout(timer);
          f(v);
        };
      this.pending = { id, resolve: settle(resolve), reject: settle(reject) };
      if (timeoutMs > 0)
        timer = setTimeout(() => {
          this.pending = null;
          this.giveUp(t);
          reject(new ImageTimeout(timeoutSeconds));
        }, timeoutMs);
      const msg: HostMessage = {
        type: 'analyze',
        id,
        name: input.name,
        bytes,
        sidecarTexts: input.sidecarTexts,
        labels: input.labels,
      };
      t.worker.postMessage(msg, [bytes.buffer as ArrayBuffer]);
    });
  }

  /** Lets the threads release the model and end; a thread that does not end in time is stopped. */
  async close(): Promise<void> {
    const t = this.thread;
    this.thread = null;
    const waits: Promise<unknown>[] = [...this.leaving].map((l) => within(l.exited, 60_000));
    if (t) {
      t.worker.postMessage({ type: 'close' } satisfies HostMessage);
      waits.push(
        within(t.exited, 10_000).then((ended) => {
          if (!ended) this.giveUp(t);
        }),
      );
    }
    await Promise.all(waits);
  }

  /** Terminates `t` now if it is not inside a native call; otherwise tells it to abort and stops it later. */
  private giveUp(t: Thread): void {
    if (this.thread === t) this.thread = null;
    if (Atomics.compareExchange(t.gate, 0, GATE_IDLE, GATE_STOPPED) === GATE_NATIVE) {
      this.leaving.add(t);
      t.worker.postMessage({ type: 'abort' } satisfies HostMessage);
      // It must not keep the process alive, nor the next image waiting.
      t.worker.unref();
    } else {
      this.stop(t);
    }
  }

  private stop(t: Thread): void {
    this.leaving.delete(t);
    Atomics.store(t.gate, 0, GATE_STOPPED);
    // Not awaited: a thread stuck in a system call ends only when the call returns; the batch must not wait.
    void t.worker.terminate();
  }
}

function within(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    void p.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
