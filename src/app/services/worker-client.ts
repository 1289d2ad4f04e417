/**
 * The page's handle on the two workers. Cancelling means terminating the compute worker (a running ONNX
 * inference cannot be interrupted otherwise) and starting a fresh one with the same model; the document
 * worker, which holds every image's labels and undo history, is never terminated, so edits survive.
 */
import * as Comlink from 'comlink';
import type {
  AnalysisWorkerApi,
  ComputeWorkerApi,
  DocumentWorkerApi,
  InitOptions,
  InitResult,
  PrepareWorkerApi,
} from '../../worker/api';

export class WorkerClient {
  private worker!: Worker;
  private compute!: Comlink.Remote<ComputeWorkerApi>;
  private readonly docs: Comlink.Remote<DocumentWorkerApi>;
  /** Both workers behind one face: analysis goes to the compute worker, documents to the document worker. */
  readonly api: AnalysisWorkerApi;
  /** Image ids the document worker holds (analysed or adopted). */
  readonly held = new Set<string>();
  private lastInit: (() => Promise<InitOptions>) | null = null;
  ready: Promise<InitResult> | null = null;
  /** An image has been sent for analysis. */
  private sent = false;

  constructor() {
    this.spawn();
    this.docs = Comlink.wrap<DocumentWorkerApi>(
      new Worker(new URL('../../worker/document.worker.ts', import.meta.url), {
        type: 'module',
        name: 'saemi-documents',
      }),
    );
    const docs = this.docs;
    // Spawned once a model is loaded (init), to warm up in idle time; it lives as long as the page.
    let prep: Comlink.Remote<PrepareWorkerApi> | null = null;
    const prepare = (): Comlink.Remote<PrepareWorkerApi> =>
      (prep ??= Comlink.wrap<PrepareWorkerApi>(
        new Worker(new URL('../../worker/prepare.worker.ts', import.meta.url), {
          type: 'module',
          name: 'saemi-prepare',
        }),
      ));
    this.api = {
      init: (o) => this.compute.init(o),
      analyze: async (req, onProgress) => {
        // The first image of a session: the prepare worker's warm-up, if still running, gives it the core.
        if (!this.sent) void this.api.stopWarmUp().catch(() => undefined);
        this.sent = true;
        // The caller already marked the request's transfers and proxied onProgress.
        const { held, ...result } = await this.compute.analyze(req, onProgress);
        // Handed over before the result is returned, so an edit right after finds the document.
        await docs.hold(
          req.id,
          Comlink.transfer(held, [held.analysis.labels.data.buffer, held.grey.data.buffer]),
        );
        return result;
      },
      // The caller already marked the request's transfers.
      prepare: (req) => prepare().prepare(req),
      warmPrepare: (spec) => prepare().warmPrepare(spec),
      stopWarmUp: () => prepare().stopWarmUp(),
      demoImage: () => this.compute.demoImage(),
      inferenceRuns: () => this.compute.inferenceRuns(),
      warmUpRuns: () => this.compute.warmUpRuns(),
      adopt: (...a) => docs.adopt(...a),
      has: (id) => docs.has(id),
      bitmap: (id) => docs.bitmap(id),
      edit: (...a) => docs.edit(...a),
      undo: (...a) => docs.undo(...a),
      redo: (...a) => docs.redo(...a),
      remeasure: (...a) => docs.remeasure(...a),
      replaceLabels: (...a) => docs.replaceLabels(...a),
      importLabels: (...a) => docs.importLabels(...a),
      overlayPng: (...a) => docs.overlayPng(...a),
      forget: (id) => docs.forget(id),
    };
  }

  private spawn(): void {
    this.worker = new Worker(new URL('../../worker/analysis.worker.ts', import.meta.url), {
      type: 'module',
      name: 'saemi-analysis',
    });
    this.compute = Comlink.wrap<ComputeWorkerApi>(this.worker);
  }

  /** (Re)loads the model; `options` is a function because a custom model's bytes are transferred each time. */
  init(options: () => Promise<InitOptions>): Promise<InitResult> {
    this.lastInit = options;
    this.ready = options().then((o) =>
      this.compute.init(o.model?.bytes ? Comlink.transfer(o, [o.model.bytes.buffer]) : o),
    );
    // While the user picks files; only the first call runs (the worker outlives cancels and model changes).
    void this.ready.then((info) => this.api.warmPrepare(info.prepareSpec)).catch(() => undefined);
    return this.ready;
  }

  /** Sets how a restarted worker gets its model, without reloading the current one. */
  remember(options: () => Promise<InitOptions>): void {
    this.lastInit = options;
  }

  /** Kills whatever is running and starts a fresh compute worker with the last model; documents stay. */
  async restart(): Promise<InitResult | null> {
    this.compute[Comlink.releaseProxy]();
    this.worker.terminate();
    this.spawn();
    return this.lastInit ? this.init(this.lastInit) : null;
  }
}
