/**
 * The results panel at laptop and desktop sizes: the plot's PNG/SVG buttons stay together on one line, the
 * particles table says it has more columns and scrolls sideways to all of them with the particle number kept
 * in view (scrollbars may be hidden: overlay scrollbars), the panel widens over the image to show every
 * column, and the statistics say they are number-weighted (also when the histogram is weighted by area).
 */
import { addFiles, expect, openApp, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

for (const [w, h] of [
  [1440, 900],
  [1280, 800],
] as const) {
  test(`the results panel at ${w}x${h}`, async ({ page }) => {
    await page.setViewportSize({ width: w, height: h });
    await openApp(page);
    await addFiles(page, [synthPng('panel.png', { seed: 21, modality: 'sem' })]);
    await waitSettled(page, 1);

    const png = await page.getByTestId('histogram-download-png').boundingBox();
    const svg = await page.getByTestId('histogram-download-svg').boundingBox();
    expect(Math.abs(png!.y - svg!.y), 'PNG and SVG on one line').toBeLessThan(2);

    const table = page.getByTestId('particles-table');
    const scroller = table.locator('..');
    const geometry = await scroller.evaluate((el) => ({
      scrollWidth: el.scrollWidth,
      clientWidth: el.clientWidth,
    }));
    expect(geometry.scrollWidth).toBeGreaterThan(geometry.clientWidth);
    await expect(page.getByTestId('particles-more-columns')).toBeVisible();
    // Scrolled to the right end, the last column is in view and the particle number still is.
    await scroller.evaluate((el) => (el.scrollLeft = el.scrollWidth));
    const box = (await scroller.boundingBox())!;
    const last = (await table.locator('thead th').last().boundingBox())!;
    const first = (await table.locator('thead th').first().boundingBox())!;
    expect(last.x + last.width).toBeLessThanOrEqual(box.x + box.width + 1);
    expect(last.x).toBeGreaterThanOrEqual(box.x);
    expect(first.x).toBeGreaterThanOrEqual(box.x - 1);
    expect(first.x).toBeLessThan(box.x + 4);

    // Widened over the image, the panel shows every column.
    await page.getByTestId('results-wide').click();
    await expect(page.getByTestId('particles-more-columns')).toBeHidden();
    const wideBox = (await scroller.boundingBox())!;
    const wideLast = (await table.locator('thead th').last().boundingBox())!;
    expect(wideLast.x + wideLast.width).toBeLessThanOrEqual(wideBox.x + wideBox.width + 1);
    await page.screenshot({ path: `test-results/results-panel-wide-${w}x${h}.png` });
    await page.getByTestId('results-wide').click();

    const stats = page.getByTestId('stats-panel');
    await expect(stats).toContainText('Number-weighted statistics');
    await page.getByTestId('histogram-weighting').selectOption('area');
    await expect(stats).toContainText('histogram by area');
    await page.screenshot({ path: `test-results/results-panel-${w}x${h}.png` });
  });
}
