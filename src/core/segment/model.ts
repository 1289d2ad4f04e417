/**
 * The model contract (see ../shared/DESIGN.md): what the sidecar json says and how core runs a model
 * without knowing which onnxruntime flavour (web WASM/WebGPU in the worker, node native in the CLI) runs it.
 */

export interface ModelOutputSpec {
  /** Output tensor name in the ONNX graph. */
  name: string;
  /**
   * foreground: probability a pixel belongs to a particle (sigmoid applied in the graph);
   * boundary: probability a pixel lies on a particle's outline / between touching particles;
   * distance: normalised distance to the particle edge (0 at edge, 1 at the centre of a particle).
   */
  kind: 'foreground' | 'boundary' | 'distance';
  description?: string;
}

export interface ModelSidecar {
  name: string;
  version: string;
  /** sha256 hex of the .onnx file. */
  sha256: string;
  /** File name of the .onnx beside the sidecar. */
  file: string;
  input: {
    name: string;
    /** H and W must be multiples of this. */
    multiple: number;
    /** Percentile stretch to [0, 1], done in core (segment/), not in the graph. */
    normalisation: { method: 'percentile'; low: number; high: number };
  };
  /**
   * Particle diameters (pixels, at the scale the model runs) the model segments well; images whose particles
   * are typically outside are resampled into it (segment/model-segment.ts).
   */
  diameterRangePx?: [number, number];
  /**
   * Typical diameter (px) that images of particles below diameterRangePx are upsampled to, measured on the
   * first pass's labels (default twice the lower bound); maxUpscale caps that factor (default 4).
   */
  resampleTargetPx?: number;
  maxUpscale?: number;
  tile: { size: number; overlap: number };
  outputs: ModelOutputSpec[];
  /**
   * distancePeak (optional, needs a distance output): a found particle whose highest distance value stays below
   * it is dropped, as it has no centre (ground texture, noise); particles narrower than distancePeakDiameterPx
   * (at the scale the model runs) need a proportionally lower peak.
   */
  thresholds: {
    foreground: number;
    boundary: number;
    distancePeak?: number;
    distancePeakDiameterPx?: number;
    /**
     * distancePeak for the pass run upsampled because the particles are small (default distancePeak): the
     * distance output is less sure of the centres of small, crowded particles than of ordinary ones.
     */
    distancePeakUpsampled?: number;
    /** Regions split by a ridge whose mean boundary probability is below this are merged (0 = never). */
    merge?: number;
    /** Regions sharing this fraction of the smaller one's outline are merged (>= 1 = never). */
    fragmentShare?: number;
    /** false: a region without a centre is dropped even when it borders a particle (default true). */
    absorbCentreless?: boolean;
  };
  training?: unknown;
  validation?: unknown;
}

export interface LoadedModel {
  sidecar: ModelSidecar;
  backend: InferenceBackend;
}

/** A running inference session over a [1,1,H,W] float32 input; returns every output by name, [H*W] each. */
export interface InferenceBackend {
  /** e.g. 'wasm', 'webgpu', 'node-native'. */
  readonly name: string;
  run(input: Float32Array, height: number, width: number): Promise<Record<string, Float32Array>>;
  dispose(): Promise<void>;
}
