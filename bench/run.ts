/**
 * `npm run bench`: every benchmark, one JSON object per line on stdout.
 * (a) labelling + measuring a 4096x4096 mask (bench/label-measure.ts), (b) the whole pipeline on 1024x768 with
 * the bundled model, WASM 1 and 2 threads, native, and WASM 2 threads "thorough" (bench/pipeline.ts), (c) 8192x8192 through tiling with
 * peak memory (bench/tiling.ts), (d) the network alone, fp32 against the sidecar's int8 variant, WASM 1 and 2
 * threads and native (bench/int8.ts). Extra arguments go to (b), (c) and (d), e.g. --model PATH.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const print = (o: object): void => console.log(JSON.stringify(o));

if (existsSync(path.join(HERE, 'label-measure.ts'))) {
  const lm = (await import('./label-measure')) as { run: () => object | object[] };
  const r = lm.run();
  for (const o of Array.isArray(r) ? r : [r]) print(o);
}
const pipeline = await import('./pipeline');
for (const o of pipeline.run(argv)) print(o);
const tiling = await import('./tiling');
print(tiling.run(argv));
const int8 = await import('./int8');
for (const o of int8.runVariants(argv)) print(o);
