/**
 * While the app waits for files, the analysis worker runs the pipeline a few times on a small synthetic image
 * (src/worker/warm-up.ts), so the JS engine has compiled its hot loops before the first real image. That it gives
 * way to real images is a unit test (tests/warm-up.test.ts): in the app it is a race with the page's own start.
 */
import { expect, openApp, test } from './fixtures';

type Hooks = { __saemi: { warmUpRuns(): Promise<number>; prepareWarmUpRuns(): Promise<number> } };

test('the pipeline is warmed up while the app waits for files', async ({ page }) => {
  await openApp(page);
  expect(await page.evaluate(() => (window as unknown as Hooks).__saemi.warmUpRuns())).toBe(3);
  // The prepare worker (a batch's next image) warms its own copy of the stages before segmentation.
  expect(await page.evaluate(() => (window as unknown as Hooks).__saemi.prepareWarmUpRuns())).toBe(3);
});
