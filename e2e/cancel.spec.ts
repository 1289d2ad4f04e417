/** Cancelling the image being analysed replaces the worker; the rest of the batch still finishes. */
import { addFiles, expect, openApp, row, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

test('cancel the running analysis: its row says so, the next image is analysed, retry works', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const big = synthPng('large.png', { seed: 5, width: 2048, height: 1536, medianDiameter: 40 });
  const small = synthPng('small.png', { seed: 6, modality: 'tem' });
  await openApp(page);
  await addFiles(page, [big, small]);
  await expect(row(page, 'large.png')).toHaveAttribute('data-status', 'analysing');
  await row(page, 'large.png').getByRole('button', { name: 'Cancel large.png' }).click();
  await expect(row(page, 'large.png')).toHaveAttribute('data-status', 'error');
  await expect(row(page, 'large.png').getByTestId('row-error')).toHaveText('cancelled');
  await waitSettled(page, 2);
  await expect(row(page, 'small.png')).toHaveAttribute('data-status', 'done');
  // The replacement worker has the same backend and model as the first.
  await expect(page.getByTestId('backend')).toHaveAttribute('data-ready', 'true');

  await row(page, 'large.png').getByRole('button', { name: 'Retry large.png' }).click();
  await waitSettled(page, 2, 200_000);
  await expect(row(page, 'large.png')).toHaveAttribute('data-status', 'done');
});
