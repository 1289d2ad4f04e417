/**
 * A Gatan DM4 opened in the app: the picker offers .dm3/.dm4/.mrc, the micrograph behind the thumbnail is
 * analysed, and its calibration tags and microscope fields show as metadata.
 */
import { dmImageFile, thumbnail } from '../tests/helpers/dm';
import { addFiles, expect, openApp, row, test, waitSettled } from './fixtures';

const W = 256;
const H = 192;

function micrograph(): Uint16Array {
  const px = new Uint16Array(W * H).fill(50000);
  for (let k = 0; k < 6; k++) {
    const cx = 40 + (k % 3) * 85;
    const cy = 50 + Math.floor(k / 3) * 90;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= 18 ** 2) px[y * W + x] = 8000;
  }
  return px;
}

test('a DM4 from a TEM opens with its calibration and instrument fields', async ({ page }) => {
  const bytes = dmImageFile(
    [
      thumbnail(),
      {
        dims: [W, H],
        dataType: 10,
        values: micrograph(),
        calibration: [
          { scale: 0.512, units: 'nm' },
          { scale: 0.512, units: 'nm' },
        ],
        microscope: { name: 'JEM-2100F', voltage: 200000, magnification: 400000 },
      },
    ],
    { version: 4, littleEndian: true },
  );
  await openApp(page);
  await expect(page.getByTestId('file-input')).toHaveAttribute('accept', /\.dm3,\.dm4,\.mrc/);
  await addFiles(page, [
    { name: 'tem.dm4', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) },
  ]);
  await waitSettled(page, 1);
  await expect(row(page, 'tem.dm4')).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'metadata');
  await expect(page.getByTestId('header-calibration')).toContainText('0.512 nm/px');
  await page.getByTestId('tab-calibration').click();
  await expect(page.getByTestId('cal-source')).toContainText('DM4 calibration 0.512 nm/px');
  await expect(page.getByTestId('instrument')).toHaveText('JEM-2100F · Mag 400000 x · 200 kV');
});
