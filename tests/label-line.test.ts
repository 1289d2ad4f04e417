/**
 * The label network's input line and its decoding. The line must be the one the network was trained on: the
 * expected widths and checksums below were printed by models/train/label_line.py for the same patterns.
 */
import { describe, expect, it } from 'vitest';
import { netLine } from '../src/core/calibrate/label-line';
import { ctcGreedy, labelNetSpecProblem, maxDigitProbability } from '../src/core/calibrate/label-net';

const GEOMETRY = { height: 32, stride: 4, minWidth: 16, maxWidth: 384 };

function pattern(w: number, h: number) {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data[y * w + x] = (x * x * 7 + y * 13 + x * y * 3) % 251;
  return { width: w, height: h, data };
}

describe('label line', () => {
  // [width, height, line width, sum of (i + 1) * v mod 2^31 - 1, sum of v]: label_line.py's output.
  const PYTHON: [number, number, number, number, number][] = [
    [70, 41, 56, 203732392, 225051],
    [23, 9, 84, 448895970, 319401],
    [200, 90, 72, 341629447, 295675],
    [5, 70, 16, 16301115, 62581],
    [130, 64, 68, 305284123, 278261],
    [900, 40, 384, 1132019095, 1572000],
  ];
  it.each(PYTHON)('%ix%i: pixel for pixel what the training code made', (w, h, lw, weighted, sum) => {
    const line = netLine(pattern(w, h), GEOMETRY)!;
    expect(line.height).toBe(32);
    expect(line.width).toBe(lw);
    let s = 0;
    let ws = 0;
    for (let i = 0; i < line.data.length; i++) {
      s += line.data[i]!;
      ws = (ws + (i + 1) * line.data[i]!) % 2147483647;
    }
    expect([ws, s]).toEqual([weighted, sum]);
  });

  it('a crop too small to hold a letter gives no line', () => {
    expect(netLine({ width: 1, height: 20, data: new Uint8Array(20) }, GEOMETRY)).toBeNull();
  });
});

describe('CTC decoding', () => {
  const CHARSET = '0123456789.nmu';
  /** Steps of one-hot-ish log probabilities for class indices (0 = blank). */
  function steps(classes: number[], p = 0.9): Float32Array {
    const k = CHARSET.length + 1;
    const out = new Float32Array(classes.length * k).fill(Math.log((1 - p) / (k - 1)));
    classes.forEach((c, t) => (out[t * k + c] = Math.log(p)));
    return out;
  }
  const c = (ch: string) => CHARSET.indexOf(ch) + 1;

  it('merges repeats, keeps repeats split by a blank, drops blanks', () => {
    const seq = [0, c('1'), c('1'), 0, c('0'), 0, c('0'), c('0'), 0, c('n'), c('m'), c('m')];
    const r = ctcGreedy(steps(seq), seq.length, CHARSET);
    expect(r.text).toBe('100nm');
    expect(r.confidence).toBeCloseTo(90, 3);
  });

  it('the highest probability of any digit at any step, whatever was read', () => {
    const seq = [0, c('n'), c('1'), c('m')];
    expect(maxDigitProbability(steps(seq, 0.8), seq.length, CHARSET)).toBeCloseTo(0.8, 5);
    const none = [0, c('n'), 0, c('m')];
    expect(maxDigitProbability(steps(none, 0.9), none.length, CHARSET)).toBeLessThan(0.1);
  });

  it('all blank reads as nothing, with no confidence', () => {
    expect(ctcGreedy(steps([0, 0, 0]), 3, CHARSET)).toEqual({ text: '', confidence: 0 });
  });

  it('a sidecar without its line geometry or weights is refused, naming what is missing', () => {
    const good = {
      charset: CHARSET,
      line: GEOMETRY,
      voteWeight: 2,
      minConfidence: 60,
      minDigitProbability: 0.1,
      unconfirmedBarMinDigitProbability: 0.5,
    };
    expect(labelNetSpecProblem(good)).toBeNull();
    expect(labelNetSpecProblem({ ...good, line: { ...GEOMETRY, stride: 0 } })).toBe('line.stride missing');
    expect(labelNetSpecProblem({ ...good, voteWeight: 'x' })).toBe('voteWeight missing');
    expect(labelNetSpecProblem({ ...good, minDigitProbability: undefined })).toBe(
      'minDigitProbability missing',
    );
    expect(labelNetSpecProblem({ ...good, unconfirmedBarMinDigitProbability: NaN })).toBe(
      'unconfirmedBarMinDigitProbability missing',
    );
    expect(labelNetSpecProblem(null)).toBe('not an object');
  });
});
