/** After one online visit the service worker has everything: offline, the app reloads and analyses. */
import { addFiles, expect, openApp, row, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

test('works offline after the first visit', async ({ page, context }) => {
  await openApp(page);
  // Precaching (app, ORT wasm, model) is done when the service worker reports offline-ready.
  await expect(page.getByTestId('offline-ready')).toBeVisible({ timeout: 90_000 });
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (reg.active?.state !== 'activated') {
      await new Promise<void>((r) => reg.active?.addEventListener('statechange', () => r()));
    }
  });

  const online = await page.evaluate(
    () => (window as unknown as { __saemi: { model: string | null } }).__saemi.model,
  );
  await context.setOffline(true);
  await page.reload();
  await openApp(page);
  const img = synthPng('offline.png', { seed: 909, modality: 'tem' });
  await addFiles(page, [img]);
  await waitSettled(page, 1);
  await expect(row(page, 'offline.png')).toHaveAttribute('data-status', 'done');
  expect(Number(await row(page, 'offline.png').getAttribute('data-count'))).toBeGreaterThan(0);
  // Offline must not cost the model: the same model as online is loaded from the precache.
  expect(
    await page.evaluate(() => (window as unknown as { __saemi: { model: string | null } }).__saemi.model),
  ).toBe(online);
});
