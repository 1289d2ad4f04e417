/** Results live in IndexedDB: a reload shows the same batch and counts without running the analysis again. */
import { addFiles, analysesRun, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

test('a page reload restores the batch from IndexedDB without re-analysing', async ({ page }) => {
  const imgs = [
    synthPng('cache-1.png', { seed: 41, modality: 'tem' }),
    synthPng('cache-2.png', { seed: 42 }),
  ];
  await openApp(page);
  await addFiles(page, imgs);
  await waitSettled(page, 2);
  expect(await analysesRun(page)).toBe(2);
  const before = [await rowCount(page, 'cache-1.png'), await rowCount(page, 'cache-2.png')];

  await page.reload();
  await openApp(page);
  await waitSettled(page, 2);
  expect([await rowCount(page, 'cache-1.png'), await rowCount(page, 'cache-2.png')]).toEqual(before);
  // The restored image is drawn (bitmap from the cached preview) and still no analysis ran.
  await row(page, 'cache-2.png').click();
  await expect(page.getByTestId('image-canvas')).toBeVisible();
  await expect(page.getByTestId('particles-count')).toContainText(String(before[1]));
  expect(await analysesRun(page)).toBe(0);

  // The same bytes again are already in the batch (no second row); removed and added again, a cache hit.
  await addFiles(page, [imgs[0]]);
  await expect(page.getByRole('status').filter({ hasText: 'already in the batch' })).toBeVisible();
  await waitSettled(page, 2);
  await row(page, 'cache-1.png').getByRole('button', { name: 'Remove cache-1.png from the batch' }).click();
  await waitSettled(page, 1);
  await addFiles(page, [imgs[0]]);
  await waitSettled(page, 2);
  expect(await analysesRun(page)).toBe(0);

  // "Clear data" empties the cache: after it, the same image is analysed again.
  await page.getByTestId('tab-settings').click();
  page.once('dialog', (d) => void d.accept());
  await page.getByTestId('clear-data').click();
  await expect(page.getByTestId('batch-row')).toHaveCount(0);
  await addFiles(page, [imgs[0]]);
  await waitSettled(page, 1);
  expect(await analysesRun(page)).toBe(1);
});
