/**
 * While the app waits for files, the analysis worker runs the pipeline a few times on a small synthetic image
 * (src/worker/warm-up.ts), so the JS engine has compiled its hot loops before the first real image. That it gives
 * way to real images is a unit test (tests/warm-up.test.ts): in the app it is a race with the page's own start.
 */
import { expect, openApp, test } from './fixtures';

type Hooks = {
  __saemi: {
    warmUpRuns(): Promise<number>;
    prepareWarmUpRuns(): Promise<number>;
    plotlyWarmed(): Promise<boolean>;
  };
};

test('the pipeline is warmed up while the app waits for files', async ({ page }) => {
  await openApp(page);
  expect(await page.evaluate(() => (window as unknown as Hooks).__saemi.warmUpRuns())).toBe(3);
  // The prepare worker (a batch's next image) warms its own copy of the stages before segmentation.
  expect(await page.evaluate(() => (window as unknown as Hooks).__saemi.prepareWarmUpRuns())).toBe(3);
});

test('the chart library draws its first plot off screen while the app waits, and leaves nothing behind', async ({
  page,
}) => {
  await openApp(page);
  await expect
    .poll(() => page.evaluate(() => (window as unknown as Hooks).__saemi.plotlyWarmed()), { timeout: 30_000 })
    .toBe(true);
  expect(await page.locator('.js-plotly-plot').count()).toBe(0);
  expect(await page.locator('body > div[aria-hidden=true]').count()).toBe(0);
});
