/**
 * A batch mixing a calibrated image (nm) and an uncalibrated one (px): the app pools the nm image alone, and
 * summary.csv's pooled row says the same n and size statistics, with a note naming the image left out.
 */
import { parseCsvRecords } from '../src/core/export/csv';
import { addFiles, downloadText, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';
import { dragInImage } from './view';

test("summary.csv's pooled row matches the app's pooled statistics when px and nm images mix", async ({
  page,
}) => {
  await openApp(page);
  const nm = synthPng('calibrated.png', { seed: 31, modality: 'sem' });
  const px = synthPng('uncalibrated.png', { seed: 32, modality: 'tem' });
  await addFiles(page, [nm, px]);
  await waitSettled(page, 2);

  // Calibrate the first image by hand: 300 px = 600 nm.
  await row(page, nm.name).click();
  await page.getByTestId('tab-calibration').click();
  await page.getByTestId('cal-draw').click();
  await dragInImage(page, [100, 200], [400, 200]);
  await page.getByTestId('cal-length').fill('600');
  await page.getByTestId('cal-unit').selectOption('nm');
  await page.getByTestId('cal-apply-image').click();
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'manual');

  await page.getByTestId('tab-results').click();
  await page.getByTestId('scope-pooled').check();
  const n = await rowCount(page, nm.name);
  await expect(page.getByTestId('stat-count')).toHaveText(String(n));
  await expect(page.getByText(/Not included .*uncalibrated\.png/)).toBeVisible();
  const median = await page.getByTestId('stat-median').textContent();

  await page.getByTestId('tab-export').click();
  const recs = parseCsvRecords(
    (await downloadText(page, () => page.getByTestId('export-summary').click())).text,
  );
  const pooled = recs.find((r) => r.image === '*')!;
  expect(Number(pooled.count)).toBe(n);
  expect(pooled.unit).toBe('nm');
  expect(pooled.pixel_size_source).toBe('manual');
  expect(pooled.note).toBe(
    '1 of 2 images left out (no pixel size; px cannot be pooled with nm): uncalibrated.png',
  );
  // The app shows 4 significant digits of the same median.
  expect(Number(pooled.median_ecd).toPrecision(4)).toBe(Number.parseFloat(median!).toPrecision(4));
});
