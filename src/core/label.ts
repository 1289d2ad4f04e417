import type { LabelImage, Mask } from './raster';

/**
 * Horizontal runs of one row-major image, in raster order. Labelling and measuring both work on runs:
 * a particle mask has a few runs per particle row, so unions, moments and hulls cost per run, not per pixel.
 */
export interface Runs {
  count: number;
  y: Int32Array;
  x0: Int32Array;
  /** Exclusive end column. */
  x1: Int32Array;
  /** Index of the first run of each row (length height + 1). */
  rowStart: Int32Array;
}

/** A copy of `a` in a buffer of `size` elements (for growing run and queue buffers). */
export function grow(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** Foreground runs (mask value != 0) of a binary mask. */
export function maskRuns(mask: Mask): Runs {
  const { width: w, height: h, data } = mask;
  let cap = Math.max(1024, (w * h) >> 6);
  let ry: Int32Array = new Int32Array(cap);
  let rx0: Int32Array = new Int32Array(cap);
  let rx1: Int32Array = new Int32Array(cap);
  const rowStart = new Int32Array(h + 1);
  let n = 0;
  // A Uint32 view skips four background bytes per load (masks are mostly ground).
  const u32 =
    (data.byteOffset & 3) === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >> 2) : null;
  for (let y = 0; y < h; y++) {
    rowStart[y] = n;
    const base = y * w;
    const end = base + w;
    let i = base;
    while (i < end) {
      if (u32 !== null && (i & 3) === 0) {
        let k = i >> 2;
        const ke = end >> 2;
        while (k < ke && u32[k] === 0) k++;
        i = k << 2;
        if (i >= end) break;
      }
      if (data[i] === 0) {
        i++;
        continue;
      }
      const s = i;
      i++;
      while (i < end && data[i] !== 0) i++;
      if (n === cap) {
        cap *= 2;
        ry = grow(ry, cap);
        rx0 = grow(rx0, cap);
        rx1 = grow(rx1, cap);
      }
      ry[n] = y;
      rx0[n] = s - base;
      rx1[n] = i - base;
      n++;
    }
  }
  rowStart[h] = n;
  return { count: n, y: ry, x0: rx0, x1: rx1, rowStart };
}

/**
 * Connected-component labelling: union-find over runs (linking to the smaller run index, with path
 * halving), so each component's root is its first run in raster order and labels come out 1..n in
 * raster order of each component's first pixel without a relabelling pass.
 */
export function labelComponents(mask: Mask, connectivity: 4 | 8): LabelImage {
  const { width: w, height: h } = mask;
  const runs = maskRuns(mask);
  const { count: n, x0, x1, rowStart } = runs;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  // 8-connectivity: runs touching diagonally also join, i.e. overlap after widening by one column.
  const d = connectivity === 8 ? 1 : 0;

  for (let y = 1; y < h; y++) {
    let p = rowStart[y - 1];
    const pEnd = rowStart[y];
    const cEnd = rowStart[y + 1];
    for (let c = pEnd; c < cEnd; c++) {
      const a = x0[c] - d;
      const b = x1[c] + d;
      // Runs in the previous row ending at or before this run's start cannot touch this or later runs.
      while (p < pEnd && x1[p] <= a) p++;
      let q = p;
      while (q < pEnd && x0[q] < b) {
        // union(c, q)
        let ra = c;
        while (parent[ra] !== ra) {
          parent[ra] = parent[parent[ra]];
          ra = parent[ra];
        }
        let rb = q;
        while (parent[rb] !== rb) {
          parent[rb] = parent[parent[rb]];
          rb = parent[rb];
        }
        if (ra < rb) parent[rb] = ra;
        else if (rb < ra) parent[ra] = rb;
        q++;
      }
    }
  }

  // Roots are the smallest run index of their component, so one forward pass resolves every run.
  const runLabel = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const r = parent[i];
    if (r === i) runLabel[i] = ++count;
    else runLabel[i] = runLabel[parent[r] === r ? r : findRoot(parent, r)];
  }

  const out = new Int32Array(w * h);
  const ry = runs.y;
  for (let i = 0; i < n; i++) {
    const base = ry[i] * w;
    const v = runLabel[i];
    const a = base + x0[i];
    const b = base + x1[i];
    // fill() has a high fixed cost per call; most particle runs are a few pixels long.
    if (b - a > 64) out.fill(v, a, b);
    else for (let k = a; k < b; k++) out[k] = v;
  }
  return { width: w, height: h, data: out, count };
}

function findRoot(parent: Int32Array, i: number): number {
  while (parent[i] !== i) i = parent[i];
  return i;
}

/**
 * Renumbers labels to 1..n in raster order of each label's first pixel (after edits or merges leave
 * gaps). Pixels of one label stay one label even when not connected; only numbering changes. Returns a new
 * image; the input is left as it is.
 */
export function relabelSequential(labels: LabelImage): LabelImage {
  return relabelInPlace({ ...labels, data: Int32Array.from(labels.data) });
}

/**
 * relabelSequential in place, without a second full-size Int32 buffer (on an 8192x8192 image that is 256 MB):
 * for label images this step owns.
 */
export function relabelInPlace(labels: LabelImage): LabelImage {
  const { data } = labels;
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  const map = new Int32Array(max + 1);
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === 0) continue;
    if (v < 0) {
      data[i] = 0; // negative marks (work values of some steps) are background in a label image
      continue;
    }
    let m = map[v];
    if (m === 0) m = map[v] = ++count;
    data[i] = m;
  }
  labels.count = count;
  return labels;
}
