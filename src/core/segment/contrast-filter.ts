/**
 * One contrast per image: SEM particles are brighter than their ground, bright-field TEM particles darker, and
 * an image holds one kind. The model is trained on both (and on inverted images), so on ground with dark pores
 * or bright grains it also outlines features of the opposite contrast as particles. When most of the detected
 * particle area, weighed by how strongly it stands out, has one contrast, detections of the other are dropped.
 *
 * Measured offline on 1.3.0's labels of the hold-outs (majority share 0.6, 3 px ring): EMPS F1@0.5 0.822 -> 0.862,
 * synthetic 0.736 -> 0.744, the same for shares 0.5-0.8; rings of 2-5 px within 0.003; votes by area alone
 * 0.858 (a TEM image's large faint bright blobs outweighed its small dark particles).
 */
import type { LabelImage } from '../raster';
import { grow } from '../label';

/** Width (px) of the ring of ground around each particle that its inside is compared with. */
export const CONTRAST_RING_PX = 3;

export interface ContrastFilterResult {
  /** Detections dropped. */
  dropped: number;
  /** The majority's contrast: 1 brighter than the ground, -1 darker, 0 when no majority reached the share. */
  polarity: -1 | 0 | 1;
}

/**
 * Drops, in place, the particles whose mean inside is on the other side of their ring's mean from the
 * contrast that holds `minShare` (0.5-1) of the particles' area x contrast. `image` is any monotone rendering of the grey
 * image at the labels' size (normalised, quantised). Ring pixels come from a breadth-first growth of every
 * particle into the ground (8-neighbours, `ringPx` steps), so touching particles share no ring pixels and a
 * particle enclosed by others has no ring and is kept. `blocked` pixels (a banner) never count as ground.
 */
export function dropOppositeContrast(
  labels: LabelImage,
  image: ArrayLike<number>,
  minShare: number,
  blocked?: Uint8Array,
  ringPx = CONTRAST_RING_PX,
): ContrastFilterResult {
  const { width: W, height: H, data } = labels;
  const n = W * H;
  const count = labels.count;
  if (count === 0) return { dropped: 0, polarity: 0 };
  const area = new Float64Array(count + 1);
  const sumIn = new Float64Array(count + 1);
  const ringN = new Float64Array(count + 1);
  const sumRing = new Float64Array(count + 1);

  // Ring pixels are marked in the label image itself as -(owner) while the ring grows, then reset to 0: no
  // W x H owner buffer (256 MB at 8192 x 8192) beside the labels. Every ring pixel is listed once (`ring`), so
  // the reset visits only those.
  let ring: Int32Array = new Int32Array(1024);
  let ringLen = 0;
  let cur: Int32Array = new Int32Array(1024);
  let curLen = 0;
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const i = row + x;
      const l = data[i];
      if (l <= 0) continue;
      area[l]++;
      sumIn[l] += image[i];
      const edge =
        (x > 0 && data[i - 1] === 0) ||
        (x < W - 1 && data[i + 1] === 0) ||
        (y > 0 && data[i - W] === 0) ||
        (y < H - 1 && data[i + W] === 0);
      if (!edge) continue;
      if (curLen === cur.length) cur = grow(cur, curLen * 2);
      cur[curLen++] = i;
    }
  }
  const offsets = [-W - 1, -W, -W + 1, -1, 1, W - 1, W, W + 1];
  for (let step = 0; step < ringPx && curLen > 0; step++) {
    const from = ringLen;
    for (let k = 0; k < curLen; k++) {
      const i = cur[k];
      const owner = data[i] < 0 ? -data[i] : data[i];
      const y = (i / W) | 0;
      const x = i - y * W;
      // Away from the border every neighbour exists: no bounds tests.
      const inner = x > 0 && x < W - 1 && y > 0 && y < H - 1;
      for (let d = 0; d < 8; d++) {
        let j: number;
        if (inner) j = i + offsets[d];
        else {
          const xx = x + (d === 0 || d === 3 || d === 5 ? -1 : d === 2 || d === 4 || d === 7 ? 1 : 0);
          const yy = y + (d < 3 ? -1 : d > 4 ? 1 : 0);
          if (xx < 0 || xx >= W || yy < 0 || yy >= H) continue;
          j = yy * W + xx;
        }
        if (data[j] !== 0 || (blocked && blocked[j])) continue;
        data[j] = -owner;
        ringN[owner]++;
        sumRing[owner] += image[j];
        if (ringLen === ring.length) ring = grow(ring, ringLen * 2);
        ring[ringLen++] = j;
      }
    }
    // This step's new ring pixels are the next step's front.
    cur = ring.subarray(from, ringLen);
    curLen = ringLen - from;
  }
  for (let k = 0; k < ringLen; k++) data[ring[k]] = 0;

  // Each particle votes with its area times its contrast: real particles stand out more than the texture the
  // model mistakes for particles, so a few large faint blobs cannot outvote small strong particles.
  const sign = new Int8Array(count + 1);
  let brighter = 0;
  let darker = 0;
  for (let l = 1; l <= count; l++) {
    if (area[l] === 0 || ringN[l] === 0) continue;
    const c = sumIn[l] / area[l] - sumRing[l] / ringN[l];
    if (c > 0) {
      sign[l] = 1;
      brighter += area[l] * c;
    } else if (c < 0) {
      sign[l] = -1;
      darker -= area[l] * c;
    }
  }
  const total = brighter + darker;
  if (total === 0) return { dropped: 0, polarity: 0 };
  const polarity = brighter >= darker ? 1 : -1;
  if (Math.max(brighter, darker) / total < minShare) return { dropped: 0, polarity: 0 };
  let dropped = 0;
  for (let l = 1; l <= count; l++) if (sign[l] === -polarity) dropped++;
  if (dropped === 0) return { dropped, polarity };
  // Dropping and renumbering in one pass: labels 1..n again in raster order of first pixels, as relabelInPlace.
  const map = new Int32Array(count + 1);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v === 0) continue;
    if (sign[v] === -polarity) {
      data[i] = 0;
      continue;
    }
    let m = map[v];
    if (m === 0) m = map[v] = ++kept;
    data[i] = m;
  }
  labels.count = kept;
  return { dropped, polarity };
}
