/**
 * The page's handle on the analysis worker. Cancelling means terminating the worker (a running ONNX
 * inference cannot be interrupted otherwise) and starting a fresh one with the same model.
 */
import * as Comlink from 'comlink';
import type { AnalysisWorkerApi, InitOptions, InitResult } from '../../worker/api';

export class WorkerClient {
  private worker!: Worker;
  api!: Comlink.Remote<AnalysisWorkerApi>;
  /** Image ids the current worker holds (analysed or adopted); cleared when the worker is replaced. */
  readonly held = new Set<string>();
  private lastInit: (() => Promise<InitOptions>) | null = null;
  ready: Promise<InitResult> | null = null;

  constructor() {
    this.spawn();
  }

  private spawn(): void {
    this.worker = new Worker(new URL('../../worker/analysis.worker.ts', import.meta.url), {
      type: 'module',
      name: 'saemi-analysis',
    });
    this.api = Comlink.wrap<AnalysisWorkerApi>(this.worker);
    this.held.clear();
  }

  /** (Re)loads the model; `options` is a function because a custom model's bytes are transferred each time. */
  init(options: () => Promise<InitOptions>): Promise<InitResult> {
    this.lastInit = options;
    this.ready = options().then((o) =>
      this.api.init(o.model?.bytes ? Comlink.transfer(o, [o.model.bytes.buffer]) : o),
    );
    return this.ready;
  }

  /** Sets how a restarted worker gets its model, without reloading the current one. */
  remember(options: () => Promise<InitOptions>): void {
    this.lastInit = options;
  }

  /** Kills whatever is running and starts a fresh worker with the last model. */
  async restart(): Promise<InitResult | null> {
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
    this.spawn();
    return this.lastInit ? this.init(this.lastInit) : null;
  }
}
