/**
 * The bundled model's int8 variant: under "auto" the app runs it on WASM and says so in the header; the
 * Settings' "Model precision" switches to the fp32 file (header, stale results re-analysed with it); the
 * service worker precaches both files so the app analyses offline with either.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { addFiles, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

const SIDECAR = 'models/saemi-unet.json';

test('WASM runs the int8 variant under auto, fp32 when the setting says so; both find the particles', async ({
  page,
  request,
}) => {
  test.skip(!existsSync(SIDECAR), 'no bundled model');
  const sidecar = JSON.parse(await readFile(SIDECAR, 'utf8'));
  const int8 = sidecar.variants.find((v: { precision: string }) => v.precision === 'int8');

  await openApp(page);
  const backend = page.getByTestId('backend');
  await expect(backend).toHaveText(/^WASM · \d+ threads? · int8$/);
  // WASM runs on onnxruntime's plain build, not the WebGPU (JSEP) one, whose CPU kernels are slower.
  await expect(backend).toHaveAttribute('data-ort-build', 'wasm');
  await addFiles(page, [synthPng('p.png', { seed: 21 })]);
  await waitSettled(page, 1);
  await expect(row(page, 'p.png')).toHaveAttribute('data-status', 'done');
  const withInt8 = await rowCount(page, 'p.png');
  expect(withInt8).toBeGreaterThan(5);

  await page.getByTestId('tab-settings').click();
  await page.getByTestId('precision').selectOption('fp32');
  await expect(backend).toHaveText(/^WASM · \d+ threads? · fp32$/);
  // Results of the other weights file are stale; re-analysed with fp32 they find about the same particles.
  await page.getByTestId('reanalyse').click();
  await waitSettled(page, 1);
  await expect(page.getByTestId('reanalyse')).toHaveCount(0);
  const withFp32 = await rowCount(page, 'p.png');
  expect(Math.abs(withFp32 - withInt8)).toBeLessThanOrEqual(Math.max(1, withInt8 * 0.05));

  // The choice is kept across a reload.
  await page.reload();
  await openApp(page);
  await expect(backend).toHaveText(/ · fp32$/);
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('precision').selectOption('auto');
  await expect(backend).toHaveText(/ · int8$/);

  // Both weights files are in the service worker's precache manifest.
  const sw = await (await request.get('/sw.js')).text();
  expect(sw).toContain(`models/${sidecar.file}`);
  expect(sw).toContain(`models/${int8.file}`);
});
