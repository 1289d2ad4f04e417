import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../src/core/types';
import {
  fingerprintDifferences,
  manifestLine,
  parseManifest,
  runFingerprint,
  runHeader,
  type ImageEntry,
} from '../src/cli/run-manifest';

const MODEL = {
  name: 'saemi-unet',
  version: '1.9.0',
  sha256: 'ab'.repeat(32),
  backend: 'wasm',
  file: 'saemi-unet.onnx',
  precision: 'fp32' as const,
};

function entry(name: string, end: number): ImageEntry {
  return {
    kind: 'image',
    name,
    path: `/data/${name}`,
    sha256: '0'.repeat(64),
    particles: 3,
    particlesEnd: end,
    summaryEnd: end,
    warnings: [],
  };
}

describe('run manifest', () => {
  it('names each option that differs as the command line spells it, and a model change', () => {
    const then = runFingerprint({ ...DEFAULT_OPTIONS, minAreaPx: 20 }, MODEL);
    expect(
      fingerprintDifferences(then, runFingerprint({ ...DEFAULT_OPTIONS, minAreaPx: 20 }, MODEL)),
    ).toEqual([]);
    const now = runFingerprint(
      { ...DEFAULT_OPTIONS, minAreaPx: 30, excludeEdges: true },
      { ...MODEL, version: '2.0.0', sha256: 'cd'.repeat(32) },
    );
    expect(fingerprintDifferences(then, now)).toEqual([
      '--min-area: 20 then, 30 now',
      '--exclude-edges: false then, true now',
      `model: saemi-unet 1.9.0 fp32 (sha256 ${'ab'.repeat(6)}) then, saemi-unet 2.0.0 fp32 (sha256 ${'cd'.repeat(6)}) now`,
    ]);
    // The int8 variant of the same model is other weights: a resume across the two is refused, by precision.
    const int8 = {
      ...MODEL,
      sha256: 'ef'.repeat(32),
      file: 'saemi-unet-int8.onnx',
      precision: 'int8' as const,
    };
    expect(
      fingerprintDifferences(runFingerprint(DEFAULT_OPTIONS, MODEL), runFingerprint(DEFAULT_OPTIONS, int8)),
    ).toEqual([
      `model: saemi-unet 1.9.0 fp32 (sha256 ${'ab'.repeat(6)}) then, saemi-unet 1.9.0 int8 (sha256 ${'ef'.repeat(6)}) now`,
    ]);
    // A manifest written before variants existed has no file/precision: the same weights still match.
    const old = runFingerprint(DEFAULT_OPTIONS, MODEL);
    old.model = { name: MODEL.name, version: MODEL.version, sha256: MODEL.sha256 };
    expect(fingerprintDifferences(old, runFingerprint(DEFAULT_OPTIONS, MODEL))).toEqual([]);
    // The threshold method uses no model: which one is loaded does not matter.
    const t = { ...DEFAULT_OPTIONS, method: 'threshold' as const };
    expect(fingerprintDifferences(runFingerprint(t, MODEL), runFingerprint(t, null))).toEqual([]);
  });

  it('leaves out a last line cut short by a kill, and refuses a damaged one in the middle', () => {
    const head = manifestLine(runHeader(runFingerprint(DEFAULT_OPTIONS, MODEL), 10, 20));
    const one = manifestLine(entry('a.png', 100));
    const two = manifestLine(entry('b.png', 200));
    const enc = (s: string) => new TextEncoder().encode(s);
    const whole = parseManifest(enc(head + one + two));
    expect(whole.images.map((i) => i.name)).toEqual(['a.png', 'b.png']);
    expect(whole.header.particlesEnd).toBe(10);
    const cut = parseManifest(enc(head + one + two.slice(0, 25)));
    expect(cut.images.map((i) => i.name)).toEqual(['a.png']);
    expect(cut.validBytes).toBe(enc(head + one).length);
    expect(() => parseManifest(enc(head + '{"kind":"ima\n' + two))).toThrow(
      'run-manifest.jsonl line 2 is not JSON',
    );
    expect(() => parseManifest(enc(one))).toThrow('does not start with a run line');
  });
});
