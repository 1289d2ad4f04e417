/**
 * An image's seconds (shown on its row and written to summary.csv) are its own analysis time, never the time
 * it waited behind other images: over a batch analysed one image at a time they add up to no more than the
 * batch took. Counting queue waits would make four images' seconds add up to about 2.5 times that.
 */
import { parseCsv } from '../src/core/export/csv';
import { addFiles, downloadText, expect, openApp, row, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

test("each image's seconds exclude the time it was queued", async ({ page }) => {
  await openApp(page);
  // The first analysis also warms the engine up: not part of the batch measured.
  await addFiles(page, [synthPng('warm.png', { seed: 90, modality: 'sem' })]);
  await waitSettled(page, 1);
  const names = ['q1.png', 'q2.png', 'q3.png', 'q4.png'];
  const t0 = Date.now();
  await addFiles(
    page,
    names.map((n, k) => synthPng(n, { seed: 91 + k, modality: k % 2 ? 'tem' : 'sem' })),
  );
  await waitSettled(page, 5);
  const wall = (Date.now() - t0) / 1000;

  await page.getByTestId('tab-export').click();
  const summary = parseCsv(
    (await downloadText(page, () => page.getByTestId('export-summary').click())).text.trimEnd(),
  );
  const seconds = new Map(summary.slice(1).map((r) => [r[0], Number(r[13])]));
  let sum = 0;
  for (const n of names) {
    const s = seconds.get(n)!;
    expect(s).toBeGreaterThan(0);
    // The row shows the same figure, to its two decimals (the CSV keeps four significant digits, so the two
    // can round apart: 3.5651 s is '3.565' there and '3.57 s' on the row).
    const shown = Number((await row(page, n).innerText()).match(/([0-9.]+) s\b/)![1]);
    expect(Math.abs(shown - s), `row shows ${shown} s, summary.csv ${s} s`).toBeLessThanOrEqual(0.0051);
    sum += s;
  }
  expect(sum, `seconds of the four images add up to ${sum}, the batch took ${wall} s`).toBeLessThanOrEqual(
    wall,
  );
});
