import { describe, expect, it } from 'vitest';
import type { GreyF32, LabelImage } from '../src/core/raster';
import { sidecarProblem, type InferenceBackend, type ModelSidecar } from '../src/core/segment/model';
import {
  bandDiameter,
  chooseScale,
  needsProbe,
  particleSizes,
  probeWindow,
  segmentWithModel,
} from '../src/core/segment/model-segment';
import { layoutAxis, reflectIndex, runTiled } from '../src/core/segment/tiles';
import { instancesFromProbabilities } from '../src/core/segment/instances';
import { distanceTransform } from '../src/core/segment/distance';
import { distanceWatershed } from '../src/core/segment/watershed';
import { relabelSequential } from '../src/core/label';
import { otsuThreshold, thresholdSegment } from '../src/core/segment/threshold';

/** Fake model: per-pixel functions of the input, so the blended result must equal them exactly everywhere. */
function pixelwiseBackend(log?: Array<[number, number]>): InferenceBackend {
  return {
    name: 'fake',
    async run(input, height, width) {
      log?.push([height, width]);
      expect(height % 32).toBe(0);
      expect(width % 32).toBe(0);
      const fg = new Float32Array(input.length);
      const bd = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) {
        fg[i] = input[i] * 0.5 + 0.25;
        bd[i] = input[i] * input[i];
      }
      return { foreground: fg, boundary: bd };
    },
    async dispose() {},
  };
}

function rampImage(w: number, h: number): GreyF32 {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data[y * w + x] = (Math.sin(x * 0.37) * Math.cos(y * 0.23) + 1) / 2;
  return { width: w, height: h, data };
}

function drawDisc(
  data: Uint8Array | Float32Array,
  w: number,
  cx: number,
  cy: number,
  r: number,
  v = 1,
): void {
  const h = data.length / w;
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(h - 1, Math.ceil(cy + r)); y++)
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(w - 1, Math.ceil(cx + r)); x++)
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) data[y * w + x] = v;
}

function distinctLabels(l: LabelImage): Set<number> {
  const s = new Set<number>();
  for (const v of l.data) if (v) s.add(v);
  return s;
}

describe('tile layout', () => {
  it('covers the axis with tiles no larger than asked, overlapping at least the overlap', () => {
    for (const size of [1, 31, 32, 100, 511, 512, 513, 1000, 1024, 2500, 8192]) {
      const l = layoutAxis(size, 512, 64, 32);
      expect(l.length % 32).toBe(0);
      expect(l.length).toBeLessThanOrEqual(Math.max(512, 32));
      expect(l.origins[0]).toBe(0);
      if (l.origins.length === 1) expect(l.length).toBeGreaterThanOrEqual(size);
      else {
        expect(l.origins[l.origins.length - 1] + l.length).toBe(size);
        for (let i = 1; i < l.origins.length; i++)
          expect(l.origins[i - 1] + l.length - l.origins[i]).toBeGreaterThanOrEqual(64);
      }
    }
  });

  it('does not pay for much more than the image (1024 px with 512-px tiles: 3 tiles of 384)', () => {
    const l = layoutAxis(1024, 512, 64, 32);
    expect(l.origins.length).toBe(3);
    expect(l.length).toBe(384);
  });

  it('reflects like numpy reflect padding', () => {
    expect([-2, -1, 0, 1, 2, 3, 4, 5].map((i) => reflectIndex(i, 3))).toEqual([2, 1, 0, 1, 2, 1, 0, 1]);
    expect(reflectIndex(7, 1)).toBe(0);
  });
});

describe('tiled inference', () => {
  const sizes: Array<[number, number]> = [
    [5, 3],
    [31, 33],
    [100, 70],
    [512, 512],
    [513, 200],
    [1100, 777],
  ];
  for (const [w, h] of sizes) {
    it(`blends seamlessly: ${w}x${h} equals the per-pixel function within 1e-5`, async () => {
      const img = rampImage(w, h);
      const log: Array<[number, number]> = [];
      const out = await runTiled(pixelwiseBackend(log), img, { tileSize: 256, overlap: 48, multiple: 32 });
      expect(Object.keys(out).sort()).toEqual(['boundary', 'foreground']);
      let maxErr = 0;
      for (let i = 0; i < w * h; i++) {
        const v = img.data[i];
        maxErr = Math.max(maxErr, Math.abs(out.foreground[i] - (v * 0.5 + 0.25)));
        maxErr = Math.max(maxErr, Math.abs(out.boundary[i] - v * v));
      }
      expect(maxErr).toBeLessThan(1e-5);
      if (w > 256 || h > 256) expect(log.length).toBeGreaterThan(1);
      for (const [th, tw] of log) expect(Math.max(th, tw)).toBeLessThanOrEqual(256);
    });
  }

  it('weights down tile borders: a model that is wrong near its tile edges leaves no seam inside the image', async () => {
    // Output = 1 everywhere except a 4-pixel frame of 0 at each tile border (a typical padding artefact).
    const frameBackend: InferenceBackend = {
      name: 'frame',
      async run(_input, h, w) {
        const o = new Float32Array(h * w);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) o[y * w + x] = x < 4 || y < 4 || x >= w - 4 || y >= h - 4 ? 0 : 1;
        return { foreground: o };
      },
      async dispose() {},
    };
    const w = 700;
    const h = 600;
    const out = await runTiled(frameBackend, rampImage(w, h), { tileSize: 256, overlap: 64, multiple: 32 });
    // Away from the true image border, every pixel should be (almost) 1.
    let minInside = 1;
    for (let y = 8; y < h - 8; y++)
      for (let x = 8; x < w - 8; x++) minInside = Math.min(minInside, out.foreground[y * w + x]);
    expect(minInside).toBeGreaterThan(0.99);
  });

  it('stops between tiles when aborted', async () => {
    const ac = new AbortController();
    let calls = 0;
    const be: InferenceBackend = {
      name: 'abort',
      async run(input) {
        calls++;
        if (calls === 2) ac.abort(new Error('stop'));
        return { foreground: new Float32Array(input.length) };
      },
      async dispose() {},
    };
    await expect(
      runTiled(be, rampImage(800, 800), { tileSize: 256, overlap: 32, multiple: 32, signal: ac.signal }),
    ).rejects.toThrow('stop');
    expect(calls).toBe(2);
  });
});

describe('instances from probability maps', () => {
  // Two discs touching along x = 50, with a boundary map that is high on each disc's outline.
  const w = 100;
  const h = 60;
  const fg = new Float32Array(w * h);
  const bd = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const d1 = Math.hypot(x - 30, y - 30);
      const d2 = Math.hypot(x - 70, y - 30);
      if (d1 <= 20 || d2 <= 20) fg[y * w + x] = 0.95;
      const edge = Math.min(Math.abs(d1 - 20), Math.abs(d2 - 20));
      bd[y * w + x] = Math.max(0, 1 - edge / 3);
    }

  it('splits two touching discs into exactly 2 along the boundary ridge', () => {
    const labels = instancesFromProbabilities(fg, bd, w, h, {
      foregroundThreshold: 0.5,
      boundaryThreshold: 0.5,
      split: true,
    });
    expect(labels.count).toBe(2);
    expect(distinctLabels(labels).size).toBe(2);
    // Every foreground pixel is labelled, left disc left of the contact, right disc right of it.
    let fgN = 0;
    let labN = 0;
    for (let i = 0; i < w * h; i++) {
      if (fg[i] > 0.5) fgN++;
      if (labels.data[i]) labN++;
    }
    expect(labN).toBe(fgN);
    expect(labels.data[30 * w + 20]).toBe(1);
    expect(labels.data[30 * w + 80]).toBe(2);
    expect(labels.data[30 * w + 48]).toBe(1);
    expect(labels.data[30 * w + 52]).toBe(2);
  });

  it('merges a disc whose seed is broken by a weak, noisy line back into one particle', () => {
    const f = new Float32Array(w * h);
    const b = new Float32Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const d = Math.hypot(x - 50, y - 30);
        if (d <= 20) f[y * w + x] = 0.95;
        // Outline ridge, plus a faint line across the middle that just breaks the seed (0.55 > 0.5).
        b[y * w + x] = Math.max(0, 1 - Math.abs(d - 20) / 3, x === 50 && d < 20 ? 0.55 : 0);
      }
    const labels = instancesFromProbabilities(f, b, w, h, {
      foregroundThreshold: 0.5,
      boundaryThreshold: 0.5,
      split: true,
    });
    expect(labels.count).toBe(1);
  });

  it('keeps comparable halves apart under mergeThresholdComparable, but still merges a small cut-off cap', () => {
    // One disc crossed by a faint line (0.55, mean ridge below the default merge threshold of 0.75) either
    // through its centre (two halves of equal area) or near its edge (a cap of about a tenth of the disc).
    const cut = (lineX: number) => {
      const f = new Float32Array(w * h);
      const b = new Float32Array(w * h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const d = Math.hypot(x - 50, y - 30);
          if (d <= 20) f[y * w + x] = 0.95;
          b[y * w + x] = Math.max(0, 1 - Math.abs(d - 20) / 3, x === lineX && d < 20 ? 0.55 : 0);
        }
      return { f, b };
    };
    const opts = { foregroundThreshold: 0.5, boundaryThreshold: 0.5, split: true };
    const halves = cut(50);
    expect(instancesFromProbabilities(halves.f, halves.b, w, h, opts).count).toBe(1);
    const kept = instancesFromProbabilities(halves.f, halves.b, w, h, {
      ...opts,
      mergeThresholdComparable: 0,
    });
    expect(kept.count).toBe(2);
    expect(kept.data[30 * w + 40]).not.toBe(kept.data[30 * w + 60]);
    const cap = cut(64);
    // fragmentShare 2: the cap shares much of its outline with the disc, which alone would merge it.
    const noFragment = { ...opts, fragmentShare: 2 };
    expect(
      instancesFromProbabilities(cap.f, cap.b, w, h, { ...noFragment, mergeThresholdComparable: 0 }).count,
    ).toBe(1);
    // The cap is a separate seed before the merge: without any merge it stays a second region.
    expect(instancesFromProbabilities(cap.f, cap.b, w, h, { ...noFragment, mergeThreshold: 0 }).count).toBe(
      2,
    );
  });

  it('--no-split gives the plain foreground component', () => {
    const labels = instancesFromProbabilities(fg, bd, w, h, {
      foregroundThreshold: 0.5,
      boundaryThreshold: 0.5,
      split: false,
    });
    expect(labels.count).toBe(1);
  });

  it('keeps a particle whose interior the boundary map covers entirely, and drops specks', () => {
    const f = new Float32Array(w * h);
    const b = new Float32Array(w * h);
    drawDisc(f, w, 20, 20, 3, 0.9);
    drawDisc(b, w, 20, 20, 3, 0.9); // no seed at all
    f[50 * w + 90] = 0.9; // one-pixel speck
    const labels = instancesFromProbabilities(f, b, w, h, {
      foregroundThreshold: 0.5,
      boundaryThreshold: 0.5,
      split: true,
      speckPx: 3,
    });
    expect(labels.count).toBe(1);
    expect(labels.data[20 * w + 20]).toBe(1);
    expect(labels.data[50 * w + 90]).toBe(0);
  });

  it('fills a hole inside one particle but not a gap enclosed by three', () => {
    const W = 120;
    const H = 120;
    const f = new Float32Array(W * H);
    const b = new Float32Array(W * H);
    drawDisc(f, W, 30, 30, 15, 0.9);
    drawDisc(f, W, 30, 30, 3, 0.1); // hole
    // Three discs around a gap; boundary ridge between them.
    for (const [cx, cy] of [
      [80, 70],
      [100, 70],
      [90, 87.3],
    ])
      drawDisc(f, W, cx, cy, 10.5, 0.9);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const e = Math.min(
          ...[
            [80, 70],
            [100, 70],
            [90, 87.3],
          ].map(([cx, cy]) => Math.abs(Math.hypot(x - cx, y - cy) - 10.5)),
        );
        b[y * W + x] = Math.max(0, 1 - e / 2);
      }
    const labels = instancesFromProbabilities(f, b, W, H, {
      foregroundThreshold: 0.5,
      boundaryThreshold: 0.5,
      split: true,
    });
    expect(labels.count).toBe(4);
    expect(labels.data[30 * W + 30]).not.toBe(0); // hole filled
    expect(labels.data[Math.round(75.8) * W + 90]).toBe(0); // centre of the three-disc gap stays background
  });
});

describe('regions without a centre in the distance map', () => {
  // Three regions of foreground: a big disc whose distance map peaks at 0.9 (a particle), a big disc whose
  // distance stays at 0.2 (ground texture the model found no centre in), and a small disc (ECD about 7 px)
  // peaking at 0.3, as the model does on particles a few pixels across.
  const W = 120;
  const H = 60;
  const f = new Float32Array(W * H);
  const d = new Float32Array(W * H);
  const b = new Float32Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const r1 = Math.hypot(x - 20, y - 30);
      const r2 = Math.hypot(x - 60, y - 30);
      const r3 = Math.hypot(x - 100, y - 30);
      if (r1 <= 12) [f[i], d[i]] = [0.95, 0.9 * (1 - r1 / 12)];
      if (r2 <= 12) [f[i], d[i]] = [0.8, 0.2 * (1 - r2 / 12)];
      if (r3 <= 3.5) [f[i], d[i]] = [0.9, 0.3 * (1 - r3 / 3.5)];
    }
  const at = (l: { data: Int32Array | Uint32Array }, x: number, y: number): number => l.data[y * W + x];
  const base = { foregroundThreshold: 0.5, boundaryThreshold: 0.5, split: true, distance: d };

  it('keeps every region when no peak is asked for', () => {
    const l = instancesFromProbabilities(f, b, W, H, base);
    expect(l.count).toBe(3);
  });

  it('drops regions whose distance peak is below the threshold', () => {
    const l = instancesFromProbabilities(f, b, W, H, { ...base, minDistancePeak: 0.45 });
    expect(l.count).toBe(1);
    expect(at(l, 20, 30)).toBe(1);
    expect(at(l, 60, 30)).toBe(0);
    expect(at(l, 100, 30)).toBe(0);
  });

  it('asks less of particles narrower than distancePeakDiameterPx, measured at the inference scale', () => {
    // ECD about 7 px: needs 0.45 * 7 / 16 = 0.2 < 0.3, kept; the wide texture region still needs 0.45.
    const l = instancesFromProbabilities(f, b, W, H, {
      ...base,
      minDistancePeak: 0.45,
      distancePeakDiameterPx: 16,
    });
    expect(l.count).toBe(2);
    expect(at(l, 100, 30)).toBe(2);
    expect(at(l, 60, 30)).toBe(0);
    // Maps inferred at 2x: the small disc was 14 px wide for the model, so it needs 0.45 * 14 / 16 = 0.39.
    const l2 = instancesFromProbabilities(f, b, W, H, {
      ...base,
      minDistancePeak: 0.45,
      distancePeakDiameterPx: 16,
      inferenceScale: 2,
    });
    expect(l2.count).toBe(1);
  });

  it('a piece without a centre that borders a particle joins it; alone it is dropped', () => {
    // A disc with a centre, and beside it a rectangle the boundary ridge at x = 32 cuts off: a rim or corner
    // piece the model gives no centre of its own.
    const f2 = new Float32Array(W * H);
    const d2 = new Float32Array(W * H);
    const b2 = new Float32Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const r = Math.hypot(x - 20, y - 30);
        if (r <= 12) [f2[i], d2[i]] = [0.95, 0.9 * (1 - r / 12)];
        if (x >= 31 && x <= 40 && y >= 26 && y <= 34) [f2[i], d2[i]] = [0.9, 0.1];
        if (x === 32 && y >= 24 && y <= 36) b2[i] = 0.9;
      }
    const opts = { foregroundThreshold: 0.5, boundaryThreshold: 0.5, split: true, distance: d2 };
    const parts = instancesFromProbabilities(f2, b2, W, H, { ...opts, mergeThreshold: 0, fragmentShare: 2 });
    expect(parts.count).toBe(2);
    const joined = instancesFromProbabilities(f2, b2, W, H, {
      ...opts,
      mergeThreshold: 0,
      fragmentShare: 2,
      minDistancePeak: 0.45,
    });
    expect(joined.count).toBe(1);
    expect(joined.data[30 * W + 38]).toBe(1);
    const dropped = instancesFromProbabilities(f2, b2, W, H, {
      ...opts,
      mergeThreshold: 0,
      fragmentShare: 2,
      minDistancePeak: 0.45,
      absorbCentreless: false,
    });
    expect(dropped.count).toBe(1);
    expect(dropped.data[30 * W + 38]).toBe(0);
    expect(dropped.data[30 * W + 20]).toBe(1);
  });
});

describe('splitting by the distance map (distanceSplit)', () => {
  // Two discs of radius 10, centres 17 px apart, touching; the boundary map shows their outline but no contact
  // line, so the seeds run together. The distance map (0.4 at each centre) has a saddle of 0.06 between them:
  // 0.34 deep, less than the rod's dip below in absolute terms, but most of the centres' height.
  // A third, elongated particle (a rod whose ridge wavers) has two distance maxima of 1 and 0.9 with a saddle at
  // 0.75 between them: 0.15 deep, but only a sixth of the lower maximum.
  const W = 110;
  const H = 40;
  const f = new Float32Array(W * H);
  const d = new Float32Array(W * H);
  const b = new Float32Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const r1 = Math.hypot(x - 20, y - 20);
      const r2 = Math.hypot(x - 37, y - 20);
      const near = Math.min(r1, r2);
      if (near <= 10) {
        f[i] = 0.95;
        d[i] = 0.4 * Math.max(1 - r1 / 10, 1 - r2 / 10); // small particles: the model's centres stay low
        b[i] = near > 8.5 ? 0.9 : 0.1;
      }
      // capsule: x 70..90 along y = 20, radius 8; distance peaks 1 at x = 72, 0.9 at x = 88, saddle 0.75
      const cx = Math.min(90, Math.max(70, x));
      const r3 = Math.hypot(x - cx, y - 20);
      if (r3 <= 8) {
        f[i] = 0.95;
        const along = x < 80 ? 1 - Math.abs(x - 72) * (0.25 / 8) : 0.9 - Math.abs(x - 88) * (0.15 / 8);
        d[i] = along * (1 - r3 / 8);
        b[i] = r3 > 6.5 ? 0.9 : 0.1;
      }
    }
  const base = { foregroundThreshold: 0.5, boundaryThreshold: 0.5, split: true, distance: d };
  const at = (l: LabelImage, x: number, y: number): number => l.data[y * W + x];

  it('without it, touching particles whose contact the boundary map misses stay one', () => {
    const l = instancesFromProbabilities(f, b, W, H, base);
    expect(l.count).toBe(2);
    expect(at(l, 20, 20)).toBe(at(l, 37, 20));
  });

  it('splits them at the saddle of the distance map; a shallow dip inside one particle is kept whole', () => {
    const l = instancesFromProbabilities(f, b, W, H, { ...base, distanceSplit: 0.4 });
    expect(l.count).toBe(3);
    expect(at(l, 20, 20)).not.toBe(at(l, 37, 20));
    expect(at(l, 72, 20)).toBe(at(l, 88, 20));
    // the split runs between the centres, nearer neither
    expect(at(l, 24, 20)).toBe(at(l, 20, 20));
    expect(at(l, 33, 20)).toBe(at(l, 37, 20));
    // asking a saddle only a tenth below the lower centre splits the capsule too
    expect(instancesFromProbabilities(f, b, W, H, { ...base, distanceSplit: 0.1 }).count).toBe(4);
  });
});

describe('distance transform and watershed', () => {
  it('distance transform is exact Euclidean', () => {
    const w = 40;
    const h = 30;
    const m = new Uint8Array(w * h).fill(1);
    m[10 * w + 12] = 0;
    m[25 * w + 33] = 0;
    const d = distanceTransform(m, w, h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const e = Math.min(Math.hypot(x - 12, y - 10), Math.hypot(x - 33, y - 25));
        expect(d[y * w + x]).toBeCloseTo(e, 4);
      }
  });

  it('splits two overlapping discs into two and keeps a lone ellipse whole', () => {
    const w = 160;
    const h = 100;
    const m = new Uint8Array(w * h);
    drawDisc(m, w, 50, 50, 22);
    drawDisc(m, w, 82, 50, 22);
    // Ellipse with semi-axes 25 x 10 (a flat ridge that must not be over-split).
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) if (((x - 130) / 25) ** 2 + ((y - 20) / 10) ** 2 <= 1) m[y * w + x] = 1;
    const l = distanceWatershed(m, w, h);
    expect(l.count).toBe(3);
    const a = l.data[50 * w + 45];
    const b = l.data[50 * w + 88];
    expect(a).not.toBe(0);
    expect(b).not.toBe(0);
    expect(a).not.toBe(b);
    // The cut runs near x = 66, the middle of the overlap.
    expect(l.data[50 * w + 63]).toBe(a);
    expect(l.data[50 * w + 69]).toBe(b);
    // Every foreground pixel is labelled.
    for (let i = 0; i < w * h; i++) expect(l.data[i] !== 0).toBe(m[i] === 1);
  });

  it('floods each region on its own: the whole partition equals the regions flooded one at a time', () => {
    // A field of heights with many maxima (bumps, and a ripple that makes noise maxima) over a blob cut into
    // stripe regions: the split must find the same basins whether one call floods them all or each alone.
    const w = 120;
    const h = 90;
    const heights = new Float32Array(w * h);
    const mask = new Uint8Array(w * h);
    const regions = new Int32Array(w * h);
    const bumps = [
      [30, 30, 14],
      [52, 36, 12],
      [80, 40, 16],
      [40, 62, 13],
      [70, 66, 11],
      [95, 70, 9],
    ];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (const [cx, cy, r] of bumps) v = Math.max(v, 1 - Math.hypot(x - cx, y - cy) / (1.6 * r));
        const i = y * w + x;
        heights[i] = Math.max(0, v + 0.04 * Math.sin(x * 0.9) * Math.cos(y * 0.7));
        mask[i] = v > 0.05 ? 1 : 0;
        regions[i] = mask[i] ? 1 + Math.floor((x + 0.3 * y) / 23) : 0;
      }
    const opts = { regions, heights, levels: 256, hMin: 0.02, hRel: 0.1 };
    const all = distanceWatershed(mask, w, h, opts);
    // The same pixels, each region's basins flooded in a call of its own, numbered in raster order as one image.
    const alone = new Int32Array(w * h);
    let next = 0;
    const last = regions.reduce((a, v) => Math.max(a, v), 0);
    for (let r = 1; r <= last; r++) {
      const m = mask.map((v, i) => (v && regions[i] === r ? 1 : 0));
      const l = distanceWatershed(m, w, h, opts);
      for (let i = 0; i < w * h; i++) if (l.data[i]) alone[i] = next + l.data[i];
      next += l.count;
    }
    const renumbered = relabelSequential({ width: w, height: h, data: alone, count: next });
    expect(all.count).toBe(next);
    expect(all.count).toBeGreaterThan(8); // regions were split, so the comparison says something
    expect(Array.from(all.data)).toEqual(Array.from(renumbered.data));
  });
});

describe('threshold method', () => {
  function discScene(darkOnBright: boolean): { grey: GreyF32; n: number } {
    const w = 200;
    const h = 150;
    const data = new Float32Array(w * h).fill(darkOnBright ? 0.8 : 0.15);
    const centres: Array<[number, number, number]> = [
      [30, 30, 10],
      [80, 40, 14],
      [150, 30, 8],
      [40, 110, 12],
      [100, 100, 9],
      [160, 110, 15],
      // Two touching discs: split must give 2.
      [70, 75, 9],
      [88, 75, 9],
    ];
    for (const [cx, cy, r] of centres) drawDisc(data, w, cx, cy, r, darkOnBright ? 0.2 : 0.9);
    // Mild deterministic noise.
    let s = 12345;
    for (let i = 0; i < data.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      data[i] += (s / 2 ** 32 - 0.5) * 0.1;
    }
    return { grey: { width: w, height: h, data }, n: centres.length };
  }

  for (const dark of [true, false]) {
    it(`counts synthetic discs (${dark ? 'dark on bright' : 'bright on dark'}), polarity detected`, () => {
      const { grey, n } = discScene(dark);
      const r = thresholdSegment(grey, { threshold: null, darkParticles: null, split: true, speckPx: 5 });
      expect(r.darkParticles).toBe(dark);
      expect(r.labels.count).toBe(n);
      const unsplit = thresholdSegment(grey, {
        threshold: null,
        darkParticles: null,
        split: false,
        speckPx: 5,
      });
      expect(unsplit.labels.count).toBe(n - 1);
    });
  }

  it('Otsu separates a two-level image between the levels', () => {
    const d = new Float32Array(1000);
    for (let i = 0; i < 1000; i++) d[i] = i < 700 ? 0.2 : 0.7;
    const t = otsuThreshold(d);
    expect(t).toBeGreaterThan(0.2);
    expect(t).toBeLessThanOrEqual(0.7);
  });

  it('honours a user threshold and polarity, and never labels blocked rows', () => {
    const { grey } = discScene(true);
    const blocked = new Uint8Array(grey.width * grey.height);
    blocked.fill(1, 0, 50 * grey.width); // rows 0..49 excluded
    const r = thresholdSegment(grey, {
      threshold: 0.5,
      darkParticles: true,
      split: true,
      speckPx: 5,
      blocked,
    });
    expect(r.threshold).toBe(0.5);
    for (let i = 0; i < 50 * grey.width; i++) expect(r.labels.data[i]).toBe(0);
    // Discs centred at y >= 75 survive whole; the ones cut by the band are partial or gone.
    expect(r.labels.data[110 * grey.width + 40]).not.toBe(0);
  });
});

describe('model step with resampling to the trained size range', () => {
  const sidecar = (range?: [number, number]): ModelSidecar => ({
    name: 'fake',
    version: '0',
    sha256: '',
    file: 'fake.onnx',
    input: { name: 'image', multiple: 32, normalisation: { method: 'percentile', low: 1, high: 99 } },
    diameterRangePx: range,
    tile: { size: 256, overlap: 32 },
    outputs: [
      { name: 'fg', kind: 'foreground' },
      { name: 'bd', kind: 'boundary' },
    ],
    thresholds: { foreground: 0.5, boundary: 0.5 },
  });
  // Tiny dark particles (radius 2: about 13 px, ECD about 4 px) on a bright ground.
  const w = 200;
  const h = 120;
  const img = new Float32Array(w * h).fill(0.9);
  let n = 0;
  for (let y = 10; y < h - 5; y += 12)
    for (let x = 10; x < w - 5; x += 12) {
      drawDisc(img, w, x, y, 2, 0.1);
      n++;
    }
  // The model step with split on and no speck filter, on `data` (the small-particle image unless given).
  const segment = (sc: ModelSidecar, be: InferenceBackend, data = img, width = w, height = h) =>
    segmentWithModel(() => ({ width, height, data }), sc, be, { split: true, watershed: false, speckPx: 0 });
  let pixelsSeen = 0;
  const backend: InferenceBackend = {
    name: 'fake',
    async run(input) {
      pixelsSeen += input.length;
      const fg = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) fg[i] = input[i] < 0.5 ? 0.9 : 0.1;
      return { fg, bd: new Float32Array(input.length) };
    },
    async dispose() {},
  };

  it('runs once at native scale when the particles are inside the range (or no range is given)', async () => {
    for (const range of [undefined, [3, 50] as [number, number]]) {
      pixelsSeen = 0;
      const r = await segment(sidecar(range), backend);
      expect(r.scale).toBe(1);
      expect(r.labels.count).toBe(n);
      expect(r.warnings).toEqual([]);
      expect(pixelsSeen).toBeLessThan(2 * w * h);
    }
  });

  it('upsamples when the particles are smaller than the model was trained on, labels at input size', async () => {
    pixelsSeen = 0;
    const r = await segment(sidecar([8, 100]), backend);
    expect(r.scale).toBeGreaterThan(3);
    expect(r.labels.width).toBe(w);
    expect(r.labels.height).toBe(h);
    expect(r.labels.count).toBe(n);
    expect(r.warnings.join(' ')).toMatch(
      /about 4\.\d px across, outside the 8-100 px .* inference ran at 3\.\d\dx scale/,
    );
    expect(pixelsSeen).toBeGreaterThan(10 * w * h);
  });

  it('sizes the particles by the outline band a model draws, and upsamples to the sidecar target', async () => {
    // A fake model that marks a 2 px outline band inside what it sees as particles, at whatever scale it runs:
    // sure on the outer pixel, 0.35 on the inner one, as a soft band fades.
    const ring: InferenceBackend = {
      name: 'ring',
      async run(input, th, tw) {
        const fg = new Float32Array(input.length);
        const bd = new Float32Array(input.length);
        for (let i = 0; i < input.length; i++) fg[i] = input[i] < 0.5 ? 0.9 : 0.1;
        for (let y = 0; y < th; y++)
          for (let x = 0; x < tw; x++) {
            if (fg[y * tw + x] < 0.5) continue;
            let near = 9; // squared distance to the nearest ground pixel, up to 2 px away
            for (let dy = -2; dy <= 2; dy++)
              for (let dx = -2; dx <= 2; dx++) {
                const yy = y + dy;
                const xx = x + dx;
                if (yy >= 0 && yy < th && xx >= 0 && xx < tw && fg[yy * tw + xx] < 0.5)
                  near = Math.min(near, dx * dx + dy * dy);
              }
            bd[y * tw + x] = near <= 1 ? 0.9 : near <= 4 ? 0.35 : 0.1;
          }
        return { fg, bd };
      },
      async dispose() {},
    };
    const big = new Float32Array(w * h).fill(0.9);
    let count = 0;
    for (let y = 12; y < h - 8; y += 16)
      for (let x = 12; x < w - 8; x += 16) {
        drawDisc(big, w, x, y, 3.5, 0.1);
        count++;
      }
    // the band is read at its calibration's threshold, whatever the instance step's (seeds) is
    for (const boundary of [0.3, 0.4, 0.5]) {
      const base = sidecar([12, 100]);
      const sc = {
        ...base,
        thresholds: { ...base.thresholds, boundary },
        resampleTargetPx: 16,
        maxUpscale: 2,
      };
      const r = await segment(sc, ring, big);
      expect(r.scale).toBe(2);
      const m = /about (\d+\.\d) px across, outside the 12-100 px .* inference ran at 2\.00x scale/.exec(
        r.warnings.join(' '),
      );
      expect(m).not.toBeNull();
      // the band estimate of discs of radius 3.5 (about 7 px across)
      expect(Number(m![1])).toBeGreaterThan(5);
      expect(Number(m![1])).toBeLessThan(9);
      expect(r.labels.count).toBe(count);
    }
  });

  it('probes a crop at twice the scale when the first pass sees too little to size the particles', async () => {
    // A fake model that sees only dark blobs holding a 5 x 5 square (an opening), with a band 2 px inside their
    // outline: particles about 4 px across vanish at native scale and show at 2x.
    let seen = 0;
    const opening: InferenceBackend = {
      name: 'opening',
      async run(input, th, tw) {
        seen += input.length;
        const square = (src: (x: number, y: number) => boolean, every: boolean) => {
          const out = new Uint8Array(th * tw);
          for (let y = 0; y < th; y++)
            for (let x = 0; x < tw; x++) {
              let hit = every;
              for (let dy = -2; dy <= 2 && hit === every; dy++)
                for (let dx = -2; dx <= 2 && hit === every; dx++) hit = src(x + dx, y + dy);
              out[y * tw + x] = hit ? 1 : 0;
            }
          return out;
        };
        const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < tw && y < th;
        const core = square((x, y) => inside(x, y) && input[y * tw + x] < 0.5, true);
        const seenDark = square((x, y) => inside(x, y) && core[y * tw + x] === 1, false);
        const interior = square((x, y) => !inside(x, y) || seenDark[y * tw + x] === 1, true);
        const fg = new Float32Array(input.length);
        const bd = new Float32Array(input.length);
        for (let i = 0; i < fg.length; i++) {
          fg[i] = seenDark[i] ? 0.9 : 0.1;
          bd[i] = seenDark[i] && !interior[i] ? 0.9 : 0.1;
        }
        return { fg, bd };
      },
      async dispose() {},
    };
    const sc = sidecar([8, 100]);
    const r = await segment(sc, opening);
    expect(r.scale).toBe(4); // the sidecar's default cap
    expect(r.labels.count).toBe(n);
    expect(r.warnings.join(' ')).toMatch(/px across, outside the 8-100 px .* inference ran at 4\.00x scale/);
    // a row of particles the first pass sees, among many it does not: their band calls for about 2.8x, the
    // probe's (where the small ones show too) for the cap
    const mixed = new Float32Array(w * h).fill(0.9);
    const medium = [15, 39, 63, 87, 111, 135, 159, 183];
    let seenTiny = 0;
    for (let y = 10; y < h - 5; y += 12)
      for (let x = 10; x < w - 5; x += 12)
        if (!medium.some((mx) => Math.abs(x - mx) < 10 && Math.abs(y - 60) < 10)) {
          drawDisc(mixed, w, x, y, 2, 0.1);
          seenTiny++;
        }
    for (const mx of medium) drawDisc(mixed, w, mx, 60, 3.5, 0.1);
    const both = await segment(sc, opening, mixed);
    expect(both.scale).toBe(4);
    expect(both.labels.count).toBe(seenTiny + medium.length);
    expect(both.warnings.join(' ')).toMatch(/about [23]\.\d px across/);
    // particles only along the left edge of an image whose centre is bare ground: the probe looks where they
    // are (a centre crop read nothing, and none were found)
    const ow = 400;
    const oh = 300;
    const edge = new Float32Array(ow * oh).fill(0.9);
    let nEdge = 0;
    for (let y = 10; y < oh - 5; y += 12)
      for (let x = 10; x <= 58; x += 12) {
        drawDisc(edge, ow, x, y, 2, 0.1);
        nEdge++;
      }
    const offCentre = await segment(sc, opening, edge, ow, oh);
    expect(offCentre.scale).toBe(4);
    expect(offCentre.labels.count).toBe(nEdge);
    // a blank image: the probe finds nothing either, and the native scale stands
    seen = 0;
    const blank = await segment(sc, opening, new Float32Array(w * h).fill(0.9));
    expect(blank.scale).toBe(1);
    expect(blank.labels.count).toBe(0);
    expect(seen).toBeGreaterThan(4 * w * h); // the probe did run
    // particles the first pass finds at a size in range need no probe
    const big = new Float32Array(w * h).fill(0.9);
    let count = 0;
    for (let y = 20; y < h - 15; y += 30)
      for (let x = 20; x < w - 15; x += 30) {
        drawDisc(big, w, x, y, 9, 0.1);
        count++;
      }
    seen = 0;
    const fine = await segment(sc, opening, big);
    expect(fine.scale).toBe(1);
    expect(fine.labels.count).toBe(count);
    expect(seen).toBeLessThan(2 * w * h);
  });

  it('puts the probe window where the image varies most, off the banner, near the centre when it is even', () => {
    const W = 300;
    const H = 200;
    const g = { width: W, height: H, data: new Float32Array(W * H).fill(0.5) };
    // an even image: the window on the block grid nearest the centre (86, 36)
    expect(probeWindow(g, 128)).toEqual({ x: 96, y: 32, w: 128, h: 128 });
    // a smaller image than the window: all of it
    expect(probeWindow(g, 320)).toEqual({ x: 0, y: 0, w: 300, h: 200 });
    // specks in the bottom-right corner pull the window there (clamped to the image)
    for (let y = 150; y < 195; y += 6) for (let x = 250; x < 295; x += 6) drawDisc(g.data, W, x, y, 1.5, 0.1);
    expect(probeWindow(g, 128)).toEqual({ x: 172, y: 72, w: 128, h: 128 });
    // lettering in a banner across the top outweighs them, unless the banner is blocked
    const blocked = new Uint8Array(W * H);
    for (let y = 0; y < 40; y++)
      for (let x = 0; x < W; x++) {
        g.data[y * W + x] = (x >> 1) % 2 ? 1 : 0;
        blocked[y * W + x] = 1;
      }
    expect(probeWindow(g, 128).y).toBe(0);
    expect(probeWindow(g, 128, blocked)).toEqual({ x: 172, y: 72, w: 128, h: 128 });
  });

  it('asks for a probe unless the first pass found enough particles in range to vouch for their size', () => {
    const range: [number, number] = [12, 300];
    // nothing seen, or too little foreground for the band
    expect(needsProbe({ count: 0, median: NaN, areaMedian: NaN, bandDiameter: NaN }, range)).toBe(true);
    // texture read as a few small specks and one large clump, with a band that looks ordinary
    expect(needsProbe({ count: 22, median: 6.8, areaMedian: 137, bandDiameter: 12.2 }, range)).toBe(true);
    // called small by a band that texture widens: the probe may read them smaller still
    expect(needsProbe({ count: 41, median: 7.3, areaMedian: 174, bandDiameter: 11.7 }, range)).toBe(true);
    // enough particles in range
    expect(needsProbe({ count: 13, median: 24.7, areaMedian: 26, bandDiameter: 16.5 }, range)).toBe(false);
    expect(needsProbe({ count: 5, median: 40, areaMedian: 45, bandDiameter: NaN }, range)).toBe(false);
    // too few to vouch for anything
    expect(needsProbe({ count: 4, median: 40, areaMedian: 45, bandDiameter: 30 }, range)).toBe(true);
  });

  it('one sidecar check for the app and the CLI names what is wrong', () => {
    expect(sidecarProblem(sidecar([12, 300]))).toBeNull();
    expect(sidecarProblem(null)).toBe('not an object');
    const { tile: _tile, version: _version, ...partial } = sidecar();
    expect(sidecarProblem(partial)).toBe('missing version, tile');
    const bad = (change: (s: ModelSidecar) => void) => {
      const s = sidecar([12, 300]);
      change(s);
      return sidecarProblem(s);
    };
    expect(bad((s) => (s.outputs = [{ name: 'b', kind: 'boundary' }]))).toBe('declares no foreground output');
    expect(bad((s) => (s.diameterRangePx = [30, 10]))).toMatch(/diameterRangePx must be/);
    expect(bad((s) => (s.resampleTargetPx = 0))).toBe('resampleTargetPx must be > 0');
    expect(bad((s) => (s.maxUpscale = 0.5))).toBe('maxUpscale must be >= 1');
    expect(bad((s) => (s.thresholds.distancePeakUpsampled = 3))).toBe(
      'thresholds.distancePeakUpsampled must be between 0 and 1',
    );
    expect(bad((s) => (s.thresholds.distanceSplit = -0.1))).toBe(
      'thresholds.distanceSplit must be between 0 and 1',
    );
    expect(bad((s) => (s.thresholds.distanceSplitUpsampled = 2))).toBe(
      'thresholds.distanceSplitUpsampled must be between 0 and 1',
    );
    expect(bad((s) => (s.thresholds.mergeUpsampled = 1.5))).toBe(
      'thresholds.mergeUpsampled must be between 0 and 1',
    );
  });

  it('asks distancePeakUpsampled of the particles found in the upsampled pass', async () => {
    const sc = sidecar([8, 100]);
    sc.outputs.push({ name: 'dist', kind: 'distance' });
    sc.thresholds.distancePeak = 0.5;
    // Clear centres at native scale (the first call: the image fits one tile), faint ones once upsampled.
    let calls = 0;
    const faintWhenUpsampled: InferenceBackend = {
      ...backend,
      async run(input, th, tw) {
        const out = await backend.run(input, th, tw);
        const peak = calls++ === 0 ? 0.9 : 0.4;
        const dist = new Float32Array(input.length);
        for (let i = 0; i < input.length; i++) dist[i] = out.fg[i] > 0.5 ? peak : 0;
        return { ...out, dist };
      },
    };
    const run = () => segment(sc, faintWhenUpsampled);
    const strict = await run();
    expect(strict.scale).toBeGreaterThan(3);
    expect(strict.labels.count).toBe(0);
    calls = 0;
    sc.thresholds.distancePeakUpsampled = 0.3;
    const lenient = await run();
    expect(lenient.scale).toBeGreaterThan(3);
    expect(lenient.labels.count).toBe(n);
  });

  // Pairs of touching dark squares (5 x 12 px) whose contact is a grey line 2 px wide, on a bright ground.
  const pw = 160;
  const ph = 96;
  const pairs = new Float32Array(pw * ph).fill(0.9);
  let nPairs = 0;
  for (let y = 8; y + 6 < ph; y += 16)
    for (let x = 8; x + 12 < pw; x += 20) {
      for (let dy = 0; dy < 5; dy++) for (let dx = 0; dx < 12; dx++) pairs[(y + dy) * pw + x + dx] = 0.1;
      for (let dy = 0; dy < 5; dy++) pairs[(y + dy) * pw + x + 5] = pairs[(y + dy) * pw + x + 6] = 0.35;
      nPairs++;
    }

  it('keeps touching pairs apart in the upsampled pass only under mergeUpsampled', async () => {
    // Pairs of touching squares whose contact is a grey line 2 px wide; a fake model draws a 0.6 boundary band
    // along the outlines and wherever it sees that grey (at any scale). The maps' resampling back to the image
    // smooths the contact ridge below the weak-ridge merge threshold ((1 + 0.3) / 2), so the merge joins each
    // pair again unless mergeUpsampled says otherwise.
    const ridge: InferenceBackend = {
      name: 'ridge',
      async run(input, th, tw) {
        const fg = new Float32Array(input.length);
        const bd = new Float32Array(input.length);
        const dark = (x: number, y: number) =>
          x >= 0 && y >= 0 && x < tw && y < th && input[y * tw + x] < 0.5;
        for (let y = 0; y < th; y++)
          for (let x = 0; x < tw; x++) {
            const i = y * tw + x;
            if (!dark(x, y)) continue;
            fg[i] = 0.9;
            const outline = !dark(x - 1, y) || !dark(x + 1, y) || !dark(x, y - 1) || !dark(x, y + 1);
            bd[i] = outline || input[i] > 0.25 ? 0.6 : 0;
          }
        return { fg, bd };
      },
      async dispose() {},
    };
    // The band says the pairs are about 11 px across: under the 16 px the sidecar asks for, so upsampled.
    const sc = sidecar([16, 100]);
    sc.thresholds.boundary = 0.3;
    sc.thresholds.fragmentShare = 2; // as shipped: only the weak-ridge merge
    const run = () => segment(sc, ridge, pairs, pw, ph);
    const merged = await run();
    expect(merged.scale).toBeGreaterThan(1);
    expect(merged.labels.count).toBe(nPairs);
    sc.thresholds.mergeUpsampled = 0;
    const apart = await run();
    expect(apart.scale).toBe(merged.scale);
    expect(apart.labels.count).toBe(2 * nPairs);
  });

  it('splits by the distance saddle in the upsampled pass at distanceSplitUpsampled', async () => {
    // Pairs of touching squares joined by a grey contact line; a fake model sees both as foreground with no
    // boundary, and a distance map that dips to DIP on the grey: a saddle shallower than the split of 0.4.
    const DIP = 0.7;
    const dipping: InferenceBackend = {
      name: 'dipping',
      async run(input) {
        const fg = new Float32Array(input.length);
        const dist = new Float32Array(input.length);
        for (let i = 0; i < input.length; i++)
          if (input[i] < 0.5) {
            fg[i] = 0.9;
            dist[i] = input[i] > 0.25 ? DIP : 1;
          }
        return { fg, bd: new Float32Array(input.length), dist };
      },
      async dispose() {},
    };
    const sc = sidecar([16, 100]);
    sc.outputs.push({ name: 'dist', kind: 'distance' });
    sc.thresholds.distanceSplit = 0.4;
    sc.thresholds.fragmentShare = 2;
    sc.thresholds.merge = 0;
    const run = () => segment(sc, dipping, pairs, pw, ph);
    const native = await run();
    expect(native.scale).toBeGreaterThan(1);
    expect(native.labels.count).toBe(nPairs);
    sc.thresholds.distanceSplitUpsampled = 0.2;
    const split = await run();
    expect(split.scale).toBe(native.scale);
    expect(split.labels.count).toBe(2 * nPairs);
    // a pass at native scale keeps distanceSplit
    const inRange = { ...sc, diameterRangePx: [2, 100] as [number, number] };
    const kept = await segment(inRange, dipping, pairs, pw, ph);
    expect(kept.scale).toBe(1);
    expect(kept.labels.count).toBe(nPairs);
  });

  it('reads the distance output and drops centreless regions when the sidecar sets distancePeak', async () => {
    const sc = sidecar();
    sc.outputs.push({ name: 'dist', kind: 'distance' });
    sc.thresholds.distancePeak = 0.5;
    // Every particle gets a centre, except those in the right half.
    const withDist: InferenceBackend = {
      ...backend,
      async run(input, th, tw) {
        const out = await backend.run(input, th, tw);
        const dist = new Float32Array(input.length);
        for (let i = 0; i < input.length; i++) dist[i] = out.fg[i] > 0.5 && i % tw < w / 2 ? 0.9 : 0.1;
        return { ...out, dist };
      },
    };
    const r = await segment(sc, withDist);
    let left = 0;
    for (let y = 10; y < h - 5; y += 12) for (let x = 10; x < w - 5; x += 12) if (x < w / 2) left++;
    expect(r.labels.count).toBe(left);
    expect(r.warnings).toEqual([]);
    delete sc.thresholds.distancePeak;
    const all = await segment(sc, withDist);
    expect(all.labels.count).toBe(n);
  });

  // Size evidence from labels alone (a model without a boundary output, or a band that says nothing).
  const fromLabels = (l: LabelImage) => ({ ...particleSizes(l), bandDiameter: NaN });
  const median = (l: LabelImage) => particleSizes(l).median;

  it('particleSizes and chooseScale from the labels', () => {
    const l = distanceWatershed(
      (() => {
        const m = new Uint8Array(100 * 100);
        for (let k = 0; k < 6; k++) drawDisc(m, 100, 10 + k * 15, 50, 5);
        return m;
      })(),
      100,
      100,
    );
    expect(particleSizes(l).count).toBe(6);
    expect(median(l)).toBeCloseTo(2 * Math.sqrt(81 / Math.PI), 5);
    const ev = fromLabels(l);
    expect(chooseScale(ev, [4, 50], 1e4)).toBe(1);
    expect(chooseScale(ev, [40, 200], 1e4)).toBe(4); // capped
    expect(chooseScale(ev, [2, 6], 1e4)).toBeCloseTo(4 / median(l), 5);
    // a sidecar target for small particles replaces twice the lower bound, and the upscale cap applies
    const d = median(l);
    expect(chooseScale(ev, [12, 300], 1e4, 18)).toBeCloseTo(18 / d, 5);
    expect(chooseScale(ev, [12, 300], 1e4, 40, 3)).toBe(3);
    // a target below the lower bound would leave the particles out of range: the bound wins
    expect(chooseScale(ev, [12, 300], 1e4, 6)).toBeCloseTo(12 / d, 5);
    // too many pixels: upsampling is limited by the memory cap, not the target
    expect(chooseScale(ev, [12, 300], 40e6, 18)).toBeCloseTo(Math.sqrt(64e6 / 40e6), 5);
  });

  it('does not upsample for specks beside a large particle that holds most of the area', () => {
    const m = new Uint8Array(200 * 100);
    drawDisc(m, 200, 60, 50, 30);
    for (let k = 0; k < 7; k++) drawDisc(m, 200, 110 + k * 12, 50, 2);
    const l = distanceWatershed(m, 200, 100);
    expect(l.count).toBe(8);
    expect(particleSizes(l).median).toBeLessThan(6);
    expect(particleSizes(l).areaMedian).toBeGreaterThan(55);
    expect(chooseScale(fromLabels(l), [12, 300], 2e4, 12, 3)).toBe(1);
    // the same specks alone are small particles: upsampled to the target, within the cap
    const specks = new Uint8Array(200 * 100);
    for (let k = 0; k < 7; k++) drawDisc(specks, 200, 110 + k * 12, 50, 2);
    const s = distanceWatershed(specks, 200, 100);
    expect(chooseScale(fromLabels(s), [12, 300], 2e4, 12, 3)).toBeCloseTo(Math.min(3, 12 / median(s)), 5);
  });

  it('reads the particle diameter from the outline band of the maps', () => {
    // Discs of radius 10 whose outline band reaches 2 px inside: the interior is a disc of radius 8.
    const w = 200;
    const fg = new Float32Array(w * w);
    const bnd = new Float32Array(w * w);
    const inner = new Float32Array(w * w);
    for (let y = 20; y < w; y += 40)
      for (let x = 20; x < w; x += 40) {
        drawDisc(fg, w, x, y, 10, 1);
        drawDisc(inner, w, x, y, 8, 1);
      }
    for (let i = 0; i < fg.length; i++) bnd[i] = fg[i] > 0 && inner[i] === 0 ? 0.9 : 0.1;
    const d = bandDiameter(fg, bnd, 0.5, 0.3, 100);
    expect(Math.abs(d - 20)).toBeLessThan(2); // within 10 % on 20 px pixelised discs
    // a band 2 px inside particles of twice the size reads twice the diameter
    const fg2 = new Float32Array(w * w);
    const in2 = new Float32Array(w * w);
    drawDisc(fg2, w, 100, 100, 20, 1);
    drawDisc(in2, w, 100, 100, 18, 1);
    const b2 = fg2.map((v, i) => (v > 0 && in2[i] === 0 ? 0.9 : 0.1));
    expect(Math.abs(bandDiameter(fg2, b2, 0.5, 0.3, 100) - 40)).toBeLessThan(4);
    // too little foreground to judge, or a band that marks none of it: no estimate
    expect(bandDiameter(fg, bnd, 0.5, 0.3, 1e5)).toBeNaN();
    expect(bandDiameter(fg, new Float32Array(w * w), 0.5, 0.3, 100)).toBeNaN();
  });

  it('judges small particles by the band when there is one: clumps of tiny particles are upsampled', () => {
    // The instance step found 3 large clumps (too few, and too large, to call the particles small) ...
    const clumps = { count: 3, median: 40, areaMedian: 45 };
    expect(chooseScale({ ...clumps, bandDiameter: NaN }, [12, 300], 1e4, 16, 2)).toBe(1);
    // ... but the band covers almost all of the foreground: particles of about 6 px, brought towards 16 px
    expect(chooseScale({ ...clumps, bandDiameter: 6 }, [12, 300], 1e4, 16, 2)).toBe(2);
    expect(chooseScale({ ...clumps, bandDiameter: 10 }, [12, 300], 1e4, 16, 2)).toBeCloseTo(1.6, 5);
    // a band of ordinary particles keeps the native scale even when many small specks were found
    expect(
      chooseScale({ count: 50, median: 5, areaMedian: 5, bandDiameter: 20 }, [12, 300], 1e4, 16, 2),
    ).toBe(1);
    // many instances well inside the range overrule a band that textured particles widen
    const textured = { count: 100, median: 27.7, areaMedian: 29, bandDiameter: 9.2 };
    expect(chooseScale(textured, [12, 300], 1e4, 16, 2)).toBe(1);
    expect(chooseScale({ ...textured, count: 4 }, [12, 300], 1e4, 16, 2)).toBeCloseTo(16 / 9.2, 5);
    expect(chooseScale({ ...textured, median: 17 }, [12, 300], 1e4, 16, 2)).toBeCloseTo(16 / 9.2, 5);
    // large particles are still judged by the instances
    expect(
      chooseScale({ count: 6, median: 600, areaMedian: 650, bandDiameter: 150 }, [12, 300], 1e6),
    ).toBeCloseTo(200 / 600, 5);
  });
});
