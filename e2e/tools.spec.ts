/** The merge, brush and split tools as a user meets them: clicks, a stroke and a line change the count. */
import { addFiles, exportedParticles, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';
import { dragInImage, toScreen } from './view';

test('merging two particles lowers the count by one; a brush stroke on background or a split line adds one', async ({
  page,
}) => {
  const img = synthPng('tools.png', { seed: 77 });
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  const before = await rowCount(page, img.name);

  const csv = await exportedParticles(page);
  const compact = csv
    .filter((r) => r.touches_edge === '0' && Number(r.solidity) > 0.9 && Number(r.area) > 30)
    .sort((a, b) => Number(b.area) - Number(a.area));
  expect(compact.length).toBeGreaterThanOrEqual(2);
  const [a, b] = compact;

  await page.getByTestId('tool-merge').click();
  for (const p of [a, b]) {
    const s = await toScreen(page, Number(p.x) + 0.5, Number(p.y) + 0.5);
    await page.mouse.click(s.x, s.y);
  }
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before - 1));
  await page.getByTestId('undo').click();
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before));

  // A short stroke where no particle comes near (every particle lies within feret_max of its centroid).
  let best = { x: 0, y: 0, clear: -Infinity };
  for (let y = 30; y <= 450; y += 10) {
    for (let x = 30; x <= 610; x += 10) {
      const clear = Math.min(
        ...csv.map((r) => Math.hypot(Number(r.x) - x, Number(r.y) - y) - Number(r.feret_max)),
      );
      if (clear > best.clear) best = { x, y, clear };
    }
  }
  // The stroke reaches 4 + 6 (the default brush radius) px from the point.
  expect(best.clear).toBeGreaterThan(12);
  await page.getByTestId('tool-brush').click();
  await dragInImage(page, [best.x - 4, best.y], [best.x + 4, best.y]);
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before + 1));
  await page.getByTestId('undo').click();
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before));

  // A line through the largest compact particle, just past its sides, cuts it in two.
  const r = Number(a.feret_max) / 2 + 3;
  await page.getByTestId('tool-split').click();
  await dragInImage(
    page,
    [Number(a.x) + 0.5 - r, Number(a.y) + 0.5],
    [Number(a.x) + 0.5 + r, Number(a.y) + 0.5],
  );
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(before + 1));
});
