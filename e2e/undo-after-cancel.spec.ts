/**
 * Cancelling an analysis replaces the compute worker; the edit history of images already analysed lives
 * elsewhere and must survive it: undo and redo still step through the edits made before the cancel.
 */
import { addFiles, exportedParticles, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';
import { deleteClickable } from './view';

test('edits made before a cancel can still be undone and redone after it', async ({ page }) => {
  test.setTimeout(240_000);
  const img = synthPng('keep-history.png', { seed: 57, modality: 'tem' });
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  const before = await rowCount(page, img.name);

  const csv = await exportedParticles(page);
  await deleteClickable(page, csv);
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before - 1));
  await expect(page.getByTestId('undo')).toBeEnabled();

  // A large image is added and cancelled while in the network: the compute worker is terminated.
  const big = synthPng('cancel-me.png', { seed: 58, width: 2048, height: 1536, medianDiameter: 40 });
  await addFiles(page, [big]);
  await expect(row(page, big.name)).toHaveAttribute('data-status', 'analysing');
  await row(page, big.name)
    .getByRole('button', { name: `Cancel ${big.name}` })
    .click();
  await expect(row(page, big.name).getByTestId('row-error')).toHaveText('cancelled');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-ready', 'true');

  // Back on the edited image: its history is intact.
  await row(page, img.name).click();
  await expect(page.getByTestId('undo')).toBeEnabled();
  await page.getByTestId('undo').click();
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before));
  await expect(row(page, img.name)).not.toContainText('edited');
  await expect(page.getByTestId('redo')).toBeEnabled();
  await page.getByTestId('redo').click();
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before - 1));
  await expect(row(page, img.name)).toContainText('edited');
  // And the analysis itself was not repeated: one inference for the kept image, one cancelled.
  expect(
    await page.evaluate(() => (window as unknown as { __saemi: { analyses: number } }).__saemi.analyses),
  ).toBe(2);
});
