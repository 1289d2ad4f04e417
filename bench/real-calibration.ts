/**
 * Calibration on real micrographs: ../shared/data/semseg_sem (42 JEOL SEM images whose banner row, scale-bar label
 * and bar length were read by hand). Prints, per image and in total: banner row found, bar length, label read and
 * pixel size against `nm_per_px_from_bar` (within 3 % counts). Not a test (the data is not part of the project);
 * run with `npx tsx bench/real-calibration.ts [--list]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeImage } from '../src/core/decode/index';
import { toGrey } from '../src/core/normalise';
import { calibrate } from '../src/core/calibrate/index';
import { readBarLabel } from '../src/core/calibrate/read-bar-label';
import { nodeRecognizer } from '../src/cli/ocr-engine';

const dir = path.resolve(import.meta.dirname, '../../shared/data/semseg_sem');
if (!existsSync(dir)) {
  console.log(JSON.stringify({ bench: 'real-calibration', skipped: 'no ../shared/data/semseg_sem' }));
  process.exit(0);
}
const list = process.argv.includes('--list');
const rows = readFileSync(path.join(dir, 'metadata.csv'), 'utf8')
  .split(/\r?\n/)
  .slice(1)
  .filter(Boolean)
  .map((l) => l.split(','));
// --no-net: the OCR engine alone, without SAEMI's label network.
const rec = nodeRecognizer({ labelNet: !process.argv.includes('--no-net') });
let banner = 0;
let barLen = 0;
let pixel = 0;
let ms = 0;
for (const r of rows) {
  const [id, , , bannerRow, , label, lenPx, nmPerPx] = r as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const decoded = decodeImage(new Uint8Array(readFileSync(path.join(dir, 'images', `${id}.png`))), id);
  const grey = toGrey(decoded.raster);
  const t0 = performance.now();
  const first = calibrate({ decoded, grey, options: { banner: 'auto', pixelSizeOverride: null } });
  const cal = await readBarLabel(grey, first, rec);
  ms += performance.now() - t0;
  const row = cal.excluded[0]?.y0;
  const okBanner = row === Number(bannerRow);
  const okLen = cal.scaleBar !== undefined && Math.abs(cal.scaleBar.lengthPx - Number(lenPx)) <= 1;
  const c = cal.calibration;
  const nm = c.pixelSize === null ? null : c.unit === 'um' ? c.pixelSize * 1000 : c.pixelSize;
  const okPx = nm !== null && Math.abs(nm / Number(nmPerPx) - 1) <= 0.03;
  banner += okBanner ? 1 : 0;
  barLen += okLen ? 1 : 0;
  pixel += okPx ? 1 : 0;
  if (list && !(okBanner && okLen && okPx))
    console.log(
      `${id}\tbanner ${row} (${bannerRow})\tbar ${cal.scaleBar?.lengthPx} (${lenPx})\t"${cal.scaleBar?.text ?? ''}" (${label})\t${nm?.toFixed(3)} nm/px (${nmPerPx})`,
    );
}
console.log(
  JSON.stringify({
    bench: 'real-calibration',
    images: rows.length,
    bannerRow: banner,
    barLengthPm1: barLen,
    pixelSizeWithin3pc: pixel,
    msPerImage: Math.round(ms / rows.length),
    engineLoadMs: rec.loadMs && Math.round(rec.loadMs),
  }),
);
await rec.dispose();
