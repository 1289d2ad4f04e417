/**
 * The scale-bar label step on real journal figures: ../shared/data/emps_train/images (366 EMPS micrographs, many
 * with a bar drawn on the micrograph and no metadata). There is no label truth here: it prints how many images
 * got a pixel size from a read label, how many OCR engine calls and label-network reads that took, per half (even
 * and odd images by file name: the no-label gates were chosen on the even half), so a change to the gates can be
 * held against it (reads must stay, calls should fall). `--list` prints each read. Not a test (the data is not
 * part of the project): `npx tsx bench/real-figures-ocr.ts [--list] [--no-net]`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeImage } from '../src/core/decode/index';
import { toGrey } from '../src/core/normalise';
import { calibrate } from '../src/core/calibrate/index';
import { readBarLabel } from '../src/core/calibrate/read-bar-label';
import { nodeRecognizer } from '../src/cli/ocr-engine';
import type { LineRecognizer } from '../src/core/calibrate/label-ocr';

const dir = path.resolve(import.meta.dirname, '../../shared/data/emps_train/images');
if (!existsSync(dir)) {
  console.log(JSON.stringify({ bench: 'real-figures-ocr', skipped: 'no ../shared/data/emps_train' }));
  process.exit(0);
}
const list = process.argv.includes('--list');
const rec = nodeRecognizer({ labelNet: !process.argv.includes('--no-net') });
const tally = { engineCalls: 0, netReads: 0 };
const counted: LineRecognizer = {
  recognizeLine: (img) => {
    tally.engineCalls++;
    return rec.recognizeLine(img);
  },
  labelReader: rec.labelReader && {
    weight: rec.labelReader.weight,
    read: (crop) => {
      tally.netReads++;
      return rec.labelReader!.read(crop);
    },
  },
};
const files = readdirSync(dir)
  .filter((f) => /\.(png|jpe?g|tiff?)$/i.test(f))
  .sort();
const halves = [0, 1].map(() => ({ images: 0, read: 0, engineCalls: 0, netReads: 0, ms: 0 }));
for (const [k, f] of files.entries()) {
  const decoded = decodeImage(new Uint8Array(readFileSync(path.join(dir, f))), f);
  const grey = toGrey(decoded.raster);
  const before = { ...tally };
  const t0 = performance.now();
  const first = calibrate({ decoded, grey, options: { banner: 'auto', pixelSizeOverride: null } });
  const cal = await readBarLabel(grey, first, counted);
  const h = halves[k % 2]!;
  h.ms += performance.now() - t0;
  h.images++;
  h.engineCalls += tally.engineCalls - before.engineCalls;
  h.netReads += tally.netReads - before.netReads;
  if (cal.calibration.source === 'scale-bar') {
    h.read++;
    if (list)
      console.log(
        `${f}\t${cal.scaleBar?.value} ${cal.scaleBar?.unit}\t${cal.scaleBar?.lengthPx} px\t${cal.scaleBar?.readBy}`,
      );
  }
}
const out = (h: (typeof halves)[number]) => ({
  images: h.images,
  read: h.read,
  engineCalls: h.engineCalls,
  netReads: h.netReads,
  msPerImage: Math.round(h.ms / h.images),
});
console.log(
  JSON.stringify({ bench: 'real-figures-ocr', tuneHalf: out(halves[0]!), holdOutHalf: out(halves[1]!) }),
);
await rec.dispose();
