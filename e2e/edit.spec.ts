/** Mask editing: deleting a particle updates the count, the table and the CSV; undo brings it back. */
import { addFiles, exportedParticles, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';
import { deleteClickable } from './view';

test('deleting a particle lowers the count by one and the CSV follows; undo and reload keep it right', async ({
  page,
}) => {
  const img = synthPng('edit-me.png', { seed: 55 });
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  const before = await rowCount(page, img.name);

  const csv1 = await exportedParticles(page);
  expect(csv1.length).toBe(before);
  const target = await deleteClickable(page, csv1);
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before - 1));
  await page.getByTestId('tab-results').click();
  await expect(page.getByTestId('particles-count')).toContainText(`${before - 1} included`);
  const csv2 = await exportedParticles(page);
  expect(csv2.length).toBe(before - 1);
  // The deleted particle's centroid is gone from the table; every other particle is still there.
  const key = (r: Record<string, string>) => `${r.x},${r.y},${r.area}`;
  const left = new Set(csv2.map(key));
  expect(left.has(key(target))).toBe(false);
  expect(csv1.filter((r) => !left.has(key(r)))).toHaveLength(1);

  // Edits survive a reload (kept in IndexedDB), without analysing again.
  await page.reload();
  await openApp(page);
  await waitSettled(page, 1);
  expect(await rowCount(page, img.name)).toBe(before - 1);

  // The undo history belongs to the visit; the edited state itself is what persists.
  await expect(page.getByTestId('undo')).toBeDisabled();
});

test('undo and redo of a delete; undone to the original, the image is no longer marked edited', async ({
  page,
}) => {
  const img = synthPng('undo-me.png', { seed: 56, modality: 'tem' });
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  const before = await rowCount(page, img.name);
  const csv = await exportedParticles(page);
  await deleteClickable(page, csv);
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before - 1));
  await expect(row(page, img.name)).toContainText('edited');
  await page.keyboard.press('Control+z');
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before));
  await expect(row(page, img.name)).not.toContainText('edited');
  await page.keyboard.press('Control+Shift+z');
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before - 1));
  await expect(row(page, img.name)).toContainText('edited');
  await page.keyboard.press('Control+z');
  await expect(row(page, img.name)).not.toContainText('edited');
  // Undone to the original, a reload restores the original result, not a saved edit (the batch is saved at
  // most 150 ms after a change).
  await page.waitForTimeout(500);
  await page.reload();
  await openApp(page);
  await waitSettled(page, 1);
  expect(await rowCount(page, img.name)).toBe(before);
  await expect(row(page, img.name)).not.toContainText('edited');
});
