/**
 * Manual calibration: draw a line over a feature of known length, type the length and unit, apply;
 * the CSV switches from px to nm and every length scales by the same factor.
 */
import { parseCsvRecords } from '../src/core/export/csv';
import {
  addFiles,
  analysesRun,
  downloadText,
  exportedParticles,
  expect,
  openApp,
  test,
  waitSettled,
} from './fixtures';
import { synthPng } from './synthetic';
import { dragInImage } from './view';

test('drawing a line and typing its length calibrates the image and the CSV', async ({ page }) => {
  const img = synthPng('uncalibrated.png', { seed: 77 });
  await openApp(page);
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'none');

  const px = await exportedParticles(page);
  expect(px.length).toBeGreaterThan(5);
  expect(new Set(px.map((r) => r.unit))).toEqual(new Set(['px']));

  await page.getByTestId('tab-calibration').click();
  await page.getByTestId('cal-draw').click();
  await dragInImage(page, [100, 200], [400, 200]);
  const line = page.getByTestId('cal-line');
  await expect(line).toHaveAttribute('data-length', /\d/);
  const lengthPx = Number(await line.getAttribute('data-length'));
  expect(lengthPx).toBeGreaterThan(290);
  expect(lengthPx).toBeLessThan(310);
  await page.getByTestId('cal-length').fill('750');
  await page.getByTestId('cal-unit').selectOption('nm');
  await page.getByTestId('cal-apply-image').click();
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'manual');

  const nm = await exportedParticles(page);
  expect(nm.length).toBe(px.length);
  expect(new Set(nm.map((r) => r.unit))).toEqual(new Set(['nm']));
  const k = 750 / lengthPx;
  for (let i = 0; i < px.length; i++) {
    expect(nm[i].particle).toBe(px[i].particle);
    expect(Number(nm[i].ecd)).toBeCloseTo(Number(px[i].ecd) * k, 2);
    expect(Number(nm[i].feret_max)).toBeCloseTo(Number(px[i].feret_max) * k, 2);
    expect(Number(nm[i].area) / (Number(px[i].area) * k * k)).toBeCloseTo(1, 4);
    // centroids stay in pixels (contract)
    expect(nm[i].x).toBe(px[i].x);
  }

  const summary = await downloadText(page, () => page.getByTestId('export-summary').click());
  const s = parseCsvRecords(summary.text).find((r) => r.image === img.name)!;
  expect(s.pixel_size_source).toBe('manual');
  expect(Number(s.pixel_size)).toBeCloseTo(k, 4);

  // The manual calibration is part of the stored batch: a reload keeps it, without analysing again.
  await page.reload();
  await openApp(page);
  await waitSettled(page, 1);
  await page.getByTestId('batch-row').click();
  await expect(page.getByTestId('header-calibration')).toHaveAttribute('data-source', 'manual');
  const again = await exportedParticles(page);
  expect(again.map((r) => r.ecd)).toEqual(nm.map((r) => r.ecd));
  expect(await analysesRun(page)).toBe(0);
});
