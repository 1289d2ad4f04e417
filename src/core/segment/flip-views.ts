/**
 * "Thorough" inference: each tile is inferred as is and mirrored left-right, top-bottom and both, each output is
 * mirrored back, and the four maps are averaged. A convolutional net is not exactly mirror-symmetric, so its
 * doubts differ between views; averaging steadies outlines and centres at four times the inference cost (on the
 * hold-out, model 1.3.0: EMPS instance F1 0.822 -> 0.852, synthetic 0.736 -> 0.746).
 * A decorator over any backend, so tiling, resampling and the instance step are unchanged.
 */
import type { InferenceBackend } from './model';

/** `src` (h x w) mirrored left-right (`h`), top-bottom (`v`), or both, into `dst` (may not alias `src`). */
function mirror(src: Float32Array, dst: Float32Array, h: number, w: number, lr: boolean, tb: boolean): void {
  for (let y = 0; y < h; y++) {
    const sRow = (tb ? h - 1 - y : y) * w;
    const dRow = y * w;
    if (lr) for (let x = 0; x < w; x++) dst[dRow + x] = src[sRow + w - 1 - x];
    else dst.set(src.subarray(sRow, sRow + w), dRow);
  }
}

/** The three mirrored views added to the plain one: [left-right, top-bottom]. */
const VIEWS: ReadonlyArray<readonly [boolean, boolean]> = [
  [true, false],
  [false, true],
  [true, true],
];

export function flipAveraged(backend: InferenceBackend): InferenceBackend {
  return {
    name: backend.name,
    async run(input, height, width) {
      const sum = await backend.run(input, height, width);
      for (const key of Object.keys(sum)) sum[key] = Float32Array.from(sum[key]); // never add into its buffers
      const view = new Float32Array(input.length);
      const back = new Float32Array(input.length);
      for (const [lr, tb] of VIEWS) {
        mirror(input, view, height, width, lr, tb);
        const out = await backend.run(view, height, width);
        for (const key of Object.keys(sum)) {
          const o = out[key];
          if (!o) throw new Error(`model output "${key}" missing from a mirrored view`);
          mirror(o, back, height, width, lr, tb); // a mirror is its own inverse
          const s = sum[key];
          for (let i = 0; i < s.length; i++) s[i] += back[i];
        }
      }
      for (const key of Object.keys(sum)) {
        const s = sum[key];
        for (let i = 0; i < s.length; i++) s[i] *= 0.25;
      }
      return sum;
    },
    dispose: () => backend.dispose(),
  };
}
