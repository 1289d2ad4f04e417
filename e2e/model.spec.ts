/**
 * Loading another model: an .onnx with its sidecar goes into IndexedDB, is used for analysis, survives a
 * reload, and a mismatched pair is refused with its reason while the current model stays in use.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { encode } from 'fast-png';
import { addFiles, expect, openApp, row, rowCount, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

const SIDECAR = 'models/saemi-unet.json';

test('load a custom ONNX model + sidecar, keep it across reloads, refuse a mismatched pair', async ({
  page,
}, testInfo) => {
  test.skip(!existsSync(SIDECAR), 'no bundled model to derive a custom one from');
  const sidecar = JSON.parse(await readFile(SIDECAR, 'utf8'));
  const onnx = testInfo.outputPath('lab-model.onnx');
  await writeFile(onnx, await readFile(`models/${sidecar.file}`));
  const good = testInfo.outputPath('lab-model.json');
  await writeFile(
    good,
    JSON.stringify({ ...sidecar, name: 'lab-model', version: '2.0', file: 'lab-model.onnx' }),
  );
  const bad = testInfo.outputPath('broken.json');
  await writeFile(bad, JSON.stringify({ ...sidecar, name: 'broken', sha256: '0'.repeat(64) }));

  await openApp(page);
  await expect(page.getByTestId('model-name')).toHaveText(`${sidecar.name} v${sidecar.version}`);
  await page.getByTestId('tab-settings').click();
  await page.setInputFiles('[data-testid=model-input]', [onnx, bad]);
  await expect(page.getByTestId('model-error')).toContainText('does not match its sidecar');
  await expect(page.getByTestId('model-name')).toHaveText(`${sidecar.name} v${sidecar.version}`);

  await page.setInputFiles('[data-testid=model-input]', [onnx, good]);
  await expect(page.getByTestId('model-name')).toHaveText('lab-model v2.0');
  await addFiles(page, [synthPng('custom.png', { seed: 12 })]);
  await waitSettled(page, 1);
  await expect(row(page, 'custom.png')).toHaveAttribute('data-status', 'done');

  await page.reload();
  await openApp(page);
  await expect(page.getByTestId('model-name')).toHaveText('lab-model v2.0');
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('use-bundled').click();
  await expect(page.getByTestId('model-name')).toHaveText(`${sidecar.name} v${sidecar.version}`);
  // Results made with the other model are flagged for re-analysis.
  await expect(page.getByTestId('reanalyse')).toBeVisible();
});

test('a star-convex (rays) model loads like any other and splits touching discs', async ({ page }) => {
  // tests/fixtures/star-tiny: a hand-built rays model that outlines bright discs of radius 8 px
  const dir = 'tests/fixtures/star-tiny';
  const w = 200;
  const h = 150;
  const centres = [
    [31, 31],
    [47, 31], // touches the first
    [101, 41],
    [141, 101],
  ];
  const px = new Uint8Array(w * h).fill(30);
  for (const [cx, cy] of centres)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= 64) px[y * w + x] = 220;
  await openApp(page);
  await page.getByTestId('tab-settings').click();
  await page.setInputFiles('[data-testid=model-input]', [`${dir}/star-tiny.onnx`, `${dir}/star-tiny.json`]);
  await expect(page.getByTestId('model-name')).toHaveText('star-tiny v0.0.1');
  await addFiles(page, [
    {
      name: 'discs.png',
      mimeType: 'image/png',
      buffer: Buffer.from(encode({ width: w, height: h, data: px, depth: 8, channels: 1 })),
    },
  ]);
  await waitSettled(page, 1);
  await expect(row(page, 'discs.png')).toHaveAttribute('data-status', 'done');
  expect(await rowCount(page, 'discs.png')).toBe(centres.length);
  // the decision trace says which model ran and what was measured
  await row(page, 'discs.png').click();
  const trace = page.getByTestId('trace');
  await trace.locator('summary').click();
  await expect(trace).toContainText('segment: star-tiny 0.0.1, native scale');
  await expect(trace).toContainText(`measure: ${centres.length} particles in the statistics`);
});
