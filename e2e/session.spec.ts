/** A session file re-opens the batch with its settings, calibrations and mask edits, even after "clear data". */
import { writeFile } from 'node:fs/promises';
import {
  addFiles,
  analysesRun,
  downloadText,
  expect,
  openApp,
  row,
  rowCount,
  test,
  waitSettled,
} from './fixtures';
import { parseCsvRecords } from '../src/core/export/csv';
import { synthPng } from './synthetic';
import { clickable, toScreen } from './view';

test('save a session, clear everything, open the session: same settings, edits and counts', async ({
  page,
}, testInfo) => {
  const a = synthPng('session-a.png', { seed: 61 });
  const b = synthPng('session-b.png', { seed: 62, modality: 'tem' });
  await openApp(page);
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('min-area').fill('25');
  await page.getByTestId('min-area').press('Tab');
  await addFiles(page, [a, b]);
  await waitSettled(page, 2);
  const countB = await rowCount(page, b.name);

  // Delete one particle of image a.
  await row(page, a.name).click();
  await page.getByTestId('tab-export').click();
  const csv = parseCsvRecords(
    (await downloadText(page, () => page.getByTestId('export-particles-one').click())).text,
  );
  const target = clickable(csv);
  const before = await rowCount(page, a.name);
  const p = await toScreen(page, Number(target.x) + 0.5, Number(target.y) + 0.5);
  await page.getByTestId('tool-delete').click();
  await page.mouse.click(p.x, p.y);
  await expect(row(page, a.name)).toHaveAttribute('data-count', String(before - 1));

  const session = await downloadText(page, () => page.getByTestId('export-session').click());
  const json = JSON.parse(session.text);
  expect(json.format).toBe('saemi-session');
  expect(json.options.minAreaPx).toBe(25);
  const file = testInfo.outputPath('session.json');
  await writeFile(file, session.text);

  await page.getByTestId('tab-settings').click();
  page.once('dialog', (d) => void d.accept());
  await page.getByTestId('clear-data').click();
  await expect(page.getByTestId('batch-row')).toHaveCount(0);
  await page.getByTestId('min-area').fill('10');
  await page.getByTestId('min-area').press('Tab');

  const runs = await analysesRun(page);
  await page.setInputFiles('[data-testid=session-input]', file);
  await waitSettled(page, 2);
  await expect(row(page, a.name)).toHaveAttribute('data-count', String(before - 1));
  expect(await rowCount(page, b.name)).toBe(countB);
  await expect(page.getByTestId('min-area')).toHaveValue('25');
  // The cache was cleared, so both embedded images were analysed again; the edit came from the file.
  expect(await analysesRun(page)).toBe(runs + 2);
});
