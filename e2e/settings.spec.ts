/**
 * Settings: measurement options (minimum area) apply at once by re-measuring, without inference;
 * segmentation options (method) mark results stale until the user re-analyses.
 */
import { addFiles, analysesRun, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

test('minimum area re-measures at once; a method change marks results stale and re-analyses', async ({
  page,
}) => {
  const img = synthPng('settings.png', { seed: 31, sizeSigma: 0.6, medianDiameter: 14 });
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  const before = await rowCount(page, img.name);
  const runs = await analysesRun(page);

  await page.getByTestId('tab-settings').click();
  await page.getByTestId('min-area').fill('400');
  await page.getByTestId('min-area').press('Tab');
  await expect
    .poll(() => rowCount(page, img.name), { message: 'fewer particles above 400 px' })
    .toBeLessThan(before);
  expect(await analysesRun(page)).toBe(runs);
  await page.getByTestId('min-area').fill('10');
  await page.getByTestId('min-area').press('Tab');
  await expect.poll(() => rowCount(page, img.name)).toBe(before);

  const other = (await page.getByTestId('method').inputValue()) === 'model' ? 'threshold' : 'model';
  await page.getByTestId('method').selectOption(other);
  await expect(page.getByTestId('reanalyse')).toBeVisible();
  await page.getByTestId('reanalyse').click();
  await waitSettled(page, 1);
  await expect(row(page, img.name)).toHaveAttribute('data-status', 'done');
  await expect(page.getByTestId('reanalyse')).toHaveCount(0);
  expect(await analysesRun(page)).toBe(runs + 1);
});

test('thorough inference (four mirrored views) is a segmentation option: re-analyses, counts stay right', async ({
  page,
}) => {
  const img = synthPng('thorough.png', { seed: 47 });
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  const runs = await analysesRun(page);

  await page.getByTestId('tab-settings').click();
  await expect(page.getByTestId('method')).toHaveValue('model');
  await page.getByTestId('thorough').check();
  await expect(page.getByTestId('reanalyse')).toBeVisible();
  await page.getByTestId('reanalyse').click();
  await waitSettled(page, 1);
  await expect(row(page, img.name)).toHaveAttribute('data-status', 'done');
  expect(await analysesRun(page)).toBe(runs + 1);
  const n = await rowCount(page, img.name);
  expect(Math.abs(n - img.truth) / img.truth, `found ${n}, truth ${img.truth}`).toBeLessThanOrEqual(0.05);
  // the threshold method has no such option
  await page.getByTestId('method').selectOption('threshold');
  await expect(page.getByTestId('thorough')).toHaveCount(0);
});

test('dark pits on bright-particle SEM ground are dropped as ground; mixed contrast keeps them', async ({
  page,
}) => {
  const img = synthPng('pits.png', { seed: 47, modality: 'sem' }, { darkPits: 10 });
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  const one = await rowCount(page, img.name);
  expect(Math.abs(one - img.truth) / img.truth, `found ${one}, truth ${img.truth}`).toBeLessThanOrEqual(0.05);
  await expect(page.getByRole('list', { name: 'Notes on this image' })).toContainText(
    'darker than the surroundings dropped',
  );

  await page.getByTestId('tab-settings').click();
  await page.getByTestId('mixed-contrast').check();
  await page.getByTestId('reanalyse').click();
  await waitSettled(page, 1);
  await expect(row(page, img.name)).toHaveAttribute('data-status', 'done');
  expect(await rowCount(page, img.name)).toBeGreaterThanOrEqual(one + 8);
  await page.getByTestId('method').selectOption('threshold');
  await expect(page.getByTestId('mixed-contrast')).toHaveCount(0);
});
