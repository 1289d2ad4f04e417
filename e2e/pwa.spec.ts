/** Installability: a manifest with icons and file handlers, a registered service worker, isolation headers. */
import { expect, openApp, test } from './fixtures';

test('manifest, icons, file handlers, service worker and cross-origin isolation', async ({
  page,
  request,
}) => {
  await openApp(page);
  const href = await page.locator('link[rel=manifest]').getAttribute('href');
  expect(href).toBeTruthy();
  const manifest = await (await request.get(href!)).json();
  expect(manifest.display).toBe('standalone');
  const sizes = manifest.icons.map(
    (i: { sizes: string; purpose?: string }) => `${i.sizes}${i.purpose ? ':' + i.purpose : ''}`,
  );
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512', '512x512:maskable']));
  for (const icon of manifest.icons) {
    const res = await request.get(icon.src);
    expect(res.status(), icon.src).toBe(200);
  }
  const accept = manifest.file_handlers[0].accept;
  expect(accept['image/tiff']).toEqual(['.tif', '.tiff']);
  expect(accept['image/png']).toEqual(['.png']);
  expect(accept['image/jpeg']).toEqual(expect.arrayContaining(['.jpg', '.jpeg']));
  expect(Object.values(accept).flat()).toEqual(expect.arrayContaining(['.dm3', '.dm4', '.mrc']));

  // Threaded WASM needs cross-origin isolation; the worker reports how many threads it got.
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  const res = await request.get('/');
  expect(res.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(res.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  expect(
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active !== undefined),
  ).toBe(true);
});
