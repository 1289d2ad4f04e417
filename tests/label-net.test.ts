/**
 * SAEMI's label network beside the OCR engine: how its reading joins the views' vote (with fake readers whose
 * answers are known), and the shipped network itself reading labels rendered in real fonts (the atlas of
 * tests/fixtures/labels, made from Debian's font packages) on grainy grounds in both polarities.
 */
import { describe, expect, it } from 'vitest';
import { readLabelCrop, type GreyU8, type LineRecognizer } from '../src/core/calibrate/label-ocr';
import {
  netLabelReader,
  type LabelNetSpec,
  type LabelReader,
  type LineNetRunner,
} from '../src/core/calibrate/label-net';
import { parseScaleLabel } from '../src/core/calibrate/ocr';
import { loadLabelNet } from '../src/cli/ocr-engine';
import {
  ATLAS_FIELDS,
  ATLAS_FONTS,
  ATLAS_SIZES,
  ATLAS_TEXTS,
  atlasText,
  drawText,
} from './helpers/label-atlas';

/** A crop with some dark ink, so every view has something to read. */
function crop(): GreyU8 {
  const w = 60;
  const h = 20;
  const data = new Uint8Array(w * h).fill(220);
  for (let y = 6; y < 14; y++) for (let x = 5; x < 55; x += 3) data[y * w + x] = 20;
  return { width: w, height: h, data };
}

/** An engine that reads `texts[k]` for the k-th view it is shown (then the last one again). */
function engine(texts: string[], net: LabelReader | undefined) {
  let calls = 0;
  const r: LineRecognizer & { calls(): number } = {
    labelReader: net,
    recognizeLine: async () => ({ text: texts[Math.min(calls++, texts.length - 1)]!, confidence: 80 }),
    calls: () => calls,
  };
  return r;
}

const net = (text: string | null, weight = 2): LabelReader => ({
  weight,
  read: async () => ({
    line: text === null ? null : { text, confidence: 95 },
    noLabel: false,
    unlikely: false,
  }),
});

const SPEC: LabelNetSpec = {
  charset: '0123456789.nmu?',
  line: { height: 32, stride: 4, minWidth: 16, maxWidth: 384 },
  voteWeight: 4,
  minConfidence: 95,
  minDigitProbability: 0.1,
  unconfirmedBarMinDigitProbability: 0.5,
};

/** A network that spells `text` (one step per character, blanks between) with probability `p` per character. */
function spelling(text: string, p: number): LineNetRunner {
  const k = SPEC.charset.length + 1;
  const classes = [...text].flatMap((ch) => [SPEC.charset.indexOf(ch) + 1, 0]);
  const logp = new Float32Array(classes.length * k).fill(Math.log((1 - p) / (k - 1)));
  classes.forEach((c, t) => (logp[t * k + c] = Math.log(c === 0 ? 0.99 : p)));
  return { run: async () => ({ logp, steps: classes.length }) };
}

describe('the label network in the vote', () => {
  it('reads alone where no engine view reads a label', async () => {
    const r = await readLabelCrop(engine(['SEI 5.0kV', 'x'], net('50nm')), crop());
    expect(r).toMatchObject({ value: 50, unit: 'nm', readBy: 'net' });
    expect(await readLabelCrop(engine(['SEI 5.0kV', 'x'], net(null)), crop())).toBeNull();
  });

  it('a crop it is sure holds no label is not shown to the engine', async () => {
    const sure: LabelReader = {
      weight: 4,
      read: async () => ({ line: null, noLabel: true, unlikely: true }),
    };
    const e = engine(['50 nm'], sure);
    expect(await readLabelCrop(e, crop())).toBeNull();
    expect(e.calls()).toBe(0);
  });

  it('says a crop holds no label when it reads other text sure, or no digit at all; else lets the engine read', async () => {
    const read = (text: string, p: number) => netLabelReader(spelling(text, p), SPEC).read(crop());
    expect(await read('50nm', 0.99)).toMatchObject({
      line: { text: '50nm' },
      noLabel: false,
      unlikely: false,
    });
    expect(await read('5.0??', 0.99)).toEqual({ line: null, noLabel: true, unlikely: false });
    expect(await read('????', 0.6)).toEqual({ line: null, noLabel: true, unlikely: true });
    // Unsure of a label, or of text with digits: the engine decides.
    expect(await read('50nm', 0.8)).toEqual({ line: null, noLabel: false, unlikely: false });
    expect(await read('5.0??', 0.8)).toEqual({ line: null, noLabel: false, unlikely: false });
    // Digits only faintly seen (0.3: above the no-label 0.1, below the unconfirmed-bar 0.5).
    expect(await read('5?', 0.3)).toEqual({ line: null, noLabel: false, unlikely: true });
  });

  it('reads the negative only when the crop as it is gives no sure label', async () => {
    const counted = (text: string, p: number) => {
      const r = spelling(text, p);
      let runs = 0;
      const runner: LineNetRunner = { run: (...a) => (runs++, r.run(...a)) };
      return { runner, runs: () => runs };
    };
    const sure = counted('50nm', 0.99);
    await netLabelReader(sure.runner, SPEC).read(crop());
    expect(sure.runs()).toBe(1);
    const unsure = counted('50nm', 0.8);
    await netLabelReader(unsure.runner, SPEC).read(crop());
    expect(unsure.runs()).toBe(2);
  });

  it('a crop with nothing likely a digit is read by the engine for a confirmed bar, not for one only its label would confirm', async () => {
    const faint: LabelReader = {
      weight: 4,
      read: async () => ({ line: null, noLabel: false, unlikely: true }),
    };
    const confirmed = engine(['50 nm'], faint);
    expect(await readLabelCrop(confirmed, crop())).toMatchObject({ value: 50, unit: 'nm', readBy: 'ocr' });
    expect(confirmed.calls()).toBeGreaterThan(0);
    const unconfirmed = engine(['50 nm'], faint);
    expect(await readLabelCrop(unconfirmed, crop(), { confirming: true })).toBeNull();
    expect(unconfirmed.calls()).toBe(0);
  });

  it('tips a split vote: four views for "20pm" (read as µm), four for 20 nm, the network for 20 nm', async () => {
    const split = ['20pm', '20 nm', '20pm', '20 nm', '20pm', '20 nm', '20pm', '20 nm', ''];
    expect((await readLabelCrop(engine(split, undefined), crop()))?.unit).toBe('um');
    expect((await readLabelCrop(engine(split, net('20nm')), crop()))?.unit).toBe('nm');
  });

  it('is outvoted by a clear majority of the engine views', async () => {
    const r = await readLabelCrop(engine(['100 nm'], net('700nm')), crop());
    expect(r?.value).toBe(100);
  });

  it('agreeing with the engine settles a crop with fewer engine calls', async () => {
    const alone = engine(['50 nm'], undefined);
    await readLabelCrop(alone, crop());
    const withNet = engine(['50 nm'], net('50nm'));
    expect((await readLabelCrop(withNet, crop()))?.readBy).toBe('ocr+net');
    expect(withNet.calls()).toBeLessThan(alone.calls());
  });
});

/** `text` from the atlas on a grainy ground, dark ink on light or light on dark. */
function rendered(font: string, size: number, text: string, dark: boolean, rand: () => number): GreyU8 {
  const t = atlasText(font, size, text);
  const w = t.width + 16;
  const h = t.height + 10;
  const img = { width: w, height: h, data: new Float32Array(w * h) };
  const ground = dark ? 200 : 50;
  for (let i = 0; i < img.data.length; i++) img.data[i] = ground + 30 * (rand() - 0.5);
  drawText(img, t, 8, 5, dark ? 30 : 230);
  return {
    width: w,
    height: h,
    data: Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v)))),
  };
}

function lcg(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe('the shipped label network', () => {
  it('reads >= 95 % of the rendered labels alone, dark and light ink on grainy grounds, and takes none for no label', async () => {
    const reader = await loadLabelNet();
    let read = 0;
    let n = 0;
    const failures: string[] = [];
    const gated: string[] = [];
    const rand = lcg(7);
    for (const font of ATLAS_FONTS)
      for (const [k, text] of ATLAS_TEXTS.entries()) {
        const size = ATLAS_SIZES[k % ATLAS_SIZES.length]!;
        const dark = (n & 1) === 0;
        const res = await reader.read(rendered(font, size, text, dark, rand));
        if (res.noLabel) gated.push(`${font} ${size}px "${text}" ${dark ? 'dark' : 'light'}`);
        const r = res.line;
        const want = parseScaleLabel(text)!;
        const got = r ? parseScaleLabel(r.text) : null;
        if (got && got.value === want.value && got.unit === want.unit) read++;
        else failures.push(`${font} ${size}px "${text}" ${dark ? 'dark' : 'light'}: ${r?.text ?? '-'}`);
        n++;
      }
    expect(n).toBeGreaterThanOrEqual(30);
    expect(read / n, failures.join('\n')).toBeGreaterThanOrEqual(0.95);
    // A label it cannot read must still reach the engine.
    expect(gated, 'labels taken for no label').toEqual([]);
  }, 60_000);

  it('reads no other data-bar field as a label ("SEI 5.0kV" is not "5.0um"), and knows most for none', async () => {
    const reader = await loadLabelNet();
    const taken: string[] = [];
    let n = 0;
    let noLabel = 0;
    const rand = lcg(11);
    for (const font of ATLAS_FONTS)
      for (const size of ATLAS_SIZES)
        for (const text of ATLAS_FIELDS)
          for (const dark of [true, false]) {
            const r = await reader.read(rendered(font, size, text, dark, rand));
            if (r.line) taken.push(`${font} ${size}px "${text}" ${dark ? 'dark' : 'light'}: ${r.line.text}`);
            if (r.noLabel) noLabel++;
            n++;
          }
    expect(n).toBeGreaterThanOrEqual(100);
    expect(taken.length, taken.join('\n')).toBeLessThanOrEqual(n * 0.02);
    // Most of the rest it knows for no label, and the engine is not asked.
    expect(noLabel).toBeGreaterThanOrEqual(n / 3);
  }, 60_000);
});
