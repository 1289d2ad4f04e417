/**
 * Scale-bar label reading on real crops: ../shared/data/scalebar_ocr (252 journal-figure labels with their text).
 * Not a test (the data is not part of the project); run with `npx tsx bench/real-ocr.ts [--list]`.
 * A crop counts as read exactly when its parsed value and unit equal those of the true text (a true text that
 * does not parse as a label counts as read when the reader also returns nothing).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';
import { parseScaleLabel } from '../src/core/calibrate/ocr';
import { readLabelCrop, stretchCrop } from '../src/core/calibrate/label-ocr';
import { nodeRecognizer } from '../src/cli/ocr-engine';

const dir = path.resolve(import.meta.dirname, '../../shared/data/scalebar_ocr');
if (!existsSync(dir)) {
  console.log(JSON.stringify({ bench: 'real-ocr', skipped: 'no ../shared/data/scalebar_ocr' }));
  process.exit(0);
}
const list = process.argv.includes('--list');
const rows = readFileSync(path.join(dir, 'labels.csv'), 'utf8')
  .split(/\r?\n/)
  .slice(1)
  .filter(Boolean)
  .map((l) => {
    const i = l.indexOf(',');
    return [l.slice(0, i), l.slice(i + 1)] as const;
  });
// --no-net: the OCR engine alone, without SAEMI's label network.
const withNet = !process.argv.includes('--no-net');
const rec = nodeRecognizer({ labelNet: withNet });
let calls = 0;
const counted = {
  labelReader: rec.labelReader,
  recognizeLine: (v: Parameters<typeof rec.recognizeLine>[0]) => {
    calls++;
    return rec.recognizeLine(v);
  },
};
let ok = 0;
// The views were chosen on the even half (by crop name); the odd half is the hold-out.
const half = [0, 0];
const halfOf = new Map([...rows].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([c], i) => [c, i % 2]));
const t0 = performance.now();
for (const [crop, text] of rows) {
  const png = decode(readFileSync(path.join(dir, 'crops', crop)));
  const ch = png.channels;
  const grey = new Float32Array(png.width * png.height);
  for (let i = 0; i < grey.length; i++) {
    let s = 0;
    const n = Math.min(ch, 3);
    for (let c = 0; c < n; c++) s += png.data[i * ch + c]!;
    grey[i] = s / n;
  }
  const img = stretchCrop(
    { width: png.width, height: png.height, data: grey },
    { x0: 0, y0: 0, x1: png.width, y1: png.height },
  );
  const got = await readLabelCrop(counted, img);
  const want = parseScaleLabel(text);
  const good =
    want === null ? got === null : got !== null && got.unit === want.unit && got.value === want.value;
  if (good) {
    ok++;
    half[halfOf.get(crop)!]!++;
  }
  if (list && !good)
    console.log(`${crop}\t${JSON.stringify(text)}\t${got ? `${got.value} ${got.unit} (${got.raw})` : '-'}`);
}
const ms = performance.now() - t0;
console.log(
  JSON.stringify({
    bench: 'real-ocr',
    labelNet: withNet,
    read: ok,
    of: rows.length,
    rate: +(ok / rows.length).toFixed(3),
    tuneHalf: `${half[0]}/${Math.ceil(rows.length / 2)}`,
    holdOutHalf: `${half[1]}/${Math.floor(rows.length / 2)}`,
    msPerCrop: +(ms / rows.length).toFixed(1),
    engineCallsPerCrop: +(calls / rows.length).toFixed(2),
    engineLoadMs: rec.loadMs && Math.round(rec.loadMs),
  }),
);
await rec.dispose();
