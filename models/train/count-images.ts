/**
 * Writes the e2e count images (e2e/synthetic.ts COUNT_IMAGES: clean synthetic micrographs whose particle
 * counts the app must get within 5 %) and their true counts to OUTDIR, for tune_cli.py.
 *
 *   npx tsx models/train/count-images.ts OUTDIR     -> OUTDIR/<name>.png, OUTDIR/truth.json {name: count}
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { COUNT_IMAGES } from '../../e2e/synthetic';

const out = process.argv[2];
if (!out) {
  console.error('usage: npx tsx models/train/count-images.ts OUTDIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const truth: Record<string, number> = {};
for (const f of COUNT_IMAGES()) {
  writeFileSync(path.join(out, f.name), f.buffer);
  truth[f.name] = f.truth;
}
writeFileSync(path.join(out, 'truth.json'), JSON.stringify(truth, null, 1) + '\n');
