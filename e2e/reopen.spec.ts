/**
 * Closing the tab in the middle of a batch loses nothing: on reopening, every image that had finished comes
 * back from IndexedDB without being analysed again, and the others are queued and analysed.
 */
import { addFiles, analysesRun, expect, openApp, rowCount, test, waitSettled } from './fixtures';
import { COUNT_IMAGES } from './synthetic';

test('a tab closed mid-batch reopens with the finished images kept and the rest re-queued', async ({
  page,
  context,
}) => {
  const imgs = COUNT_IMAGES();
  await openApp(page);
  await addFiles(page, imgs);
  const doneRows = page.locator('[data-testid=batch-row][data-status=done]');
  await expect(doneRows.first()).toBeVisible({ timeout: 90_000 });
  const finished = await doneRows.evaluateAll((rows) =>
    rows.map((r) => [r.getAttribute('data-name') ?? '', Number(r.getAttribute('data-count'))] as const),
  );
  expect(finished.length).toBeLessThan(imgs.length);
  await page.close();

  const again = await context.newPage();
  await openApp(again);
  await waitSettled(again, imgs.length);
  await expect(again.locator('[data-testid=batch-row][data-status=done]')).toHaveCount(imgs.length);
  for (const [name, count] of finished) expect(await rowCount(again, name)).toBe(count);
  // Only the unfinished images were analysed again (the one interrupted mid-analysis among them).
  const analysed = await analysesRun(again);
  expect(analysed).toBeGreaterThanOrEqual(1);
  expect(analysed).toBeLessThanOrEqual(imgs.length - finished.length);
  // Every image is counted as an uninterrupted batch counts it (analyse.spec.ts: within 5 % of the truth).
  for (const img of imgs) {
    const n = await rowCount(again, img.name);
    expect(Math.abs(n - img.truth) / img.truth, `${img.name}: ${n} of ${img.truth}`).toBeLessThanOrEqual(
      0.05,
    );
  }
});
