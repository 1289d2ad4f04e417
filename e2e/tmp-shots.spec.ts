import { addFiles, openApp, test, waitSettled } from './fixtures';
import { COUNT_IMAGES } from './synthetic';

for (const [w, h] of [[1440, 900], [1280, 800]]) {
  test(`shot ${w}`, async ({ page }) => {
    await page.setViewportSize({ width: w, height: h });
    await openApp(page);
    await addFiles(page, COUNT_IMAGES().slice(0, 2));
    await waitSettled(page, 2);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `/work/notes/screens/ui-${process.env.SHOT ?? 'x'}-${w}x${h}.png` });
  });
}
