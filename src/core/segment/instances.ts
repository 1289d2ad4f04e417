/**
 * Particle instances from the model's probability maps. Seeds are the confident particle interiors
 * (foreground high, boundary low); they are grown back into the foreground mask by a marker-controlled
 * watershed on the boundary map (priority flood with a bucket queue), so two touching particles separate along
 * the ridge of boundary probability between them.
 */
import type { LabelImage } from '../raster';
import { labelComponents, relabelInPlace } from '../label';
import { fillHolesPerLabel, removeSpecks } from './cleanup';
import { distanceWatershed } from './watershed';

export interface InstanceOptions {
  /** Foreground probability above which a pixel belongs to a particle. */
  foregroundThreshold: number;
  /** Boundary probability below which a foreground pixel is a seed (particle interior). */
  boundaryThreshold: number;
  /** Separate touching particles with the boundary map; false = plain foreground components. */
  split: boolean;
  /** Additionally split instances by a distance-transform watershed. */
  watershed?: boolean;
  /** Seeds smaller than this are ignored (boundary noise), their pixels are claimed by neighbours. */
  minSeedPx?: number;
  /**
   * Neighbouring regions whose shared border has a mean boundary probability below this are merged back:
   * a real contact between touching particles is a clear ridge along its whole length, while texture or noise
   * inside one particle only breaks the seed in places. Default: halfway between the seed threshold and 1.
   */
  mergeThreshold?: number;
  /**
   * mergeThreshold for neighbours of comparable area (the smaller at least COMPARABLE_AREA of the larger);
   * default mergeThreshold. Used for maps resampled back from an upsampled pass: the contact ridge between
   * crowded particles a few pixels across is smoothed below mergeThreshold there, while a piece broken off a
   * particle by noise, the weak ridge the merge is for, is much smaller than the particle.
   */
  mergeThresholdComparable?: number;
  /**
   * Regions sharing at least this fraction of the smaller one's outline are merged (a faceted corner cut off by
   * the boundary band); default 0.4, 1 or more turns it off.
   */
  fragmentShare?: number;
  /** Particles smaller than this are dropped as specks. */
  speckPx?: number;
  /**
   * The model's normalised distance-to-edge map (1 at a particle's centre). With `minDistancePeak`, a region
   * whose highest distance stays below it is dropped: the model found no centre in it, which is what ground
   * texture and noise blobs look like (measured on the EMPS hold-out, models/README.md).
   */
  distance?: Float32Array | null;
  minDistancePeak?: number;
  /**
   * With `distance`: a region is also split where the distance map has two centres with a saddle between them
   * deeper than this fraction of the lower centre's height (and at least SPLIT_MIN_DYNAMIC); 0 or unset = off.
   * Touching particles whose contact the boundary map misses still get a centre each in the distance map (their
   * saddle is deep), while the ridge along a rod only wavers (a shallow saddle whatever its absolute depth):
   * an absolute dynamic cut rods across on the e2e TEM image, a relative one did not.
   */
  distanceSplit?: number;
  /**
   * Particles narrower than this (equivalent-circle diameter at the scale the model ran) need a proportionally
   * lower peak: the model cannot reach 1 in the centre of a particle a few pixels across.
   */
  distancePeakDiameterPx?: number;
  /** Scale the maps were inferred at relative to these labels (diameters above are at that scale). */
  inferenceScale?: number;
  /** A region without a centre that borders one with a centre joins it instead of being dropped (default). */
  absorbCentreless?: boolean;
  /** Pixels that must end up background (excluded bands). */
  blocked?: Uint8Array;
}

const LEVELS = 256;
/** Quantisation of the model's 0-1 distance map for the distance split's flooding order. */
const DISTANCE_LEVELS = 256;
/** The distance split ignores saddles shallower than this (in the map's 0-1 units): noise on one centre. */
const SPLIT_MIN_DYNAMIC = 0.1;
/** Shared-border fraction of the smaller region's outline above which two regions are one particle. */
const FRAGMENT_SHARE = 0.4;
/**
 * Area ratio (smaller / larger) from which two neighbours count as comparable for mergeThresholdComparable;
 * chosen on the synthetic hold-out (0.25 and 0.5 alike, models/README.md).
 */
const COMPARABLE_AREA = 0.25;

export function instancesFromProbabilities(
  foreground: Float32Array,
  boundary: Float32Array | null,
  width: number,
  height: number,
  opts: InstanceOptions,
): LabelImage {
  const n = width * height;
  const mask = new Uint8Array(n);
  const tf = opts.foregroundThreshold;
  const blocked = opts.blocked;
  for (let i = 0; i < n; i++) mask[i] = foreground[i] > tf && !(blocked && blocked[i]) ? 1 : 0;

  let labels: LabelImage;
  if (!opts.split || !boundary) {
    labels = labelComponents({ width, height, data: mask }, 8);
  } else {
    labels = growSeeds(mask, boundary, width, height, opts.boundaryThreshold, opts.minSeedPx ?? 4);
    mergeWeakBorders(
      labels,
      boundary,
      opts.mergeThreshold ?? (opts.boundaryThreshold + 1) / 2,
      opts.fragmentShare ?? FRAGMENT_SHARE,
      opts.mergeThresholdComparable,
    );
  }
  if (opts.split && opts.watershed) {
    labels = distanceWatershed(mask, width, height, { regions: labels.data });
  }
  if (opts.split && opts.distance && (opts.distanceSplit ?? 0) > 0) {
    // Only pixels already in a particle: foreground the seeds never reached (no centre) stays background.
    const inParticle = new Uint8Array(n);
    for (let i = 0; i < n; i++) inParticle[i] = labels.data[i] !== 0 ? 1 : 0;
    labels = distanceWatershed(inParticle, width, height, {
      regions: labels.data,
      heights: opts.distance,
      levels: DISTANCE_LEVELS,
      hMin: SPLIT_MIN_DYNAMIC,
      hRel: opts.distanceSplit,
    });
  }
  if (opts.distance && opts.minDistancePeak !== undefined && opts.minDistancePeak > 0) {
    const fullAt = (opts.distancePeakDiameterPx ?? 0) / (opts.inferenceScale ?? 1);
    resolveCentres(labels, opts.distance, opts.minDistancePeak, fullAt, opts.absorbCentreless ?? true);
  }
  removeSpecks(labels, opts.speckPx ?? 0);
  fillHolesPerLabel(labels, blocked);
  return relabelInPlace(labels);
}

/** Seeds -> priority flood over the foreground mask, ordered by quantised boundary probability. */
function growSeeds(
  mask: Uint8Array,
  boundary: Float32Array,
  width: number,
  height: number,
  tb: number,
  minSeedPx: number,
): LabelImage {
  const n = width * height;
  const seedMask = new Uint8Array(n);
  for (let i = 0; i < n; i++) seedMask[i] = mask[i] && boundary[i] < tb ? 1 : 0;
  const seeds = labelComponents({ width, height, data: seedMask }, 4);
  removeSpecks(seeds, minSeedPx);
  const lab = seeds.data;

  const queue = new BucketQueue(LEVELS);
  const scale = LEVELS - 1;
  // seedMask is reused as the "queued or labelled" marker.
  for (let i = 0; i < n; i++) seedMask[i] = lab[i] !== 0 ? 1 : 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (lab[i] === 0) continue;
      if (
        (x > 0 && mask[i - 1] && !seedMask[i - 1]) ||
        (x < width - 1 && mask[i + 1] && !seedMask[i + 1]) ||
        (y > 0 && mask[i - width] && !seedMask[i - width]) ||
        (y < height - 1 && mask[i + width] && !seedMask[i + width])
      )
        queue.push(i, 0);
    }
  }
  // Each popped pixel hands its label to unvisited foreground neighbours; a neighbour's priority is never below
  // the current level, which keeps the flood monotone (plateaus fill breadth-first from every seed at once).
  for (;;) {
    const i = queue.pop();
    if (i < 0) break;
    const level = queue.level;
    const l = lab[i];
    const x = i % width;
    const y = (i - x) / width;
    for (let k = 0; k < 4; k++) {
      let q: number;
      if (k === 0) {
        if (x === 0) continue;
        q = i - 1;
      } else if (k === 1) {
        if (x === width - 1) continue;
        q = i + 1;
      } else if (k === 2) {
        if (y === 0) continue;
        q = i - width;
      } else {
        if (y === height - 1) continue;
        q = i + width;
      }
      if (!mask[q] || seedMask[q]) continue;
      seedMask[q] = 1;
      lab[q] = l;
      let p = Math.floor(boundary[q] * scale + 0.5);
      if (!(p >= level))
        p = level; // also catches NaN
      else if (p > scale) p = scale;
      queue.push(q, p);
    }
  }

  // Foreground without any seed (a particle the boundary map covered entirely) becomes its own particle.
  const maxLabel = maxLabelOf(lab);
  let orphans = 0;
  for (let i = 0; i < n; i++) {
    const o = mask[i] && lab[i] === 0 ? 1 : 0;
    seedMask[i] = o;
    orphans += o;
  }
  if (orphans > 0) {
    const extra = labelComponents({ width, height, data: seedMask }, 8).data;
    for (let i = 0; i < n; i++) if (extra[i]) lab[i] = maxLabel + extra[i];
  }
  return seeds;
}

function maxLabelOf(lab: LabelImage['data']): number {
  let m = 0;
  for (let i = 0; i < lab.length; i++) if (lab[i] > m) m = lab[i];
  return m;
}

/** Calls `visit(i, q)` for every pair of 4-neighbouring pixels i < q whose labels differ. */
function forEachBorder(labels: LabelImage, visit: (i: number, q: number) => void): void {
  const { width, height, data: lab } = labels;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (x + 1 < width && lab[i + 1] !== lab[i]) visit(i, i + 1);
      if (y + 1 < height && lab[i + width] !== lab[i]) visit(i, i + width);
    }
  }
}

/**
 * Merges adjacent regions separated by a weak boundary ridge (mean boundary probability along the shared border
 * below `threshold`), in place. One pass gathers per-pair sums in a Map keyed by the label pair; union-find
 * then joins the weak pairs.
 */
function mergeWeakBorders(
  labels: LabelImage,
  boundary: Float32Array,
  threshold: number,
  fragmentShare: number,
  comparableThreshold: number | undefined,
): void {
  const lab = labels.data;
  const maxLabel = maxLabelOf(lab);
  if (maxLabel < 2) return;
  const stride = maxLabel + 1;
  const area = new Float64Array(stride);
  if (comparableThreshold !== undefined) for (let i = 0; i < lab.length; i++) area[lab[i]]++;
  const sums = new Map<number, number>();
  const counts = new Map<number, number>();
  // Outline length (in pixel edges) of every region, for the shared-border fraction below.
  const outline = new Float64Array(stride);
  forEachBorder(labels, (i, q) => {
    const a = lab[i];
    const b = lab[q];
    outline[a]++;
    outline[b]++;
    if (a === 0 || b === 0) return;
    const key = a < b ? a * stride + b : b * stride + a;
    const v = boundary[i] > boundary[q] ? boundary[i] : boundary[q];
    sums.set(key, (sums.get(key) ?? 0) + v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  if (sums.size === 0) return;
  const parent = new Int32Array(stride);
  for (let l = 0; l < stride; l++) parent[l] = l;
  const find = (l: number): number => {
    while (parent[l] !== l) {
      parent[l] = parent[parent[l]];
      l = parent[l];
    }
    return l;
  };
  let merged = 0;
  for (const [key, sum] of sums) {
    const shared = counts.get(key) as number;
    const a = Math.floor(key / stride);
    const b = key % stride;
    // A piece that shares much of its outline with one neighbour is a fragment of it (a faceted corner cut off
    // by the boundary band), not a particle touching it: convex particles touch along a short contact.
    const fragment = shared >= fragmentShare * Math.min(outline[a], outline[b]);
    const limit =
      comparableThreshold !== undefined &&
      Math.min(area[a], area[b]) >= COMPARABLE_AREA * Math.max(area[a], area[b])
        ? comparableThreshold
        : threshold;
    if (sum / shared >= limit && !fragment) continue;
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) continue;
    if (ra < rb) parent[rb] = ra;
    else parent[ra] = rb;
    merged++;
  }
  if (merged === 0) return;
  for (let i = 0; i < lab.length; i++) if (lab[i] !== 0) lab[i] = find(lab[i]);
}

/**
 * Regions whose peak of `distance` is below `minPeak` (regions narrower than `fullDiameterPx`, equivalent-circle
 * diameter in these labels' pixels, need only minPeak * diameter / fullDiameterPx) have no centre of their own.
 * With `absorb`, such a region that borders regions with a centre joins the one it shares the longest border
 * with (a corner or rim cut off by the boundary band, or a seed broken by texture); the rest are cleared
 * (ground texture, noise). Touching regions that each have a centre stay apart however faint the contact.
 */
function resolveCentres(
  labels: LabelImage,
  distance: Float32Array,
  minPeak: number,
  fullDiameterPx: number,
  absorb: boolean,
): void {
  const lab = labels.data;
  const maxLabel = maxLabelOf(lab);
  if (maxLabel === 0) return;
  const peak = new Float32Array(maxLabel + 1);
  const area = new Int32Array(maxLabel + 1);
  for (let i = 0; i < lab.length; i++) {
    const l = lab[i];
    if (l === 0) continue;
    area[l]++;
    if (distance[i] > peak[l]) peak[l] = distance[i];
  }
  const target = new Int32Array(maxLabel + 1);
  let orphans = 0;
  for (let l = 1; l <= maxLabel; l++) {
    if (area[l] === 0) continue;
    const ecd = 2 * Math.sqrt(area[l] / Math.PI);
    const need = fullDiameterPx > 0 && ecd < fullDiameterPx ? (minPeak * ecd) / fullDiameterPx : minPeak;
    if (peak[l] >= need) target[l] = l;
    else orphans++;
  }
  if (orphans === 0) return;
  if (absorb) {
    // Longest shared border (in pixel edges) between each centreless region and a centred neighbour.
    const stride = maxLabel + 1;
    const shared = new Map<number, number>();
    forEachBorder(labels, (i, q) => {
      const a = lab[i];
      const b = lab[q];
      if (a === 0 || b === 0 || (target[a] !== 0) === (target[b] !== 0)) return;
      const key = target[a] === 0 ? a * stride + b : b * stride + a;
      shared.set(key, (shared.get(key) ?? 0) + 1);
    });
    // Each key pairs a centreless region a with a centred neighbour; a joins the one with the longest border.
    const best = new Int32Array(maxLabel + 1);
    for (const [key, count] of shared) {
      const a = Math.floor(key / stride);
      if (count > best[a]) {
        best[a] = count;
        target[a] = key % stride;
      }
    }
  }
  for (let i = 0; i < lab.length; i++) if (lab[i] !== 0) lab[i] = target[lab[i]];
}

/**
 * Monotone bucket queue of pixel indices with integer priorities 0..levels-1; FIFO within a bucket.
 * Buckets are growable Int32Arrays, so memory follows the number of queued pixels, not the image size.
 */
class BucketQueue {
  private readonly items: Int32Array[];
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  level = 0;

  constructor(levels: number) {
    this.items = Array.from({ length: levels }, () => new Int32Array(64));
    this.head = new Int32Array(levels);
    this.tail = new Int32Array(levels);
  }

  push(i: number, p: number): void {
    let a = this.items[p];
    if (this.tail[p] === a.length) {
      // Compact the consumed front before growing.
      const live = this.tail[p] - this.head[p];
      const na = live * 2 + 64 > a.length ? new Int32Array(a.length * 2) : a;
      na.set(a.subarray(this.head[p], this.tail[p]), 0);
      this.items[p] = a = na;
      this.head[p] = 0;
      this.tail[p] = live;
    }
    a[this.tail[p]++] = i;
    if (p < this.level) this.level = p;
  }

  /** Lowest-priority item, or -1 when empty. */
  pop(): number {
    const L = this.items.length;
    while (this.level < L && this.head[this.level] === this.tail[this.level]) {
      this.head[this.level] = this.tail[this.level] = 0;
      this.level++;
    }
    if (this.level >= L) return -1;
    return this.items[this.level][this.head[this.level]++];
  }
}
