/**
 * The committed model (models/saemi-unet.onnx + sidecar) through the shipped inference path: onnxruntime-web
 * WASM in Node, src/core/segment tiling + instances, src/core/pipeline. The fixture is a synthetic SEM image
 * with agglomerated, touching particles made by models/train/make-fixture.ts; its truth is the generator's
 * exact instance mask.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import * as ort from 'onnxruntime-web';
import { readModelFiles } from '../src/cli/load-model';
import { createOrtBackend, type OrtModuleLike } from '../src/core/segment/ort-backend';
import { analyzeImage } from '../src/core/pipeline';
import { DEFAULT_OPTIONS } from '../src/core/types';
import { warmUp } from '../src/core/segment/tiles';

const fixture = new URL('./fixtures/model-fixture.png', import.meta.url);
const truthFile = new URL('./fixtures/model-fixture-truth.png', import.meta.url);

/** Instance F1 at IoU 0.5: with IoU > 0.5 a pair is unique, so counting such pairs is an exact matching. */
function matchF1(pred: Int32Array, truth: Uint16Array): { f1: number; tp: number; np: number; nt: number } {
  const areaP = new Map<number, number>();
  const areaT = new Map<number, number>();
  const inter = new Map<number, number>();
  const K = 65536;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i];
    const t = truth[i];
    if (p) areaP.set(p, (areaP.get(p) ?? 0) + 1);
    if (t) areaT.set(t, (areaT.get(t) ?? 0) + 1);
    if (p && t) inter.set(p * K + t, (inter.get(p * K + t) ?? 0) + 1);
  }
  let tp = 0;
  for (const [key, n] of inter) {
    const p = Math.floor(key / K);
    const t = key % K;
    if (n / (areaP.get(p)! + areaT.get(t)! - n) > 0.5) tp++;
  }
  const np = areaP.size;
  const nt = areaT.size;
  return { f1: (2 * tp) / (np + nt), tp, np, nt };
}

describe('committed segmentation model', () => {
  it('has a sidecar whose sha256 matches the weights and the contract', async () => {
    const files = await readModelFiles();
    expect(files.warnings).toEqual([]);
    expect(files.sidecar.input.name).toBe('image');
    expect(files.sidecar.input.multiple).toBe(32);
    expect(files.sidecar.outputs.map((o) => o.kind)).toEqual(['foreground', 'boundary', 'distance']);
    expect(files.bytes.length).toBeLessThan(8e6);
    expect(files.precision).toBe('fp32');
    // Its int8 variant (models/README.md) is there and is the file the sidecar names.
    const int8 = await readModelFiles(undefined, 'wasm', 'int8');
    expect(int8.warnings).toEqual([]);
    expect(int8.precision).toBe('int8');
    expect(int8.onnxPath.endsWith('saemi-unet-int8.onnx')).toBe(true);
    expect(int8.sha256).toBe(files.sidecar.variants?.[0].sha256);
    expect(int8.bytes.length).toBeLessThan(files.bytes.length / 2);
  });

  for (const precision of ['fp32', 'int8'] as const)
    it(
      `segments the synthetic fixture through onnxruntime-web and the pipeline (${precision})`,
      { timeout: 120_000 },
      async () => {
        const files = await readModelFiles(undefined, 'wasm', precision);
        expect(files.precision).toBe(precision);
        const backend = await createOrtBackend(ort as unknown as OrtModuleLike, files.bytes, files.sidecar, {
          executionProviders: ['wasm'],
          threads: 1,
        });
        try {
          const bytes = new Uint8Array(readFileSync(fixture));
          const t = decode(readFileSync(truthFile));
          const truth = t.data as Uint16Array;
          const a = await analyzeImage(
            { name: 'model-fixture.png', bytes },
            { ...DEFAULT_OPTIONS, method: 'model', minAreaPx: 10 },
            { sidecar: files.sidecar, backend },
          );
          expect(a.width).toBe(t.width);
          expect(a.height).toBe(t.height);

          let inter = 0;
          let sp = 0;
          let st = 0;
          for (let i = 0; i < truth.length; i++) {
            const p = a.labels.data[i] > 0;
            const q = truth[i] > 0;
            if (p) sp++;
            if (q) st++;
            if (p && q) inter++;
          }
          const dice = (2 * inter) / (sp + st);
          const m = matchF1(a.labels.data, truth);
          const counted = a.particles.filter((p) => p.excluded === null).length;
          // The fixture has 65 particles (46 clear of the border), many of them touching in agglomerates.
          expect(m.nt).toBe(65);
          expect(dice).toBeGreaterThan(0.9);
          expect(m.f1).toBeGreaterThan(0.85);
          expect(Math.abs(counted - 65)).toBeLessThanOrEqual(7);
        } finally {
          await backend.dispose();
        }
      },
    );
});

describe('warming the network up', () => {
  it('runs one blank tile of the largest size tiled inference uses (the tile size, down to the multiple)', async () => {
    const sidecar = JSON.parse(readFileSync(new URL('../models/saemi-unet.json', import.meta.url), 'utf8'));
    const shapes: number[][] = [];
    const backend = {
      name: 'fake',
      run: async (input: Float32Array, h: number, w: number) => {
        shapes.push([h, w, input.length, input.some((v) => v !== 0) ? 1 : 0]);
        return {};
      },
      dispose: async () => undefined,
    };
    await warmUp({ sidecar, backend });
    const side = Math.floor(sidecar.tile.size / sidecar.input.multiple) * sidecar.input.multiple;
    expect(shapes).toEqual([[side, side, side * side, 0]]);
    await warmUp({
      sidecar: { ...sidecar, tile: { size: 1000, overlap: 64 }, input: { ...sidecar.input, multiple: 32 } },
      backend,
    });
    expect(shapes[1]!.slice(0, 2)).toEqual([992, 992]);
  });
});
