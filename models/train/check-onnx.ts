/**
 * Checks that onnxruntime-web (WASM, the runtime the app ships) gives torch's outputs for the exported model:
 * reads RUN/check/{input,foreground,boundary,distance}.f32 written by finalize.py.
 *
 * usage: npx tsx models/train/check-onnx.ts models/saemi-unet.onnx models/train/runs/main/check
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';

function f32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function main(): Promise<void> {
  const [onnxPath, dir] = process.argv.slice(2);
  const shape = JSON.parse(readFileSync(join(dir, 'shape.json'), 'utf8')) as { shape: number[] };
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(onnxPath)), {
    executionProviders: ['wasm'],
  });
  const out = await session.run({ image: new ort.Tensor('float32', f32(join(dir, 'input.f32')), shape.shape) });
  let worst = 0;
  for (const name of session.outputNames) {
    const ref = f32(join(dir, `${name}.f32`));
    const got = out[name].data as Float32Array;
    if (got.length !== ref.length) throw new Error(`${name}: ${got.length} values, torch has ${ref.length}`);
    let m = 0;
    for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i] - got[i]));
    console.log(JSON.stringify({ output: name, maxAbsDiff: m }));
    worst = Math.max(worst, m);
  }
  if (worst > 1e-3) {
    console.error(`onnxruntime-web differs from torch by ${worst}`);
    process.exit(1);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
