import { describe, expect, it } from 'vitest';
import { flipAveraged } from '../src/core/segment/flip-views';
import type { InferenceBackend } from '../src/core/segment/model';

describe('thorough inference (four mirrored views)', () => {
  const h = 5;
  const w = 7;
  const input = Float32Array.from({ length: h * w }, (_, i) => (i * 37) % 11);
  const seen: Float32Array[] = [];
  // Not mirror-symmetric: adds a ramp across x and one down y to what it sees, so each view disagrees.
  const ramp: InferenceBackend = {
    name: 'ramp',
    async run(a, hh, ww) {
      seen.push(Float32Array.from(a));
      const out = new Float32Array(a.length);
      for (let y = 0; y < hh; y++) for (let x = 0; x < ww; x++) out[y * ww + x] = a[y * ww + x] + x + 10 * y;
      return { m: out, n: Float32Array.from(a) };
    },
    async dispose() {},
  };

  it('averages the mirrored views mapped back: the ramps average to their middle, the image stays put', async () => {
    seen.length = 0;
    const r = await flipAveraged(ramp).run(input, h, w);
    expect(seen).toHaveLength(4);
    // the second view is the input mirrored left-right, the third top-bottom, the fourth both
    expect(seen[1][0]).toBe(input[w - 1]);
    expect(seen[2][0]).toBe(input[(h - 1) * w]);
    expect(seen[3][0]).toBe(input[h * w - 1]);
    for (let i = 0; i < h * w; i++) {
      expect(r.m[i]).toBeCloseTo(input[i] + (w - 1) / 2 + (10 * (h - 1)) / 2, 5);
      expect(r.n[i]).toBeCloseTo(input[i], 6);
    }
  });

  it('leaves the inner backend its own buffers and passes its name and dispose through', async () => {
    let disposed = false;
    const fixed = new Float32Array(h * w).fill(1);
    const same: InferenceBackend = {
      name: 'same',
      run: async () => ({ m: fixed }),
      dispose: async () => void (disposed = true),
    };
    const b = flipAveraged(same);
    const r = await b.run(input, h, w);
    expect(Array.from(fixed).every((v) => v === 1)).toBe(true);
    expect(Array.from(r.m).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
    expect(b.name).toBe('same');
    await b.dispose();
    expect(disposed).toBe(true);
  });
});
