/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions",
 * 2012): two passes of the 1-D lower-envelope-of-parabolas transform, O(pixels).
 */

const FAR = 1e20;

/**
 * For every pixel with mask != 0, the Euclidean distance (pixels) to the nearest pixel with mask == 0;
 * 0 on background. Pixels outside the image do not count as background (as scipy's distance_transform_edt),
 * so a particle cut by the image edge keeps its centre where the visible part suggests.
 */
export function distanceTransform(mask: Uint8Array, width: number, height: number): Float32Array {
  const n = width;
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const out = new Float32Array(width * height);

  // Along columns the input is binary, so the 1-D distance is just the run length to the nearest background
  // pixel above or below: two row-major sweeps (cache-friendly) instead of a strided parabola pass.
  const far = height + width;
  for (let x = 0; x < width; x++) out[x] = mask[x] ? far : 0;
  for (let y = 1; y < height; y++) {
    const o = y * width;
    for (let x = 0; x < width; x++) out[o + x] = mask[o + x] ? out[o - width + x] + 1 : 0;
  }
  for (let y = height - 2; y >= 0; y--) {
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const below = out[o + width + x] + 1;
      if (below < out[o + x]) out[o + x] = below;
    }
  }
  // Rows: lower envelope of parabolas over the squared column distances, then the root.
  for (let y = 0; y < height; y++) {
    const off = y * width;
    for (let x = 0; x < width; x++) {
      const c = out[off + x];
      f[x] = c >= far ? FAR : c * c;
    }
    edt1d(f, d, v, z, width);
    for (let x = 0; x < width; x++) out[off + x] = mask[off + x] ? Math.sqrt(d[x]) : 0;
  }
  return out;
}

function edt1d(f: Float64Array, d: Float64Array, v: Int32Array, z: Float64Array, n: number): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    const fq = f[q] + q * q;
    let vk = v[k];
    let s = (fq - (f[vk] + vk * vk)) / (2 * (q - vk));
    while (s <= z[k]) {
      k--;
      vk = v[k];
      s = (fq - (f[vk] + vk * vk)) / (2 * (q - vk));
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const dq = q - v[k];
    d[q] = dq * dq + f[v[k]];
  }
}
