/**
 * The model contract (see ../shared/DESIGN.md): what the sidecar json says and how core runs a model
 * without knowing which onnxruntime flavour (web WASM/WebGPU in the worker, node native in the CLI) runs it.
 */

import { variantsProblem, type ModelVariant } from './model-variant';

export interface ModelOutputSpec {
  /** Output tensor name in the ONNX graph. */
  name: string;
  /**
   * foreground: probability a pixel belongs to a particle (sigmoid applied in the graph);
   * boundary: probability a pixel lies on a particle's outline / between touching particles;
   * distance: normalised distance to the particle edge (0 at edge, 1 at the centre of a particle);
   * rays: star-convex polygons (segment/star-decode.ts), `channels` distances (px of the model's input) from each
   * point of a grid `grid` px apart to its own particle's outline, along equally spaced directions. A model with
   * rays is decoded as polygons: its distance output is the object probability, and the boundary/merge/split
   * thresholds do not apply.
   */
  kind: 'foreground' | 'boundary' | 'distance' | 'rays';
  /** rays only: the number of directions (output channels). */
  channels?: number;
  /** rays only: the output's stride (input px per grid step); must divide input.multiple. */
  grid?: number;
  description?: string;
}

export interface ModelSidecar {
  name: string;
  version: string;
  /** sha256 hex of the .onnx file. */
  sha256: string;
  /** File name of the .onnx beside the sidecar. */
  file: string;
  /**
   * Other weights files of the same network (an int8 QDQ export): same inputs, outputs and thresholds; which one
   * loads is chosen per backend (segment/model-variant.ts).
   */
  variants?: ModelVariant[];
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
    /** Needed with a boundary output: seeds are foreground pixels below this boundary probability. */
    boundary?: number;
    distancePeak?: number;
    distancePeakDiameterPx?: number;
    /**
     * distancePeak for the pass run upsampled because the particles are small (default distancePeak): the
     * distance output is less sure of the centres of small, crowded particles than of ordinary ones.
     */
    distancePeakUpsampled?: number;
    /** Regions split by a ridge whose mean boundary probability is below this are merged (0 = never). */
    merge?: number;
    /**
     * merge for neighbours of comparable size in the pass run upsampled because the particles are small
     * (default merge): its maps are resampled back to the image, which smooths the contact ridge between
     * crowded particles a few pixels across below the merge threshold although the seeds were cut apart by the
     * sharp ridge at the upsampled scale (segment/instances.ts, mergeThresholdComparable).
     */
    mergeUpsampled?: number;
    /** Regions sharing this fraction of the smaller one's outline are merged (>= 1 = never). */
    fragmentShare?: number;
    /** false: a region without a centre is dropped even when it borders a particle (default true). */
    absorbCentreless?: boolean;
    /**
     * Needs a distance output: particles are also split where the distance map has two centres with a saddle
     * between them deeper than this fraction of the lower centre's height (0 or unset = off); see
     * segment/instances.ts.
     */
    distanceSplit?: number;
    /**
     * distanceSplit for the pass run upsampled because the particles are small (default distanceSplit): its
     * maps are resampled back to the image, which flattens the distance peaks of particles a few pixels across
     * more than the saddles between them, so the relative saddle depth that splits them is lower.
     */
    distanceSplitUpsampled?: number;
    /**
     * When this share (0.5-1) of the detected particle area is brighter than its surroundings (or darker),
     * detections of the other contrast are dropped (unset = off; the user can keep them): see
     * segment/contrast-filter.ts.
     */
    contrastShare?: number;
    /** Rays models: grid points with an object probability at or below this propose no polygon. */
    starProbability?: number;
    /** Rays models: a polygon is dropped when more than this share of it overlaps polygons already kept. */
    starOverlap?: number;
  };
  /** One line on where the model came from (for the shipped one: its record in models/records/). */
  provenance?: string;
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

/**
 * What makes `s` unusable as a model sidecar, or null when it is fine. One check for the app (a user's model)
 * and the CLI (--model), so that a sidecar either loads everywhere or is refused everywhere with the same words.
 */
export function sidecarProblem(s: unknown): string | null {
  if (!s || typeof s !== 'object') return 'not an object';
  const o = s as Partial<ModelSidecar>;
  const missing = (['name', 'version', 'input', 'outputs', 'thresholds', 'tile'] as const).filter(
    (k) => o[k] === undefined,
  );
  if (missing.length) return `missing ${missing.join(', ')}`;
  const sc = s as ModelSidecar;
  if (!sc.input.name) return 'input.name missing';
  if (!(sc.input.multiple >= 1)) return 'input.multiple missing';
  if (sc.input.normalisation?.method !== 'percentile')
    return 'input.normalisation must be a percentile stretch';
  if (!(sc.tile.size >= sc.input.multiple) || !(sc.tile.overlap >= 0))
    return 'tile.size/overlap missing or invalid';
  if (!Array.isArray(sc.outputs) || !sc.outputs.some((x) => x.kind === 'foreground'))
    return 'declares no foreground output';
  if (typeof sc.thresholds.foreground !== 'number') return 'thresholds.foreground missing';
  if (sc.outputs.some((x) => x.kind === 'boundary') && typeof sc.thresholds.boundary !== 'number')
    return 'thresholds.boundary missing (the model has a boundary output)';
  const r = sc.diameterRangePx;
  if (r !== undefined && !(Array.isArray(r) && r[0] > 0 && r[1] > r[0]))
    return 'diameterRangePx must be [low, high] with 0 < low < high';
  if (sc.resampleTargetPx !== undefined && !(sc.resampleTargetPx > 0)) return 'resampleTargetPx must be > 0';
  if (sc.maxUpscale !== undefined && !(sc.maxUpscale >= 1)) return 'maxUpscale must be >= 1';
  for (const k of [
    'distancePeak',
    'distancePeakUpsampled',
    'distanceSplit',
    'distanceSplitUpsampled',
    'merge',
    'mergeUpsampled',
  ] as const) {
    const v = sc.thresholds[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) return `thresholds.${k} must be between 0 and 1`;
  }
  const rays = sc.outputs.find((x) => x.kind === 'rays');
  if (rays) {
    if (!(Number.isInteger(rays.channels) && (rays.channels ?? 0) >= 3))
      return 'the rays output needs channels (an integer >= 3)';
    const g = rays.grid ?? 1;
    if (!(Number.isInteger(g) && g >= 1 && sc.input.multiple % g === 0))
      return 'the rays output grid must be an integer that divides input.multiple';
    if (!sc.outputs.some((x) => x.kind === 'distance'))
      return 'a rays model needs a distance output (the object probability)';
    for (const k of ['starProbability', 'starOverlap'] as const) {
      const v = sc.thresholds[k];
      if (!(typeof v === 'number' && v >= 0 && v <= 1))
        return `thresholds.${k} must be between 0 and 1 for a rays model`;
    }
  }
  const cs = sc.thresholds.contrastShare;
  if (cs !== undefined && !(cs >= 0.5 && cs <= 1))
    return 'thresholds.contrastShare must be between 0.5 and 1';
  return variantsProblem(sc.variants);
}
