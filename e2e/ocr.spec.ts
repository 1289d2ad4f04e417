/**
 * Calibration from the image itself: a bright-field TEM image whose only calibration is a black scale bar with
 * "100.0nm" in a real font (DejaVu Sans, rendered from Debian's package) to its right is calibrated by the OCR'd
 * label; "apply to all images" leaves an image whose file metadata gives the pixel size alone.
 */
import { encode } from 'fast-png';
import { parseCsvRecords } from '../src/core/export/csv';
import { makeScene } from '../tests/calibrate-scene';
import { encodeGreyTiff } from '../tests/calibrate-tiff';
import { addFiles, downloadText, expect, openApp, row, test, waitSettled, type FileSpec } from './fixtures';
import { synthPng } from './synthetic';
import { dragInImage } from './view';

function temWithBar(name: string, lengthPx: number): FileSpec {
  const s = makeScene({
    seed: 3,
    width: 640,
    height: 480,
    noise: 5,
    tem: true,
    radius: [8, 14],
    bar: {
      lengthPx,
      thickness: 5,
      polarity: 'black',
      labelPos: 'right',
      label: '100.0nm',
      font: { name: 'DejaVuSans', size: 24 },
      x: 40,
      y: 440,
    },
  });
  const png = encode({ width: 640, height: 480, data: s.raster.data as Uint8Array, channels: 1, depth: 8 });
  return { name, mimeType: 'image/png', buffer: Buffer.from(png) };
}

test('a TEM image calibrated only by its scale bar: the label is read by OCR and the CSV is in nm', async ({
  page,
}) => {
  const img = temWithBar('tem-bar.png', 200);
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  await page.getByTestId('batch-row').click();
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'scale-bar');
  await page.getByTestId('tab-calibration').click();
  const bar = page.getByTestId('cal-scalebar');
  await expect(bar).toHaveAttribute('data-value', '100');
  await expect(bar).toHaveAttribute('data-length', '200');
  await expect(bar).toContainText('"100.0 nm"');
  // SAEMI's label network loaded in the worker and read the label (alone when it is sure, else beside the engine;
  // a load failure would leave the engine alone: "by OCR").
  await expect(bar).toContainText(/by (OCR and )?the label network/);

  await page.getByTestId('tab-export').click();
  const summary = parseCsvRecords(
    (await downloadText(page, () => page.getByTestId('export-summary').click())).text,
  ).find((r) => r.image === img.name)!;
  expect(summary.pixel_size_source).toBe('scale-bar');
  expect(summary.unit).toBe('nm');
  expect(Number(summary.pixel_size)).toBeCloseTo(0.5, 6);
  const particles = parseCsvRecords(
    (await downloadText(page, () => page.getByTestId('export-particles').click())).text,
  );
  expect(particles.length).toBeGreaterThan(5);
  expect(new Set(particles.map((r) => r.unit))).toEqual(new Set(['nm']));
});

test('the label readers load in a worker of their own while the app waits for files', async ({ page }) => {
  await openApp(page);
  // No file added: the label worker and tesseract.js's engine worker (its script is worker.min.js) are started
  // anyway, so the first image with a scale bar does not wait for them.
  const urls = (): string =>
    page
      .workers()
      .map((w) => w.url())
      .join(' ');
  await expect.poll(urls, { timeout: 20_000 }).toMatch(/label\.worker[^ ]*\.js/);
  await expect.poll(urls, { timeout: 20_000 }).toMatch(/worker\.min[^ ]*\.js/);
});

test('"apply to all images" leaves an image calibrated by its metadata alone and says so', async ({
  page,
}) => {
  const plain = synthPng('plain.png', { seed: 21 });
  const scene = makeScene({ seed: 22, width: 320, height: 240 });
  const zeiss = 'AP_PIXEL_SIZE\r\nImage Pixel Size = 7.344 nm\r\nAP_MAG\r\nMag = 50.00 K X\r\n';
  const tif: FileSpec = {
    name: 'zeiss.tif',
    mimeType: 'image/tiff',
    buffer: Buffer.from(
      encodeGreyTiff(320, 240, scene.raster.data as Uint8Array, [
        { tag: 34118, type: 'ascii', value: zeiss },
      ]),
    ),
  };
  await openApp(page);
  await addFiles(page, [plain, tif]);
  await waitSettled(page, 2);

  await row(page, 'plain.png').click();
  await page.getByTestId('tab-calibration').click();
  await page.getByTestId('cal-draw').click();
  await dragInImage(page, [100, 200], [400, 200]);
  await expect(page.getByTestId('cal-line')).toHaveAttribute('data-length', /\d/);
  await page.getByTestId('cal-length').fill('600');
  await page.getByTestId('cal-apply-batch').click();
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'manual');
  // The panel leaves drawing mode once the calibration is applied.
  await expect(page.getByTestId('cal-draw')).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('cal-batch-report')).toContainText(
    'Kept the metadata pixel size of zeiss.tif',
  );

  await row(page, 'zeiss.tif').click();
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'metadata');
  await expect(page.getByTestId('cal-source')).toContainText('7.344 nm/px');
  // The line drawn on the other image is not offered on this one.
  await expect(page.getByTestId('cal-line')).toHaveAttribute('data-length', '');

  // Asked to, the batch pixel size replaces the metadata one too.
  await row(page, 'plain.png').click();
  await page.getByTestId('cal-batch-over-metadata').check();
  await page.getByTestId('cal-apply-batch').click();
  await expect(page.getByTestId('cal-batch-report')).not.toContainText('Kept');
  await row(page, 'zeiss.tif').click();
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'manual');
});
