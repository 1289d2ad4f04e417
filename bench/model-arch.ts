/**
 * Times one ONNX segmentation network on a 1024x768 input with onnxruntime-web (WASM) in Node, at 1 and
 * 2 threads, and with onnxruntime-node when it is installed. Used to choose an architecture before training
 * it for an hour (../shared/DESIGN.md compute budget). Prints one JSON object per line.
 *
 * usage: npx tsx bench/model-arch.ts <model.onnx> [more.onnx ...] [--runs 5] [--size 1024x768]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as ortWeb from 'onnxruntime-web';

interface OrtLike {
  InferenceSession: {
    create(
      bytes: Uint8Array,
      opts?: { executionProviders?: string[]; intraOpNumThreads?: number },
    ): Promise<{
      run(feeds: Record<string, unknown>): Promise<Record<string, unknown>>;
      release(): Promise<void>;
    }>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

function parseArgs(argv: string[]): { files: string[]; runs: number; width: number; height: number } {
  const files: string[] = [];
  let runs = 5;
  let width = 1024;
  let height = 768;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--size') {
      const [w, h] = argv[++i].split('x').map(Number);
      width = w;
      height = h;
    } else files.push(a);
  }
  if (files.length === 0)
    throw new Error('usage: tsx bench/model-arch.ts <model.onnx> [--runs N] [--size WxH]');
  return { files, runs, width, height };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(
  ort: OrtLike,
  bytes: Uint8Array,
  ep: string,
  threads: number,
  width: number,
  height: number,
  runs: number,
): Promise<number[]> {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [ep],
    intraOpNumThreads: threads,
  });
  const input = new Float32Array(width * height);
  for (let i = 0; i < input.length; i++) input[i] = (i % 97) / 97;
  const feeds = { image: new ort.Tensor('float32', input, [1, 1, height, width]) };
  await session.run(feeds); // warm-up: first run allocates and plans
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push((performance.now() - t0) / 1000);
  }
  await session.release();
  return times;
}

async function main(): Promise<void> {
  const { files, runs, width, height } = parseArgs(process.argv.slice(2));
  let ortNode: OrtLike | null = null;
  try {
    // Through a variable: the optional package need not be installed for type-checking.
    const nativeOrt: string = 'onnxruntime-node';
    ortNode = (await import(nativeOrt)) as unknown as OrtLike;
  } catch {
    ortNode = null;
  }
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(file));
    // The WASM thread count is fixed per process once the runtime initialises, so runs at 1 and 2 threads
    // must each happen in a fresh process: pass BENCH_THREADS to pick.
    const threads = Number(process.env.BENCH_THREADS ?? '2');
    ortWeb.env.wasm.numThreads = threads;
    const web = await time(ortWeb as unknown as OrtLike, bytes, 'wasm', threads, width, height, runs);
    const row: Record<string, unknown> = {
      bench: 'model-arch',
      model: basename(file),
      sizeMB: +(bytes.length / 1e6).toFixed(2),
      input: `${width}x${height}`,
      wasmThreads: threads,
      wasmMedianS: +median(web).toFixed(3),
    };
    if (ortNode) {
      const nat = await time(ortNode, bytes, 'cpu', 2, width, height, runs);
      row.nativeMedianS = +median(nat).toFixed(3);
    }
    console.log(JSON.stringify(row));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
