/**
 * Marker-controlled watershed on the negated distance map, with markers chosen by dynamics (the h-maxima
 * criterion) in the same flooding pass: pixels are visited from the deepest inside outwards; each local maximum
 * of the distance starts a basin, and when two basins meet, the one whose peak rises less than h above the meeting
 * level is absorbed by the other. This equals seeding a watershed with the h-maxima of the distance map, without
 * the separate morphological reconstruction.
 */
import type { LabelImage } from '../raster';
import { distanceTransform } from './distance';

export interface WatershedOptions {
  /** Minimum dynamic (pixels of distance) a peak needs to stay a separate particle. */
  hMin?: number;
  /** Relative dynamic: a peak also needs to rise hRel * its height above the saddle. */
  hRel?: number;
  /**
   * Optional partition the result must respect (e.g. model instances): basins never merge across regions,
   * and region borders count as background for the distance transform.
   */
  regions?: Int32Array;
  /**
   * Flood this height map instead of the mask's distance transform (e.g. the model's own distance-to-edge
   * output, which knows where touching particles meet), in its own units: hMin and hRel apply to it, and
   * `levels` sets how finely it is quantised for the flooding order (levels per unit of height).
   */
  heights?: Float32Array;
  levels?: number;
}

export const WATERSHED_DEFAULTS = { hMin: 1, hRel: 0.1 } as const;

/** Quantisation of the distance for the flooding order (1/8 px); exact values decide merges. */
const PX_LEVELS = 8;

/**
 * Splits the foreground of `mask` into particles; returns labels 1..count in raster order of first pixel.
 */
export function distanceWatershed(
  mask: Uint8Array,
  width: number,
  height: number,
  opts: WatershedOptions = {},
): LabelImage {
  const hMin = opts.hMin ?? WATERSHED_DEFAULTS.hMin;
  const hRel = opts.hRel ?? WATERSHED_DEFAULTS.hRel;
  const regions = opts.regions;
  const n = width * height;

  let distMask = mask;
  if (regions && !opts.heights) {
    // Pixels on the border between two instances act as background, so each instance gets its own distance map.
    distMask = new Uint8Array(n);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const r = regions[i];
        if (!mask[i] || r === 0) continue;
        if (
          (x > 0 && regions[i - 1] !== r && regions[i - 1] !== 0) ||
          (x < width - 1 && regions[i + 1] !== r && regions[i + 1] !== 0) ||
          (y > 0 && regions[i - width] !== r && regions[i - width] !== 0) ||
          (y < height - 1 && regions[i + width] !== r && regions[i + width] !== 0)
        )
          continue;
        distMask[i] = 1;
      }
    }
  }
  const dist = opts.heights ?? distanceTransform(distMask, width, height);
  const quant = opts.levels ?? PX_LEVELS;

  // Counting sort of foreground pixels by descending quantised distance.
  let maxKey = 0;
  let fgCount = 0;
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    fgCount++;
    const k = Math.floor(dist[i] * quant);
    if (k > maxKey) maxKey = k;
  }
  const start = new Int32Array(maxKey + 2);
  for (let i = 0; i < n; i++) if (mask[i]) start[maxKey - Math.floor(dist[i] * quant) + 1]++;
  for (let k = 1; k < start.length; k++) start[k] += start[k - 1];
  let order: Int32Array = new Int32Array(fgCount);
  for (let i = 0; i < n; i++) if (mask[i]) order[start[maxKey - Math.floor(dist[i] * quant)]++] = i;
  // Basins never meet across a region border, so each region can be flooded on its own: the same order, stably
  // regrouped by region, keeps each step's neighbours in the few cache lines of one particle instead of jumping
  // across the whole image level by level (the distance split at 1024x768 to 1280x1024: 15-22 % faster, the
  // same labels).
  if (regions) order = groupByRegion(order, regions);

  // Basins: union-find over basin ids; peak = highest distance seen in the basin.
  const basin = new Int32Array(n);
  let cap = 1024;
  let parent = new Int32Array(cap);
  let peak = new Float32Array(cap);
  let nBasins = 0;
  const find = (b: number): number => {
    let r = b;
    while (parent[r] !== r) r = parent[r];
    while (parent[b] !== r) {
      const nx = parent[b];
      parent[b] = r;
      b = nx;
    }
    return r;
  };
  const roots = new Int32Array(8);
  const DX = [-1, 0, 1, -1, 1, -1, 0, 1];
  const DY = [-1, -1, -1, 0, 0, 1, 1, 1];
  const offs = new Int32Array(8);
  for (let k = 0; k < 8; k++) offs[k] = DY[k] * width + DX[k];

  for (let oi = 0; oi < fgCount; oi++) {
    const p = order[oi];
    const x = p % width;
    const y = (p - x) / width;
    const level = dist[p];
    const reg = regions ? regions[p] : 0;
    const interior = x > 0 && y > 0 && x < width - 1 && y < height - 1;
    let nr = 0;
    let steep = 0;
    let steepD = -1;
    let lastB = 0;
    let lastR = 0;
    for (let k = 0; k < 8; k++) {
      if (!interior) {
        const xx = x + DX[k];
        const yy = y + DY[k];
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
      }
      const q = p + offs[k];
      const bq = basin[q];
      if (bq === 0) continue;
      if (regions && regions[q] !== reg) continue;
      // Neighbours mostly share one basin: skip the union-find walk and the duplicate check for repeats.
      let r = lastR;
      if (bq !== lastB) {
        r = find(bq);
        lastB = bq;
        lastR = r;
        let seen = false;
        for (let j = 0; j < nr; j++) if (roots[j] === r) seen = true;
        if (!seen) roots[nr++] = r;
      }
      const dq = dist[q];
      if (dq > steepD) {
        steepD = dq;
        steep = r;
      }
    }
    if (nr === 0) {
      nBasins++;
      if (nBasins >= cap) {
        cap *= 2;
        const np = new Int32Array(cap);
        np.set(parent);
        parent = np;
        const pk = new Float32Array(cap);
        pk.set(peak);
        peak = pk;
      }
      parent[nBasins] = nBasins;
      peak[nBasins] = level;
      basin[p] = nBasins;
      continue;
    }
    // Basins meeting here: the weaker ones that do not rise enough above this saddle are absorbed by the
    // strongest (they were noise maxima on the same particle). The pixel itself follows its steepest uphill
    // neighbour, so a basin's front cannot creep around another one along a level line.
    if (nr > 1) {
      let best = roots[0];
      for (let k = 1; k < nr; k++) if (peak[roots[k]] > peak[best]) best = roots[k];
      for (let k = 0; k < nr; k++) {
        const r = roots[k];
        if (r === best) continue;
        const pr = peak[r];
        if (pr - level < Math.max(hMin, hRel * pr)) parent[r] = best;
      }
      steep = find(steep);
    }
    if (level > peak[steep]) peak[steep] = level;
    basin[p] = steep;
  }

  // Compact ids in raster order of first pixel.
  const remap = new Int32Array(nBasins + 1);
  const out = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const b = basin[i];
    if (b === 0) continue;
    const r = find(b);
    if (remap[r] === 0) remap[r] = ++count;
    out[i] = remap[r];
  }
  return { width, height, data: out, count };
}

/** `order` stably regrouped by the region of each pixel (regions in ascending order). */
function groupByRegion(order: Int32Array, regions: Int32Array): Int32Array {
  let max = 0;
  for (let k = 0; k < order.length; k++) if (regions[order[k]] > max) max = regions[order[k]];
  const start = new Int32Array(max + 2);
  for (let k = 0; k < order.length; k++) start[regions[order[k]] + 1]++;
  for (let r = 1; r < start.length; r++) start[r] += start[r - 1];
  const out = new Int32Array(order.length);
  for (let k = 0; k < order.length; k++) out[start[regions[order[k]]]++] = order[k];
  return out;
}
