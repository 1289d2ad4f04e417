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

test('the "ready to work offline" notice takes its own room beside the image, never over it or its notes', async ({
  page,
}) => {
  await openApp(page);
  await addFiles(page, [synthPng('no-scale.png', { seed: 53, modality: 'tem' })]);
  // The notice shows when precaching ends (before or after the analysis) and leaves by itself after 8 s.
  const banner = page.getByTestId('offline-ready');
  await expect(banner).toBeVisible({ timeout: 90_000 });
  const b = (await banner.boundingBox())!;
  const overlaps = (a: typeof b) =>
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  // Beside them, not over them: the image with its notes line, and the results.
  for (const label of ['Image view', 'Results and settings']) {
    const a = (await page.getByLabel(label, { exact: true }).boundingBox())!;
    expect(overlaps(a), `${label} ${JSON.stringify(a)}, notice ${JSON.stringify(b)}`).toBe(false);
  }
  // And nothing lies over the notice itself.
  const hit = await page.evaluate(
    ([x, y]) => document.elementFromPoint(x, y)?.closest('[data-testid=offline-ready]') !== null,
    [b.x + b.width / 2, b.y + b.height / 2],
  );
  expect(hit).toBe(true);
  await waitSettled(page, 1);
  const notes = page.getByRole('list', { name: 'Notes on this image' });
  await expect(notes).toBeVisible();
  if (await banner.isVisible()) expect(overlaps((await notes.boundingBox())!)).toBe(false);
});
