/**
 * Instance clean-up shared by the model and threshold methods: fill holes that lie inside one particle and
 * drop specks too small to be anything but noise. Both work in place on a label image.
 */
import type { LabelImage } from '../raster';
import { labelComponents } from '../label';

/**
 * Fills every background region (4-connected) that does not touch the image border and is bordered by exactly
 * one particle. Gaps enclosed by several touching particles stay background: they are not part of any of them.
 * `blocked` marks pixels that must stay background (e.g. an excluded banner); regions touching them are kept.
 */
export function fillHolesPerLabel(labels: LabelImage, blocked?: Uint8Array): void {
  const { width: W, height: H, data } = labels;
  const n = W * H;
  const bg = new Uint8Array(n);
  for (let i = 0; i < n; i++) bg[i] = data[i] === 0 ? 1 : 0;
  const holes = labelComponents({ width: W, height: H, data: bg }, 4);
  const hc = holes.count;
  if (hc === 0) return;
  // owner: the single particle bordering the region, -1 when open (border, blocked, or several particles).
  const owner = new Int32Array(hc + 1);
  const h = holes.data;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const c = h[i];
      if (c === 0 || owner[c] === -1) continue;
      if (x === 0 || y === 0 || x === W - 1 || y === H - 1 || (blocked && blocked[i])) {
        owner[c] = -1;
        continue;
      }
      const nb0 = data[i - 1];
      const nb1 = data[i + 1];
      const nb2 = data[i - W];
      const nb3 = data[i + W];
      let o = owner[c];
      if (nb0) o = o === 0 || o === nb0 ? nb0 : -1;
      if (nb1 && o !== -1) o = o === 0 || o === nb1 ? nb1 : -1;
      if (nb2 && o !== -1) o = o === 0 || o === nb2 ? nb2 : -1;
      if (nb3 && o !== -1) o = o === 0 || o === nb3 ? nb3 : -1;
      owner[c] = o;
    }
  }
  for (let i = 0; i < n; i++) {
    const c = h[i];
    if (c !== 0 && owner[c] > 0) data[i] = owner[c];
  }
}

/** Sets particles with fewer than `minPx` pixels to background. Returns how many were dropped. */
export function removeSpecks(labels: LabelImage, minPx: number): number {
  if (minPx <= 1) return 0;
  const { data } = labels;
  let maxLabel = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > maxLabel) maxLabel = data[i];
  const area = new Int32Array(maxLabel + 1);
  for (let i = 0; i < data.length; i++) area[data[i]]++;
  let dropped = 0;
  for (let l = 1; l <= maxLabel; l++) if (area[l] > 0 && area[l] < minPx) dropped++;
  if (dropped === 0) return 0;
  for (let i = 0; i < data.length; i++) {
    const l = data[i];
    if (l !== 0 && area[l] < minPx) data[i] = 0;
  }
  return dropped;
}
