/**
 * "Exclude particles on edges" (ImageJ's "Exclude on edges") is a visible choice where the statistics are. Off
 * by default, as in the CLI (--exclude-edges): the count then says how many included particles touch an edge.
 * On, the statistics, the table, the row's count and particles.csv all leave them out.
 */
import { addFiles, exportedParticles, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

test('exclude particles on edges: visible beside the statistics, default and wording agree, CSV follows', async ({
  page,
}) => {
  await openApp(page);
  const img = synthPng('edges.png', { seed: 41, modality: 'sem', coverage: 0.25 });
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  const all = await rowCount(page, img.name);

  const before = await exportedParticles(page);
  const onEdge = before.filter((r) => r.touches_edge === '1').length;
  expect(onEdge).toBeGreaterThan(0);
  expect(before.length).toBe(all);

  await page.getByTestId('tab-results').click();
  const box = page.getByTestId('exclude-edges-results');
  await expect(box).toBeVisible();
  await expect(box).not.toBeChecked();
  await expect(page.getByTestId('particles-count')).toContainText(`${all} included (${onEdge} on edges)`);
  await expect(page.getByTestId('stat-count')).toHaveText(String(all));

  await box.check();
  await expect(row(page, img.name)).toHaveAttribute('data-count', String(all - onEdge));
  await expect(page.getByTestId('stat-count')).toHaveText(String(all - onEdge));
  await expect(page.getByTestId('particles-count')).toContainText(
    `${all - onEdge} included, ${onEdge} excluded`,
  );
  await page.getByTestId('tab-settings').click();
  await expect(page.getByTestId('exclude-edges')).toBeChecked();
  const after = await exportedParticles(page);
  expect(after.length).toBe(all - onEdge);
  expect(after.filter((r) => r.touches_edge === '1')).toHaveLength(0);
});
