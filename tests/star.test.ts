import { describe, expect, it } from 'vitest';
import type { GreyF32, LabelImage } from '../src/core/raster';
import { sidecarProblem, type InferenceBackend, type ModelSidecar } from '../src/core/segment/model';
import {
  decodeStarPolygons,
  gridCentre,
  rayDirections,
  type StarRays,
} from '../src/core/segment/star-decode';
import { segmentStar } from '../src/core/segment/star-segment';
import { reflectIndex, runTiled } from '../src/core/segment/tiles';

interface Disc {
  cx: number;
  cy: number;
  r: number;
}

/** Labels 1..n of discs in pixel-index coordinates (pixel (x, y) is in when its index point is). */
function discLabels(w: number, h: number, discs: Disc[]): LabelImage {
  const data = new Int32Array(w * h);
  discs.forEach((d, k) => {
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) if ((x - d.cx) ** 2 + (y - d.cy) ** 2 <= d.r * d.r) data[y * w + x] = k + 1;
  });
  return { width: w, height: h, data, count: discs.length };
}

/**
 * What a perfect star model predicts for `discs`: the object probability (1 at a disc's centre, 0 at its
 * edge) and, at every grid point, the distance along each ray to the first pixel of another label, less half
 * a pixel (the training targets' rule in models/train/star.py).
 */
function oracle(
  truth: LabelImage,
  discs: Disc[],
  n: number,
  grid: number,
): { prob: GreyF32; rays: StarRays } {
  const { width: w, height: h, data } = truth;
  const prob = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const l = data[y * w + x];
      if (!l) continue;
      const d = discs[l - 1];
      prob[y * w + x] = 1 - Math.hypot(x - d.cx, y - d.cy) / (d.r + 1);
    }
  const gw = Math.ceil(w / grid);
  const gh = Math.ceil(h / grid);
  const r = new Float32Array(n * gw * gh);
  const { dy, dx } = rayDirections(n);
  for (let gy = 0; gy < gh; gy++)
    for (let gx = 0; gx < gw; gx++) {
      const cy = gridCentre(gy, grid, h);
      const cx = gridCentre(gx, grid, w);
      const l = data[cy * w + cx];
      if (!l) continue;
      for (let k = 0; k < n; k++) {
        let t = 0;
        for (;;) {
          t += 0.25;
          const y = Math.round(cy + t * dy[k]);
          const x = Math.round(cx + t * dx[k]);
          if (y < 0 || x < 0 || y >= h || x >= w || data[y * w + x] !== l) break;
        }
        r[(k * gh + gy) * gw + gx] = t - 0.5;
      }
    }
  return {
    prob: { width: w, height: h, data: prob },
    rays: { data: r, count: n, grid, gridWidth: gw, gridHeight: gh },
  };
}

/** Best IoU of truth label t against any found label, for every truth label. */
function bestIoUs(truth: LabelImage, found: LabelImage): number[] {
  const inter = new Map<string, number>();
  const at = new Int32Array(truth.count + 1);
  const af = new Int32Array(found.count + 1);
  for (let i = 0; i < truth.data.length; i++) {
    const a = truth.data[i];
    const b = found.data[i];
    at[a]++;
    af[b]++;
    if (a && b) inter.set(`${a},${b}`, (inter.get(`${a},${b}`) ?? 0) + 1);
  }
  const best = new Array<number>(truth.count).fill(0);
  for (const [k, v] of inter) {
    const [a, b] = k.split(',').map(Number);
    best[a - 1] = Math.max(best[a - 1], v / (at[a] + af[b] - v));
  }
  return best;
}

const touching: Disc[] = [
  { cx: 20, cy: 20, r: 9 },
  { cx: 38, cy: 20, r: 9 }, // touches the first along x = 29
  { cx: 29, cy: 36, r: 8 }, // touches both
  { cx: 70, cy: 30, r: 12 },
  { cx: 62, cy: 60, r: 6 },
];

describe('star-convex decoding', () => {
  it('finds each of five discs once, three of them touching, from a perfect prediction', () => {
    const truth = discLabels(90, 75, touching);
    const { prob, rays } = oracle(truth, touching, 32, 2);
    const found = decodeStarPolygons(prob, rays, { probThreshold: 0.5, overlap: 0.3, minAreaPx: 8 });
    expect(found.count).toBe(5);
    for (const iou of bestIoUs(truth, found)) expect(iou).toBeGreaterThan(0.85);
  });

  it('draws polygons decoded at twice the scale back at the image size', () => {
    const big = touching.map((d) => ({ cx: 2 * d.cx + 0.5, cy: 2 * d.cy + 0.5, r: 2 * d.r }));
    const { prob, rays } = oracle(discLabels(180, 150, big), big, 32, 2);
    const found = decodeStarPolygons(
      prob,
      rays,
      { probThreshold: 0.5, overlap: 0.3, minAreaPx: 8 },
      {
        width: 90,
        height: 75,
      },
    );
    expect(found.count).toBe(5);
    for (const iou of bestIoUs(discLabels(90, 75, touching), found)) expect(iou).toBeGreaterThan(0.85);
  });

  it('keeps no polygon whose own point lies in a blocked band, and claims no blocked pixel', () => {
    const truth = discLabels(90, 75, touching);
    const { prob, rays } = oracle(truth, touching, 32, 2);
    const blocked = new Uint8Array(90 * 75);
    blocked.fill(1, 50 * 90); // rows 50.. : the small disc at (62, 60) and the lower edge of nothing else
    const found = decodeStarPolygons(prob, rays, { probThreshold: 0.5, overlap: 0.3, minAreaPx: 8, blocked });
    expect(found.count).toBe(4);
    for (let i = 50 * 90; i < found.data.length; i++) expect(found.data[i]).toBe(0);
  });

  it('drops polygons under the minimum area and candidates at or below the probability threshold', () => {
    const truth = discLabels(90, 75, touching);
    const { prob, rays } = oracle(truth, touching, 32, 2);
    // r 6 covers ~113 px; the others 200+
    expect(decodeStarPolygons(prob, rays, { probThreshold: 0.5, overlap: 0.3, minAreaPx: 150 }).count).toBe(
      4,
    );
    expect(decodeStarPolygons(prob, rays, { probThreshold: 1, overlap: 0.3, minAreaPx: 8 }).count).toBe(0);
  });

  it('refuses rays of the wrong size', () => {
    const truth = discLabels(20, 20, [{ cx: 10, cy: 10, r: 5 }]);
    const { prob, rays } = oracle(truth, [{ cx: 10, cy: 10, r: 5 }], 8, 2);
    expect(() =>
      decodeStarPolygons(prob, { ...rays, gridWidth: 9 }, { probThreshold: 0.5, overlap: 0.3, minAreaPx: 1 }),
    ).toThrow(/rays hold/);
  });
});

describe('tiled inference of a coarse, multi-channel output', () => {
  for (const [w, h] of [
    [150, 97],
    [64, 64],
    [301, 45],
  ]) {
    it(`stitches a 3-channel grid-2 output of ${w}x${h} exactly`, async () => {
      // The input encodes each pixel's position, so a backend that returns, per grid point, the input at the
      // point's pixel plus a channel offset must come out as the position of that point's pixel everywhere.
      const data = new Float32Array(w * h);
      for (let i = 0; i < data.length; i++) data[i] = i;
      const backend: InferenceBackend = {
        name: 'grid',
        async run(input, th, tw) {
          const gw = tw / 2;
          const gh = th / 2;
          const o = new Float32Array(3 * gw * gh);
          for (let c = 0; c < 3; c++)
            for (let q = 0; q < gh; q++)
              for (let p = 0; p < gw; p++)
                o[(c * gh + q) * gw + p] = input[(2 * q + 1) * tw + 2 * p + 1] + c * 1e5;
          const full = new Float32Array(th * tw).fill(0.5);
          return { rays: o, prob: full };
        },
        async dispose() {},
      };
      const out = await runTiled(
        backend,
        { width: w, height: h, data },
        {
          tileSize: 48,
          overlap: 12,
          multiple: 8,
          shapes: { rays: { grid: 2, channels: 3 } },
        },
      );
      const gw = Math.ceil(w / 2);
      const gh = Math.ceil(h / 2);
      expect(out.rays.length).toBe(3 * gw * gh);
      expect(out.prob.length).toBe(w * h);
      let maxErr = 0;
      for (let c = 0; c < 3; c++)
        for (let gy = 0; gy < gh; gy++)
          for (let gx = 0; gx < gw; gx++) {
            const want = reflectIndex(2 * gy + 1, h) * w + reflectIndex(2 * gx + 1, w) + c * 1e5;
            maxErr = Math.max(maxErr, Math.abs(out.rays[(c * gh + gy) * gw + gx] - want) / want);
          }
      expect(maxErr).toBeLessThan(1e-6);
      for (const v of out.prob) expect(v).toBeCloseTo(0.5, 6);
    });
  }

  it('refuses a grid that does not divide the input multiple', async () => {
    const be: InferenceBackend = { name: 'x', run: async () => ({}), dispose: async () => {} };
    await expect(
      runTiled(
        be,
        { width: 8, height: 8, data: new Float32Array(64) },
        {
          tileSize: 8,
          overlap: 0,
          multiple: 4,
          shapes: { rays: { grid: 3, channels: 4 } },
        },
      ),
    ).rejects.toThrow(/does not divide/);
  });
});

function starSidecar(over: Partial<ModelSidecar> = {}): ModelSidecar {
  return {
    name: 'star-test',
    version: '0',
    sha256: '',
    file: 'x.onnx',
    input: { name: 'image', multiple: 8, normalisation: { method: 'percentile', low: 1, high: 99 } },
    tile: { size: 64, overlap: 16 },
    outputs: [
      { name: 'prob', kind: 'distance' },
      { name: 'rays', kind: 'rays', channels: 16, grid: 2 },
      { name: 'fg', kind: 'foreground' },
    ],
    thresholds: { foreground: 0.5, starProbability: 0.5, starOverlap: 0.3 },
    ...over,
  };
}

/**
 * A star "model" that sees bright discs on a dark ground: it finds each disc in the tile it is given (its bright
 * component's centroid and, from its area, its radius, so it answers at whatever scale it runs) and predicts
 * what a perfect model would, so that segmentStar's tiling, decoding and resampling are what is under test.
 */
function discOracleBackend(calls: Array<[number, number]>): InferenceBackend {
  return {
    name: 'oracle',
    async run(input, th, tw) {
      calls.push([th, tw]);
      const discs: Disc[] = [];
      const seen = new Uint8Array(th * tw);
      for (let i = 0; i < th * tw; i++) {
        if (input[i] < 0.5 || seen[i]) continue;
        const stack = [i];
        seen[i] = 1;
        let sx = 0;
        let sy = 0;
        let m = 0;
        while (stack.length) {
          const j = stack.pop() as number;
          const jy = (j / tw) | 0;
          const jx = j - jy * tw;
          sx += jx;
          sy += jy;
          m++;
          const next = [jx > 0 ? j - 1 : -1, jx < tw - 1 ? j + 1 : -1, j - tw, j + tw];
          for (const k of next)
            if (k >= 0 && k < th * tw && !seen[k] && input[k] >= 0.5) {
              seen[k] = 1;
              stack.push(k);
            }
        }
        discs.push({ cx: sx / m, cy: sy / m, r: Math.sqrt(m / Math.PI) });
      }
      const { prob, rays } = oracle(discLabels(tw, th, discs), discs, 16, 2);
      return { prob: prob.data, rays: rays.data, fg: prob.data };
    },
    async dispose() {},
  };
}

describe('segmentStar', () => {
  const opts = { split: true, watershed: false, speckPx: 4 };
  const discs: Disc[] = [];
  for (let y = 12; y < 100; y += 25) for (let x = 12; x < 130; x += 25) discs.push({ cx: x, cy: y, r: 7 });
  const truth = discLabels(140, 105, discs);
  const image = (): GreyF32 => ({
    width: 140,
    height: 105,
    data: Float32Array.from(truth.data, (v) => (v ? 1 : 0)),
  });

  it('segments discs in tiles at native scale when they are in the model’s range', async () => {
    const calls: Array<[number, number]> = [];
    const r = await segmentStar(
      image,
      starSidecar({ diameterRangePx: [8, 60] }),
      discOracleBackend(calls),
      opts,
    );
    expect(r.scale).toBe(1);
    expect(calls.length).toBe(6); // 140x105 in tiles of at most 64 px with 16 px overlap: 3 x 2
    expect(r.labels.count).toBe(discs.length);
    for (const iou of bestIoUs(truth, r.labels)) expect(iou).toBeGreaterThan(0.8);
    expect(r.warnings).toEqual([]);
    expect(r.decision).toBe(`native scale: ${discs.length} particles, median 13.2 px, within 8-60 px`);
  });

  it('resamples once when the particles are below the range, and draws them back at the image size', async () => {
    const calls: Array<[number, number]> = [];
    // tiles overlap by more than a particle, as a real sidecar's do: the oracle sees a disc cut by a tile edge
    // as a smaller one
    const sidecar = starSidecar({
      diameterRangePx: [24, 80],
      resampleTargetPx: 30,
      maxUpscale: 4,
      tile: { size: 96, overlap: 40 },
    });
    const r = await segmentStar(image, sidecar, discOracleBackend(calls), opts);
    expect(calls.length).toBeGreaterThan(6);
    expect(r.scale).toBeGreaterThan(1.8);
    expect(r.scale).toBeLessThan(2.4);
    expect(r.warnings.join(' ')).toMatch(/inference ran at 2\.\d\dx scale/);
    expect(r.decision).toMatch(/^2\.\d\dx scale: first-pass median 13\.2 px, outside 24-80 px$/);
    expect(r.labels.width).toBe(140);
    expect(r.labels.count).toBe(discs.length);
    for (const iou of bestIoUs(truth, r.labels)) expect(iou).toBeGreaterThan(0.8);
  });

  it('says that split and watershed do not apply', async () => {
    const r = await segmentStar(image, starSidecar(), discOracleBackend([]), { ...opts, split: false });
    expect(r.warnings.join(' ')).toMatch(/by construction/);
  });
});

describe('rays sidecar', () => {
  it('is accepted when complete', () => expect(sidecarProblem(starSidecar())).toBeNull());
  it('names what is missing', () => {
    const noProb = starSidecar({
      outputs: [
        { name: 'rays', kind: 'rays', channels: 16, grid: 2 },
        { name: 'f', kind: 'foreground' },
      ],
    });
    expect(sidecarProblem(noProb)).toMatch(/distance output/);
    const badGrid = starSidecar();
    badGrid.outputs[1].grid = 3;
    expect(sidecarProblem(badGrid)).toMatch(/grid/);
    const noChannels = starSidecar();
    delete noChannels.outputs[1].channels;
    expect(sidecarProblem(noChannels)).toMatch(/channels/);
    const noThreshold = starSidecar({ thresholds: { foreground: 0.5, starOverlap: 0.3 } });
    expect(sidecarProblem(noThreshold)).toMatch(/starProbability/);
  });
});
