/**
 * The model method for a model with a `rays` output (star-convex polygons, segment/star-decode.ts): tiled
 * inference of the object probability and the rays, polygons decoded at the scale the model ran, drawn at the
 * image's size. One size rule, the same as the map models': when the sidecar gives the diameters the model
 * segments well and the first pass's particles are typically outside them, the image is resampled once so
 * they fall inside (chooseScale) and decoded again.
 */
import type { GreyF32, LabelImage } from '../raster';
import { resizeBilinear } from '../resize';
import type { InferenceBackend, ModelSidecar } from './model';
import type { ModelSegmentOptions, ModelSegmentResult } from './model-segment';
import { chooseScale, nativeDecision, particleSizes } from './model-segment';
import { decodeStarPolygons } from './star-decode';
import { runTiled } from './tiles';

/**
 * Most ray values one pass may hold (Float32: 256 MB): the rays are channels / grid^2 values per pixel, so an
 * upsampled pass is capped by this before chooseScale's own pixel cap.
 */
const MAX_RAY_VALUES = 64e6;

export function isStarModel(sidecar: ModelSidecar): boolean {
  return sidecar.outputs.some((o) => o.kind === 'rays');
}

export async function segmentStar(
  image: () => GreyF32,
  sidecar: ModelSidecar,
  backend: InferenceBackend,
  opts: ModelSegmentOptions,
): Promise<ModelSegmentResult> {
  const rays = sidecar.outputs.find((o) => o.kind === 'rays');
  const probName = sidecar.outputs.find((o) => o.kind === 'distance')?.name;
  if (!rays || !probName || !rays.channels)
    throw new Error(
      `model sidecar "${sidecar.name}" is not a rays model (rays with channels and a distance output)`,
    );
  const channels = rays.channels;
  const grid = rays.grid ?? 1;
  const warnings: string[] = [];
  if (!opts.split || opts.watershed)
    warnings.push(
      'this model separates touching particles by construction: split and watershed do not apply',
    );
  const tileOpts = {
    tileSize: sidecar.tile.size,
    overlap: sidecar.tile.overlap,
    multiple: sidecar.input.multiple,
    outputs: [probName, rays.name],
    shapes: { [rays.name]: { grid, channels } },
    signal: opts.signal,
    onTile: (done: number, total: number) => opts.onTile?.(done / total),
  };
  const decodeOpts = {
    probThreshold: sidecar.thresholds.starProbability ?? 0.5,
    overlap: sidecar.thresholds.starOverlap ?? 0.3,
    minAreaPx: opts.speckPx,
    blocked: opts.blocked,
  };
  let first: GreyF32 | null = image();
  const { width: W, height: H } = first;
  const out = { width: W, height: H };
  const pass = async (g: GreyF32): Promise<LabelImage> => {
    const maps = await runTiled(backend, g, tileOpts);
    opts.onInstances?.();
    const prob = { width: g.width, height: g.height, data: maps[probName] };
    const gridWidth = Math.ceil(g.width / grid);
    const gridHeight = Math.ceil(g.height / grid);
    return decodeStarPolygons(
      prob,
      { data: maps[rays.name], count: channels, grid, gridWidth, gridHeight },
      decodeOpts,
      out,
    );
  };
  const labels = await pass(first);
  first = null;
  const range = sidecar.diameterRangePx;
  const sizes = particleSizes(labels);
  const native = { labels, scale: 1, decision: nativeDecision(sizes.count, sizes.median, range), warnings };
  if (!range) return native;

  let scale = chooseScale(
    { ...sizes, bandDiameter: NaN },
    range,
    W * H,
    sidecar.resampleTargetPx,
    sidecar.maxUpscale,
  );
  const maxPixels = (MAX_RAY_VALUES * grid * grid) / channels;
  if (scale > 1 && W * H * scale * scale > maxPixels) scale = Math.max(1, Math.sqrt(maxPixels / (W * H)));
  if (Math.abs(scale - 1) < 0.05) return native;
  const sw = Math.max(1, Math.round(W * scale));
  const sh = Math.max(1, Math.round(H * scale));
  const second = await pass(resizeBilinear(image(), sw, sh));
  warnings.push(
    `particles are about ${sizes.median.toFixed(1)} px across, outside the ${range[0]}-${range[1]} px the model ` +
      `segments best: inference ran at ${scale.toFixed(2)}x scale`,
  );
  const decision = `${scale.toFixed(2)}x scale: first-pass median ${sizes.median.toFixed(1)} px, outside ${range[0]}-${range[1]} px`;
  return { labels: second, scale, decision, warnings };
}
