import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sidecarProblem, type ModelSidecar } from '../src/core/segment/model';
import {
  pickVariant,
  resolveModelFile,
  variantsProblem,
  type ModelFileIo,
} from '../src/core/segment/model-variant';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const FP32 = enc('fp32 weights');
const INT8 = enc('int8 weights');

function sidecar(over: Partial<ModelSidecar> = {}): ModelSidecar {
  return {
    name: 'm',
    version: '1.0.0',
    sha256: sha(FP32),
    file: 'm.onnx',
    variants: [
      { file: 'm-int8.onnx', sha256: sha(INT8), precision: 'int8', preferredOn: ['wasm', 'native'] },
    ],
    input: { name: 'image', multiple: 32, normalisation: { method: 'percentile', low: 1, high: 99.5 } },
    tile: { size: 256, overlap: 32 },
    outputs: [{ name: 'fg', kind: 'foreground' }],
    thresholds: { foreground: 0.5 },
    ...over,
  };
}

/** Files by name; reads of others reject as fs/fetch would. Records what was read. */
function io(files: Record<string, Uint8Array>): ModelFileIo & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read: async (f) => {
      reads.push(f);
      const b = files[f];
      if (!b) throw new Error(`${f}: no such file`);
      return b;
    },
    sha256: async (b) => sha(b),
  };
}

describe('pickVariant', () => {
  it('auto takes the variant preferred on the backend, else the base file', () => {
    const s = sidecar();
    expect(pickVariant(s, 'wasm', 'auto')).toEqual({
      file: 'm-int8.onnx',
      sha256: sha(INT8),
      precision: 'int8',
    });
    expect(pickVariant(s, 'native', 'auto').precision).toBe('int8');
    expect(pickVariant(s, 'webgpu', 'auto')).toEqual({
      file: 'm.onnx',
      sha256: sha(FP32),
      precision: 'fp32',
    });
    // No variants at all: every backend gets the base file.
    expect(pickVariant(sidecar({ variants: undefined }), 'wasm', 'auto').file).toBe('m.onnx');
  });

  it('fp32 and int8 are forced whatever the backend prefers', () => {
    const s = sidecar();
    expect(pickVariant(s, 'wasm', 'fp32').file).toBe('m.onnx');
    expect(pickVariant(s, 'webgpu', 'int8').file).toBe('m-int8.onnx');
    expect(() => pickVariant(sidecar({ variants: [] }), 'wasm', 'int8')).toThrow(
      'model m 1.0.0 has no int8 variant (its sidecar lists none)',
    );
  });
});

describe('resolveModelFile', () => {
  it('auto on wasm loads the int8 bytes, checked, without warnings', async () => {
    const f = io({ 'm.onnx': FP32, 'm-int8.onnx': INT8 });
    const r = await resolveModelFile(sidecar(), 'wasm', 'auto', f);
    expect(r).toEqual({
      bytes: INT8,
      file: 'm-int8.onnx',
      precision: 'int8',
      sha256: sha(INT8),
      warnings: [],
    });
    expect(f.reads).toEqual(['m-int8.onnx']);
  });

  it('auto falls back to fp32 with a warning when the variant is missing or not the one described', async () => {
    const missing = await resolveModelFile(sidecar(), 'wasm', 'auto', io({ 'm.onnx': FP32 }));
    expect(missing.precision).toBe('fp32');
    expect(missing.bytes).toBe(FP32);
    expect(missing.warnings).toEqual([
      'int8 model m-int8.onnx not used, it cannot be read (m-int8.onnx: no such file): fp32 m.onnx instead',
    ]);
    const wrong = enc('other bytes');
    const bad = await resolveModelFile(
      sidecar(),
      'native',
      'auto',
      io({ 'm.onnx': FP32, 'm-int8.onnx': wrong }),
    );
    expect(bad.precision).toBe('fp32');
    expect(bad.sha256).toBe(sha(FP32));
    expect(bad.warnings).toEqual([
      `int8 model m-int8.onnx not used, its sha256 ${sha(wrong).slice(0, 12)}... differs from the sidecar's ${sha(INT8).slice(0, 12)}...: fp32 m.onnx instead`,
    ]);
  });

  it('an explicit int8 that is missing or wrong is an error, not a silent fp32', async () => {
    await expect(resolveModelFile(sidecar(), 'wasm', 'int8', io({ 'm.onnx': FP32 }))).rejects.toThrow(
      'int8 model m-int8.onnx: it cannot be read (m-int8.onnx: no such file)',
    );
    await expect(
      resolveModelFile(sidecar(), 'wasm', 'int8', io({ 'm.onnx': FP32, 'm-int8.onnx': FP32 })),
    ).rejects.toThrow(`int8 model m-int8.onnx: its sha256 ${sha(FP32).slice(0, 12)}... differs`);
  });

  it('fp32 (and auto on webgpu) never reads the variant; a wrong base file warns, or fails when strict', async () => {
    const f = io({ 'm.onnx': FP32, 'm-int8.onnx': INT8 });
    const r = await resolveModelFile(sidecar(), 'webgpu', 'auto', f);
    expect([r.file, r.precision, r.warnings]).toEqual(['m.onnx', 'fp32', []]);
    expect(f.reads).toEqual(['m.onnx']);
    const other = enc('not the base');
    const lax = await resolveModelFile(sidecar(), 'wasm', 'fp32', io({ 'm.onnx': other }));
    expect(lax.warnings).toEqual([
      `model m.onnx: sha256 ${sha(other).slice(0, 12)}... differs from the sidecar's ${sha(FP32).slice(0, 12)}...; the weights may not be the ones described`,
    ]);
    await expect(resolveModelFile(sidecar(), 'wasm', 'fp32', io({ 'm.onnx': other }), true)).rejects.toThrow(
      'model file m.onnx does not match its sidecar',
    );
    await expect(resolveModelFile(sidecar(), 'wasm', 'fp32', io({}))).rejects.toThrow(
      'model file m.onnx cannot be read (m.onnx: no such file)',
    );
  });
});

describe('variants in the sidecar', () => {
  it('are validated by sidecarProblem', () => {
    expect(sidecarProblem(sidecar())).toBeNull();
    expect(sidecarProblem(sidecar({ variants: undefined }))).toBeNull();
    const v = sidecar().variants![0];
    expect(variantsProblem({})).toBe('variants must be a list');
    expect(sidecarProblem(sidecar({ variants: [{ ...v, file: 'm.bin' }] }))).toBe(
      'variants[0].file must name an .onnx file',
    );
    expect(sidecarProblem(sidecar({ variants: [{ ...v, sha256: 'abc' }] }))).toBe(
      'variants[0].sha256 must be 64 hex digits',
    );
    expect(variantsProblem([{ ...v, precision: 'fp16' }])).toBe('variants[0].precision must be int8');
    expect(variantsProblem([{ ...v, preferredOn: ['cuda'] }])).toBe(
      'variants[0].preferredOn must list backends among wasm, webgpu, native',
    );
    expect(variantsProblem([v, v])).toBe('variants lists one precision twice');
  });
});
