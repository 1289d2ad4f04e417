/** One broken file never stops a batch: its row says why, the others finish. */
import { addFiles, expect, openApp, row, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

test('a non-image file and a truncated PNG show their errors while the other images finish', async ({
  page,
}) => {
  const good1 = synthPng('good-1.png', { seed: 7 });
  const good2 = synthPng('good-2.png', { seed: 8, modality: 'tem' });
  const truncated = { name: 'cut.png', mimeType: 'image/png', buffer: good1.buffer.subarray(0, 2000) };
  const text = {
    name: 'notes.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4\n% not an image\n'),
  };
  await openApp(page);
  await addFiles(page, [good1, text, truncated, good2]);
  await waitSettled(page, 4);

  await expect(row(page, 'good-1.png')).toHaveAttribute('data-status', 'done');
  await expect(row(page, 'good-2.png')).toHaveAttribute('data-status', 'done');
  await expect(row(page, 'notes.pdf')).toHaveAttribute('data-status', 'error');
  await expect(row(page, 'notes.pdf').getByTestId('row-error')).toContainText(/not an image/i);
  await expect(row(page, 'cut.png')).toHaveAttribute('data-status', 'error');
  await expect(row(page, 'cut.png').getByTestId('row-error')).toContainText(/truncated|incomplete|corrupt/i);

  // Selecting a failed row shows the reason in the main view too.
  await row(page, 'cut.png').click();
  await expect(page.getByTestId('empty-error')).toBeVisible();
});
