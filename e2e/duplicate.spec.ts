/**
 * The same content added twice (the same file again, or a copy under another name) stays one row, is
 * analysed once and counted once in the pooled statistics; the user is told it is already in the batch.
 */
import { parseCsv } from '../src/core/export/csv';
import {
  addFiles,
  analysesRun,
  downloadText,
  expect,
  openApp,
  rowCount,
  test,
  waitSettled,
} from './fixtures';
import { synthPng } from './synthetic';

test('a file added twice, or a copy of it under another name, is already in the batch', async ({ page }) => {
  await openApp(page);
  const a = synthPng('a.png', { seed: 61, modality: 'sem' });
  const b = synthPng('b.png', { seed: 62, modality: 'sem' });
  await addFiles(page, [a]);
  await waitSettled(page, 1);
  const count = await rowCount(page, 'a.png');

  await addFiles(page, [a]);
  await expect(page.getByRole('status').filter({ hasText: 'a.png is already in the batch' })).toBeVisible();
  await addFiles(page, [{ ...a, name: 'a-copy.png' }]);
  await expect(
    page.getByRole('status').filter({ hasText: 'a-copy.png is already in the batch as a.png' }),
  ).toBeVisible();
  // Two copies in one drop: the first stays.
  await addFiles(page, [b, { ...b, name: 'b-again.png' }]);
  await waitSettled(page, 2);
  await expect(page.getByTestId('batch-row')).toHaveCount(2);
  expect(await analysesRun(page)).toBe(2);

  await page.getByTestId('tab-export').click();
  const summary = await downloadText(page, () => page.getByTestId('export-summary').click());
  const rows = parseCsv(summary.text.trimEnd());
  expect(rows.map((r) => r[0])).toEqual(['image', 'a.png', 'b.png', '*']);
  expect(Number(rows[3][6])).toBe(count + (await rowCount(page, 'b.png')));
});
