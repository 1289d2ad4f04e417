import { describe, expect, it } from 'vitest';
import { encode } from 'fast-png';
import { analyzeImage } from '../src/core/pipeline';
import { memoRecognizer } from '../src/core/calibrate/recognizer-memo';
import { findLabel, type LabelPlan, type LabelPlanReader } from '../src/core/calibrate/read-bar-label';
import { lazyLabelReader } from '../src/core/calibrate/label-net';
import type { GreyU8, LineRecognizer, RecognizedLine } from '../src/core/calibrate/label-ocr';
import { DEFAULT_OPTIONS } from '../src/core/types';
import { makeScene } from './calibrate-scene';
import { ATLAS_FONTS } from './helpers/label-atlas';

const LABEL = { label: '200 nm', font: { name: ATLAS_FONTS[0]!, size: 24 }, thickness: 4 };

/**
 * PNG bytes of a TEM-style image with a black 150 px bar, "200 nm" to its right, on the micrograph; or (`banner`)
 * of an SEM image whose data bar holds a white bar with the label above it.
 */
function barImage(seed: number, banner = false): { bytes: Uint8Array; lengthPx: number } {
  const s = makeScene(
    banner
      ? {
          seed,
          width: 480,
          height: 360,
          noise: 6,
          banner: { height: 64, level: 20, textLevel: 235 },
          bar: { ...LABEL, lengthPx: 150, where: 'banner', polarity: 'white', labelPos: 'above', x: 300 },
        }
      : {
          seed,
          width: 480,
          height: 360,
          noise: 6,
          tem: true,
          bar: { ...LABEL, lengthPx: 150, polarity: 'black', labelPos: 'right', x: 30, y: 320 },
        },
  );
  const { width, height, data } = s.raster;
  return {
    bytes: encode({ width, height, data: data as Uint8Array, channels: 1, depth: 8 }),
    lengthPx: s.truth.bar!.lengthPx,
  };
}

/** Reads every view as "200 nm", counting calls. */
function fakeEngine(): LineRecognizer & { calls: number } {
  const e = {
    calls: 0,
    recognizeLine(): Promise<RecognizedLine> {
      e.calls++;
      return Promise.resolve({ text: '200 nm', confidence: 90 });
    },
  };
  return e;
}

const view = (w: number, h: number, fill: number): GreyU8 => ({
  width: w,
  height: h,
  data: new Uint8Array(w * h).fill(fill),
});

describe('memoRecognizer', () => {
  it('asks the engine once per distinct view, and again for one that differs by a pixel', async () => {
    const engine = fakeEngine();
    const memo = memoRecognizer(engine);
    const a = view(40, 20, 200);
    expect(await memo.recognizeLine(a)).toEqual({ text: '200 nm', confidence: 90 });
    expect(await memo.recognizeLine({ ...a, data: a.data.slice() })).toEqual({
      text: '200 nm',
      confidence: 90,
    });
    expect(engine.calls).toBe(1);
    const b = { ...a, data: a.data.slice() };
    b.data[17] = 0;
    await memo.recognizeLine(b);
    // Same pixels, other shape: another view.
    await memo.recognizeLine(view(20, 40, 200));
    expect(engine.calls).toBe(3);
    expect([memo.hits, memo.misses]).toEqual([1, 3]);
  });

  it('passes warm() on to the engine, and has none when the engine has none', async () => {
    let warmed = 0;
    const memo = memoRecognizer({ ...fakeEngine(), warm: () => Promise.resolve(void warmed++) });
    await memo.warm?.();
    expect(warmed).toBe(1);
    expect(memoRecognizer(fakeEngine()).warm).toBeUndefined();
  });

  it('forgets the least recently used views past its byte budget', async () => {
    const engine = fakeEngine();
    const memo = memoRecognizer(engine, 2000); // room for two 800-byte views
    const [a, b, c] = [view(40, 20, 1), view(40, 20, 2), view(40, 20, 3)];
    await memo.recognizeLine(a);
    await memo.recognizeLine(b);
    await memo.recognizeLine(a); // a is now the most recent
    await memo.recognizeLine(c); // b goes
    expect(engine.calls).toBe(3);
    await memo.recognizeLine(a);
    await memo.recognizeLine(c);
    expect(engine.calls).toBe(3);
    await memo.recognizeLine(b);
    expect(engine.calls).toBe(4);
  });
});

describe('the scale-bar label read beside segmentation', () => {
  it('segments while the engine reads, and measures with the read pixel size', async () => {
    const { bytes, lengthPx } = barImage(3);
    const stages: string[] = [];
    const pending: (() => void)[] = [];
    let callsBeforeSegment = -1;
    let waitingAtSegment = 0;
    // The engine answers only once the pipeline says it waits for it (or after 3 s, so a pipeline that waits
    // for the label before segmenting fails the order check below instead of hanging).
    let open = false;
    const release = (): void => {
      open = true;
      for (const p of pending.splice(0)) p();
    };
    const timer = setTimeout(release, 3000);
    let calls = 0;
    const engine: LineRecognizer = {
      recognizeLine: () =>
        new Promise((resolve) => {
          calls++;
          const answer = (): void => resolve({ text: '200 nm', confidence: 90 });
          if (open) answer();
          else pending.push(answer);
        }),
    };
    const a = await analyzeImage(
      { name: 'bar.png', bytes },
      { ...DEFAULT_OPTIONS, method: 'threshold', darkParticles: true },
      null,
      {
        ocr: engine,
        onProgress: (stage) => {
          if (stages.at(-1) !== stage) stages.push(stage);
          if (stage === 'segment' && callsBeforeSegment < 0) {
            callsBeforeSegment = calls;
            waitingAtSegment = pending.length;
          }
          if (stage === 'scale-bar') release();
        },
      },
    );
    clearTimeout(timer);
    expect(callsBeforeSegment).toBeGreaterThan(0);
    // Segmentation started while the engine had not answered yet.
    expect(waitingAtSegment).toBeGreaterThan(0);
    expect(stages.indexOf('segment')).toBeLessThan(stages.indexOf('scale-bar'));
    expect(stages.indexOf('scale-bar')).toBeLessThan(stages.indexOf('measure'));
    expect(a.calibration.source).toBe('scale-bar');
    expect(a.calibration.pixelSize).toBeCloseTo(200 / lengthPx, 6);
    expect(a.trace?.[0]).toMatch(/^calibrate: .* nm\/px from scale-bar/);
    expect(a.particles.some((p) => p.ecd !== null && p.excluded === null)).toBe(true);
  });

  it('a second image with the same data bar is calibrated from memory, without the engine', async () => {
    const engine = fakeEngine();
    const memo = memoRecognizer(engine);
    const opts = { ...DEFAULT_OPTIONS, method: 'threshold' as const, darkParticles: true };
    const first = await analyzeImage({ name: 'a.png', bytes: barImage(3, true).bytes }, opts, null, {
      ocr: memo,
    });
    const calls = engine.calls;
    expect(calls).toBeGreaterThan(0);
    expect(first.calibration.source).toBe('scale-bar');
    // Another micrograph (other particles, other noise), the same data bar.
    const second = await analyzeImage({ name: 'b.png', bytes: barImage(4, true).bytes }, opts, null, {
      ocr: memo,
    });
    expect(engine.calls).toBe(calls);
    expect(second.calibration).toEqual(first.calibration);
  });
});

describe("the label read in another thread (the browser's label worker)", () => {
  it('a plan handed over as plain data reads to the same calibration as the engine in-thread', async () => {
    const opts = { ...DEFAULT_OPTIONS, method: 'threshold' as const, darkParticles: true };
    for (const banner of [false, true]) {
      const { bytes } = barImage(5, banner);
      const local = await analyzeImage({ name: 'a.png', bytes }, opts, null, { ocr: fakeEngine() });
      const plans: LabelPlan[] = [];
      const engine = fakeEngine();
      // What postMessage does to the plan: a structured clone, read on the other side with findLabel.
      const remote: LabelPlanReader = {
        findLabel: (plan) => {
          const copy = structuredClone(plan);
          plans.push(copy);
          return findLabel(copy, engine);
        },
      };
      const a = await analyzeImage({ name: 'a.png', bytes }, opts, null, { ocr: remote });
      expect(plans).toHaveLength(1);
      expect(plans[0]!.bars[0]!.crops.length).toBeGreaterThan(0);
      expect(plans[0]!.bars[0]!.crops[0]!.data).toBeInstanceOf(Uint8Array);
      expect(engine.calls).toBeGreaterThan(0);
      expect(a.calibration.source).toBe('scale-bar');
      expect(a.calibration).toEqual(local.calibration);
      expect(a.scaleBar).toEqual(local.scaleBar);
    }
  });

  it('findLabel skips a label implausible for its bar and returns the next bar that reads', async () => {
    const crop = view(60, 20, 255);
    // "200 nm" over 1 px is 200 nm/px, plausible; over 1e9 px it is not.
    const plan: LabelPlan = {
      bars: [
        { lengthPx: 1e9, reported: true, crops: [crop] },
        { lengthPx: 150, reported: false, crops: [crop] },
      ],
    };
    const found = await findLabel(plan, fakeEngine());
    expect(found?.bar).toBe(1);
    expect(found?.read.value).toBe(200);
    expect(found?.read.unit).toBe('nm');
  });
});

describe('lazyLabelReader.warm', () => {
  it('loads the network once, whether warmed, read or both, and a failed load is reported once', async () => {
    let loads = 0;
    const reader = lazyLabelReader(
      1,
      () => {
        loads++;
        return Promise.resolve({
          weight: 1,
          read: () => Promise.resolve({ line: null, noLabel: true, unlikely: false }),
        });
      },
      () => undefined,
    );
    await reader.warm?.();
    await reader.warm?.();
    expect((await reader.read(view(10, 10, 0))).noLabel).toBe(true);
    expect(loads).toBe(1);
    const errors: unknown[] = [];
    const failing = lazyLabelReader(
      1,
      () => Promise.reject(new Error('no file')),
      (e) => errors.push(e),
    );
    await failing.warm?.();
    expect((await failing.read(view(10, 10, 0))).line).toBeNull();
    expect(errors).toHaveLength(1);
  });
});
