import { describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import {
  analyzeImage,
  finishImage,
  prepareImage,
  prepareSpecOf,
  preparedBuffers,
  remeasure,
} from '../src/core/pipeline';
import { DEFAULT_OPTIONS, type AnalysisOptions } from '../src/core/types';
import type { InferenceBackend, LoadedModel, ModelSidecar } from '../src/core/segment/model';
import { FAKE_SIDECAR } from './helpers/fake-model';

/**
 * 320x240 8-bit grey scene, dark discs on a bright ground (bright-field TEM look), with mild deterministic
 * noise. Radii and centres are known; two discs touch so splitting is exercised.
 */
const DISCS: Array<[number, number, number]> = [
  [40, 40, 12],
  [110, 50, 16],
  [200, 40, 10],
  [270, 60, 14],
  [60, 150, 11],
  [150, 160, 13],
  [168, 160, 9],
  [250, 170, 15],
  [90, 210, 8],
];
const W = 320;
const H = 240;

function scene(dark = true): Uint8Array {
  const px = new Uint8Array(W * H);
  let s = 7;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let inside = false;
      for (const [cx, cy, r] of DISCS) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) inside = true;
      s = (s * 1103515245 + 12345) >>> 0;
      const noise = ((s >>> 8) % 21) - 10;
      const base = inside === dark ? 60 : 200;
      px[y * W + x] = base + noise;
    }
  return px;
}

function pngBytes(px: Uint8Array): Uint8Array {
  return encodePng({ width: W, height: H, data: px, depth: 8, channels: 1 });
}

const thresholdOptions: AnalysisOptions = { ...DEFAULT_OPTIONS, method: 'threshold', banner: 'off' };

describe('pipeline, threshold method', () => {
  it('finds every disc in an encoded PNG, measures them, reports stages', async () => {
    const stages: string[] = [];
    const a = await analyzeImage({ name: 'discs.png', bytes: pngBytes(scene()) }, thresholdOptions, null, {
      onProgress: (s) => {
        if (stages[stages.length - 1] !== s) stages.push(s);
      },
    });
    expect(a.width).toBe(W);
    expect(a.height).toBe(H);
    expect(a.method).toBe('threshold');
    expect(a.labels.data.length).toBe(W * H);
    const inc = a.particles.filter((p) => p.excluded === null);
    expect(inc.length).toBe(DISCS.length);
    // Each lone disc's particle: centroid within 1 px, area within 6 % of pi r^2. The overlapping pair shares
    // its lens, so each half is checked loosely (centroid within 2 px) and both together against the union.
    const pair = [5, 6];
    for (const [k, [cx, cy, r]] of DISCS.entries()) {
      const id = a.labels.data[cy * W + cx];
      const p = a.particles.find((q) => q.id === id)!;
      expect(Math.hypot(p.x - (cx + 0.5), p.y - (cy + 0.5))).toBeLessThan(pair.includes(k) ? 2 : 1);
      if (!pair.includes(k))
        expect(Math.abs(p.area - Math.PI * r * r) / (Math.PI * r * r)).toBeLessThan(0.06);
    }
    let union = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        if (pair.some((k) => (x - DISCS[k][0]) ** 2 + (y - DISCS[k][1]) ** 2 <= DISCS[k][2] ** 2)) union++;
    const ids = pair.map((k) => a.labels.data[DISCS[k][1] * W + DISCS[k][0]]);
    expect(ids[0]).not.toBe(ids[1]);
    const pairArea = a.particles.filter((p) => ids.includes(p.id)).reduce((s, p) => s + p.area, 0);
    expect(Math.abs(pairArea - union) / union).toBeLessThan(0.06);
    expect(a.calibration.unit).toBe('px');
    expect(a.calibration.source).toBe('none');
    expect(a.seconds).toBeGreaterThan(0);
    expect(stages).toEqual(['decode', 'calibrate', 'normalise', 'segment', 'measure', 'done']);
    expect(a.trace).toHaveLength(3);
    expect(a.trace?.[0]).toBe('calibrate: no pixel size found, sizes in px');
    expect(a.trace?.[1]).toMatch(
      /^segment: threshold method, dark particles above 0\.\d{3} of the stretched grey$/,
    );
    expect(a.trace?.[2]).toBe(`measure: ${DISCS.length} particles in the statistics`);
  });

  it('bright particles on dark ground give the same count; --no-split merges the touching pair', async () => {
    const bytes = pngBytes(scene(false));
    const a = await analyzeImage({ name: 'b.png', bytes }, thresholdOptions, null);
    expect(a.particles.filter((p) => p.excluded === null).length).toBe(DISCS.length);
    const b = await analyzeImage({ name: 'b.png', bytes }, { ...thresholdOptions, split: false }, null);
    expect(b.particles.filter((p) => p.excluded === null).length).toBe(DISCS.length - 1);
  });

  it('applies a manual pixel size and a manual banner band', async () => {
    const a = await analyzeImage(
      { name: 'discs.png', bytes: pngBytes(scene()) },
      {
        ...thresholdOptions,
        pixelSizeOverride: { pixelSize: 2.5, unit: 'nm' },
        banner: { y0: 200, y1: 240 },
      },
      null,
    );
    expect(a.calibration).toMatchObject({ pixelSize: 2.5, unit: 'nm', source: 'manual' });
    expect(a.excluded).toEqual([{ y0: 200, y1: 240, reason: 'manual' }]);
    for (let i = 200 * W; i < W * H; i++) expect(a.labels.data[i]).toBe(0);
    // The disc at y = 210 lies in the band: gone, the rest stays.
    expect(a.particles.filter((p) => p.excluded === null).length).toBe(DISCS.length - 1);
    expect(a.trace?.slice(0, 2)).toEqual([
      'calibrate: 2.5 nm/px from manual (set by the user)',
      'excluded rows: rows 200-239 left out',
    ]);
  });

  it('remeasure applies a new minimum area and pixel size without segmenting again', async () => {
    const a = await analyzeImage({ name: 'discs.png', bytes: pngBytes(scene()) }, thresholdOptions, null);
    const r = remeasure(a, {
      ...thresholdOptions,
      minAreaPx: 300,
      pixelSizeOverride: { pixelSize: 1, unit: 'um' },
    });
    expect(r.labels.count).toBe(a.labels.count);
    // Discs with r <= 9 have area < 300 px.
    const small = r.particles.filter((p) => p.excluded === 'small').length;
    expect(small).toBe(DISCS.filter(([, , rr]) => Math.PI * rr * rr < 300).length);
    expect(r.calibration).toMatchObject({ pixelSize: 1, unit: 'um', source: 'manual' });
    // The stages that ran again say so in the trace; the segmentation's line stands.
    expect(r.trace?.[0]).toMatch(/^calibrate: 1 um\/px from manual/);
    expect(r.trace?.[1]).toBe(a.trace?.[1]);
    expect(r.trace?.[2]).toBe(
      `measure: ${DISCS.length - small} particles in the statistics; left out: 0 touching the edge, ${small} under the minimum area`,
    );
  });

  it('rejects bad bytes with a one-line InputError', async () => {
    await expect(
      analyzeImage({ name: 'x.png', bytes: new TextEncoder().encode('hello') }, thresholdOptions, null),
    ).rejects.toMatchObject({ name: 'InputError' });
  });
});

describe('pipeline, model method (fake backend)', () => {
  const sidecar: ModelSidecar = FAKE_SIDECAR;
  // Per-pixel "network": dark = particle; no boundary signal. Tiles of 128 force seams through particles.
  const backend: InferenceBackend = {
    name: 'fake',
    async run(input) {
      const fg = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) fg[i] = input[i] < 0.5 ? 0.95 : 0.05;
      return { fg, bd: new Float32Array(input.length) };
    },
    async dispose() {},
  };
  const model: LoadedModel = { sidecar, backend };

  it('runs tiles -> instances -> measure; the watershed option splits the touching pair', async () => {
    const bytes = pngBytes(scene());
    const opts: AnalysisOptions = { ...DEFAULT_OPTIONS, banner: 'off' };
    const fractions: number[] = [];
    const a = await analyzeImage({ name: 'm.png', bytes }, opts, model, {
      onProgress: (s, f) => s === 'segment' && fractions.push(f),
    });
    expect(a.method).toBe('model');
    expect(a.modelName).toBe('fake 0');
    // Boundary map is empty: the touching pair stays one particle without the watershed...
    expect(a.particles.filter((p) => p.excluded === null).length).toBe(DISCS.length - 1);
    expect(a.trace?.[1]).toBe('segment: fake 0, native scale (the model states no size range)');
    expect(fractions[fractions.length - 1]).toBe(1);
    expect(fractions.length).toBeGreaterThan(4);
    // ... and is split with it.
    const b = await analyzeImage({ name: 'm.png', bytes }, { ...opts, watershed: true }, model);
    expect(b.particles.filter((p) => p.excluded === null).length).toBe(DISCS.length);
  });

  it('resamples when the particles are larger than the model was trained on, labels at input size', async () => {
    const ranged: LoadedModel = { sidecar: { ...sidecar, diameterRangePx: [3, 12] }, backend };
    const a = await analyzeImage(
      { name: 'm.png', bytes: pngBytes(scene()) },
      { ...DEFAULT_OPTIONS, banner: 'off' },
      ranged,
    );
    expect(a.labels.width).toBe(W);
    expect(a.labels.height).toBe(H);
    expect(a.warnings.join(' ')).toMatch(
      /outside the 3-12 px the model segments best: inference ran at 0\.\d\dx scale/,
    );
    expect(a.particles.filter((p) => p.excluded === null).length).toBe(DISCS.length - 1);
    expect(a.trace?.[1]).toMatch(
      /^segment: fake 0, 0\.\d\dx scale: particles about \d+\.\d px \(median of the first pass\), outside 3-12 px$/,
    );
    // Areas survive the round trip through the smaller scale within 15 %.
    const [cx, cy, r] = DISCS[1];
    const p = a.particles.find((q) => q.id === a.labels.data[cy * W + cx])!;
    expect(Math.abs(p.area - Math.PI * r * r) / (Math.PI * r * r)).toBeLessThan(0.15);
  });

  it('thorough runs every tile in four mirrored views and finds the same particles', async () => {
    let tiles = 0;
    const counting: LoadedModel = {
      sidecar,
      backend: { ...backend, run: (input, h, w) => (tiles++, backend.run(input, h, w)) },
    };
    const opts: AnalysisOptions = { ...DEFAULT_OPTIONS, banner: 'off' };
    const plain = await analyzeImage({ name: 'm.png', bytes: pngBytes(scene()) }, opts, counting);
    const once = tiles;
    tiles = 0;
    const thorough = await analyzeImage(
      { name: 'm.png', bytes: pngBytes(scene()) },
      { ...opts, thorough: true },
      counting,
    );
    expect(tiles).toBe(4 * once);
    // a per-pixel fake is mirror-symmetric: the views agree, so the labels are the same
    expect(Array.from(thorough.labels.data)).toEqual(Array.from(plain.labels.data));
  });

  it('drops detections of the minority contrast (sidecar contrastShare) unless mixed contrast is asked for', async () => {
    // Dark discs and two bright grains on mid-grey ground; a min-max stretch keeps the three levels apart.
    const px = new Uint8Array(W * H);
    let s = 11;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        s = (s * 1103515245 + 12345) >>> 0;
        let v = 128;
        for (const [cx, cy, r] of DISCS) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) v = 40;
        for (const [cx, cy] of [
          [300, 120],
          [20, 100],
        ])
          if ((x - cx) ** 2 + (y - cy) ** 2 <= 64) v = 230;
        px[y * W + x] = v + ((s >>> 8) % 21) - 10;
      }
    const twoSided: LoadedModel = {
      sidecar: {
        ...sidecar,
        input: { ...sidecar.input, normalisation: { method: 'percentile', low: 0, high: 100 } },
        thresholds: { ...sidecar.thresholds, contrastShare: 0.7 },
      },
      backend: {
        ...backend,
        async run(input) {
          const fg = new Float32Array(input.length);
          for (let i = 0; i < input.length; i++) fg[i] = input[i] < 0.25 || input[i] > 0.75 ? 0.95 : 0.05;
          return { fg, bd: new Float32Array(input.length) };
        },
      },
    };
    const opts: AnalysisOptions = { ...DEFAULT_OPTIONS, banner: 'off' };
    const found = (a: { particles: { excluded: unknown }[] }): number =>
      a.particles.filter((p) => p.excluded === null).length;
    // the touching pair stays one particle: this fake has no boundary output
    const dark = DISCS.length - 1;
    const one = await analyzeImage({ name: 'm.png', bytes: pngBytes(px) }, opts, twoSided);
    expect(found(one)).toBe(dark);
    expect(one.warnings).toContain(
      '2 detections brighter than the surroundings dropped: the particles here are darker (mixed contrast keeps them)',
    );
    expect(one.trace?.[2]).toBe(
      'contrast: particles darker than their surroundings, 2 of the other contrast dropped',
    );
    const mixed = await analyzeImage(
      { name: 'm.png', bytes: pngBytes(px) },
      { ...opts, mixedContrast: true },
      twoSided,
    );
    expect(found(mixed)).toBe(dark + 2);
    expect(mixed.warnings.join(' ')).not.toMatch(/dropped/);
    expect(mixed.trace?.some((l) => l.startsWith('contrast:'))).toBe(false);
    // a sidecar without the rule keeps both contrasts
    const noRule = { ...twoSided, sidecar: { ...twoSided.sidecar, thresholds: sidecar.thresholds } };
    expect(found(await analyzeImage({ name: 'm.png', bytes: pngBytes(px) }, opts, noRule))).toBe(dark + 2);
  });

  it('says clearly when the model method has no model', async () => {
    await expect(
      analyzeImage({ name: 'm.png', bytes: pngBytes(scene()) }, { ...DEFAULT_OPTIONS }, null),
    ).rejects.toThrow(/needs a segmentation model/);
  });

  it('can be cancelled between tiles', async () => {
    const ac = new AbortController();
    let n = 0;
    const slow: LoadedModel = {
      sidecar,
      backend: {
        name: 'slow',
        async run(input, h, w) {
          if (++n === 2) ac.abort(new Error('cancelled by user'));
          return backend.run(input, h, w);
        },
        async dispose() {},
      },
    };
    await expect(
      analyzeImage({ name: 'm.png', bytes: pngBytes(scene()) }, { ...DEFAULT_OPTIONS, banner: 'off' }, slow, {
        signal: ac.signal,
      }),
    ).rejects.toThrow('cancelled by user');
    expect(n).toBe(2);
  });

  it('an image prepared in another thread (structured clone, buffers transferred) finishes to the same analysis', async () => {
    // What the app does for a batch's next image: prepared by the prepare worker, finished by the analysis worker.
    const bytes = pngBytes(scene());
    const opts: AnalysisOptions = { ...DEFAULT_OPTIONS, banner: 'off' };
    const cases: [AnalysisOptions, LoadedModel | null][] = [
      [opts, model],
      [
        { ...opts, mixedContrast: false },
        { sidecar: { ...sidecar, thresholds: { ...sidecar.thresholds, contrastShare: 0.7 } }, backend },
      ],
      [{ ...opts, method: 'threshold' }, null],
      // An excluded band: left out of the stretch's percentiles on the preparing side, blanked on the finishing one.
      [{ ...opts, banner: { y0: 200, y1: 240 } }, model],
    ];
    for (const [o, m] of cases) {
      const whole = await analyzeImage({ name: 'm.png', bytes }, o, m);
      const spec = o.method === 'model' && m ? prepareSpecOf(m.sidecar) : null;
      const prepared = prepareImage({ name: 'm.png', bytes }, o, spec);
      const moved = structuredClone(prepared, { transfer: preparedBuffers(prepared) });
      // Transferred, not copied: the preparing side's buffers are detached.
      expect(prepared.norm?.data.length ?? 0).toBe(0);
      if (o.method === 'model' && m?.sidecar.thresholds.contrastShare !== undefined)
        expect(moved.contrastBytes?.length).toBe(W * H);
      const finished = await finishImage(moved, { name: 'm.png', bytes }, o, m);
      expect(finished.particles).toEqual(whole.particles);
      expect(finished.labels.data).toEqual(whole.labels.data);
      expect(finished.trace).toEqual(whole.trace);
      expect(finished.particles.length).toBeGreaterThan(0);
    }
  });

  it('an image prepared for another normalisation is not finished with this model', async () => {
    const bytes = pngBytes(scene());
    const opts: AnalysisOptions = { ...DEFAULT_OPTIONS, banner: 'off' };
    const other = prepareImage({ name: 'm.png', bytes }, opts, { low: 0.5, high: 99.5 });
    await expect(finishImage(other, { name: 'm.png', bytes }, opts, model)).rejects.toThrow(
      /prepared for another model or method/,
    );
    const threshold = prepareImage({ name: 'm.png', bytes }, { ...opts, method: 'threshold' }, null);
    await expect(finishImage(threshold, { name: 'm.png', bytes }, opts, model)).rejects.toThrow(
      /prepared for another model or method/,
    );
  });
});
