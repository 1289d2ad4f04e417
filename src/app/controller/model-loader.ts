/** Which model the compute worker runs: the bundled one, or a user's .onnx + sidecar kept in IndexedDB. */
import { sidecarProblem, type ModelSidecar } from '../../core/segment/model';
import type { InitOptions } from '../../worker/api';
import type { Measurements } from './measurements';
import type { Deps } from './ports';

export class ModelLoader {
  constructor(
    private readonly d: Deps,
    private readonly m: Measurements,
    /** URL of the bundled model's sidecar. */
    private readonly bundledSidecarUrl: string,
  ) {}

  /** A function, not a value: a custom model's bytes are transferred to the worker on every (re)start. */
  private readonly initOptions = async (): Promise<InitOptions> => {
    const { settings } = this.d.state;
    const { preferGpu, precision } = settings;
    if (settings.modelChoice === 'custom') {
      const m = await this.d.storage.getCustomModel();
      if (m) return { model: { bytes: m.bytes, sidecar: m.sidecar }, preferGpu, precision };
    }
    return { model: { sidecarUrl: this.bundledSidecarUrl }, preferGpu, precision };
  };

  /** Starts (or restarts, after a model change) the worker's model; results from another model go stale. */
  async start(): Promise<void> {
    const { engine, settings } = this.d.state;
    engine.ready = false;
    const info = await this.d.client.init(this.initOptions);
    engine.info = info;
    engine.ready = true;
    if (settings.modelChoice === 'custom') engine.customModelName = info.model?.name ?? null;
    this.m.markStale();
  }

  /**
   * Loads a user's model (.onnx + its .json sidecar), keeps it in IndexedDB and switches to it.
   * Returns the error text when the files are not a usable pair (the previous model stays active).
   */
  async loadCustom(files: File[]): Promise<string | null> {
    const { engine, settings } = this.d.state;
    const onnx = files.find((f) => /\.onnx$/i.test(f.name));
    const json = files.find((f) => /\.json$/i.test(f.name));
    if (!onnx || !json) return 'choose both the .onnx file and its .json sidecar';
    let sidecar: ModelSidecar;
    try {
      const parsed: unknown = JSON.parse(await json.text());
      const problem = sidecarProblem(parsed);
      if (problem) throw new Error(`sidecar: ${problem}`);
      sidecar = parsed as ModelSidecar;
    } catch (e) {
      return `${json.name}: ${e instanceof Error ? e.message : String(e)}`;
    }
    const bytes = new Uint8Array(await onnx.arrayBuffer());
    // Try the model before storing it, so a bad pair never replaces a working custom model.
    engine.ready = false;
    const info = await this.d.client.init(async () => ({
      model: { bytes: bytes.slice(), sidecar },
      preferGpu: settings.preferGpu,
      precision: settings.precision,
    }));
    if (!info.model) {
      await this.start();
      return info.modelError ?? 'model could not be loaded';
    }
    await this.d.storage.putCustomModel({ bytes, sidecar, fileName: onnx.name });
    settings.modelChoice = 'custom';
    settings.save();
    this.d.client.remember(this.initOptions);
    engine.info = info;
    engine.customModelName = info.model.name;
    engine.ready = true;
    this.m.markStale();
    return null;
  }

  async useBundled(): Promise<void> {
    const { engine, settings } = this.d.state;
    settings.modelChoice = 'bundled';
    settings.save();
    engine.customModelName = null;
    await this.d.storage.delCustomModel();
    await this.start();
  }
}
