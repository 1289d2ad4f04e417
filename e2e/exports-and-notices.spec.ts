/**
 * Small things a new user meets: downloads named after what they hold, no retry offered where the file itself
 * is the problem, and the "ready to work offline" notice never covering the image's notes line.
 */
import { addFiles, downloadText, expect, openApp, row, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

test('a text file is refused with its reason and no retry; the CSVs are named by image and by batch', async ({
  page,
}) => {
  await openApp(page);
  await addFiles(page, [
    synthPng('grains.png', { seed: 51, modality: 'sem' }),
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('sample 12, 20 kV, spot 3\n') },
  ]);
  await waitSettled(page, 2);
  await expect(row(page, 'notes.txt')).toHaveAttribute('data-status', 'error');
  await expect(row(page, 'notes.txt').getByTestId('row-error')).toContainText('not an image');
  await expect(row(page, 'notes.txt').getByRole('button', { name: /Retry/ })).toHaveCount(0);
  await expect(row(page, 'notes.txt').getByRole('button', { name: /Remove/ })).toHaveCount(1);

  await row(page, 'grains.png').click();
  await page.getByTestId('tab-export').click();
  const one = await downloadText(page, () => page.getByTestId('export-particles-one').click());
  expect(one.name).toBe('grains-particles.csv');
  const all = await downloadText(page, () => page.getByTestId('export-particles').click());
  expect(all.name).toBe('grains-particles.csv');
  await addFiles(page, [synthPng('grains-2.png', { seed: 52, modality: 'sem' })]);
  await waitSettled(page, 3);
  const batch = await downloadText(page, () => page.getByTestId('export-particles').click());
  expect(batch.name).toBe('batch-2-images-particles.csv');
  const summary = await downloadText(page, () => page.getByTestId('export-summary').click());
  expect(summary.name).toBe('batch-2-images-summary.csv');
});

test('the "ready to work offline" notice leaves the notes line under the image in view', async ({ page }) => {
  await openApp(page);
  await addFiles(page, [synthPng('no-scale.png', { seed: 53, modality: 'tem' })]);
  await waitSettled(page, 1);
  const notes = page.getByRole('list', { name: 'Notes on this image' });
  await expect(notes).toBeVisible();
  const banner = page.getByTestId('offline-ready');
  await expect(banner).toBeVisible({ timeout: 90_000 });
  const a = (await notes.boundingBox())!;
  const b = (await banner.boundingBox())!;
  const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  expect(overlap, `notes ${JSON.stringify(a)}, notice ${JSON.stringify(b)}`).toBe(false);
  // Nothing is drawn over the notes line: what is at its first line's middle is the line itself.
  const hit = await page.evaluate(
    ([x, y]) => document.elementFromPoint(x, y)?.closest('ul')?.getAttribute('aria-label') ?? null,
    [a.x + 40, a.y + a.height / 2],
  );
  expect(hit).toBe('Notes on this image');
});
