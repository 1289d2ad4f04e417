/**
 * The page-wide "Drop to add images" overlay shows while files are dragged over the window and leaves when
 * the drag ends, whichever way: dropped on the left drop box (which handles the drop itself), dragged out of
 * the window, Esc, or a click.
 */
import type { Page } from '@playwright/test';
import { dropFiles, expect, openApp, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

async function dragOverPage(page: Page): Promise<void> {
  const dt = await page.evaluateHandle(() => {
    const t = new DataTransfer();
    t.items.add(new File(['x'], 'x.png', { type: 'image/png' }));
    return t;
  });
  await page.dispatchEvent('main', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('main', 'dragover', { dataTransfer: dt });
}

test('the drop overlay leaves after a drop on the drop box, a drag out of the window, Esc and a click', async ({
  page,
}) => {
  await openApp(page);
  const overlay = page.getByTestId('drop-overlay');

  // Dropped on the left drop box: the box takes the files and the overlay goes.
  await dragOverPage(page);
  await expect(overlay).toBeVisible();
  await dropFiles(page, [synthPng('one.png', { seed: 11, modality: 'sem' })]);
  await waitSettled(page, 1);
  await expect(overlay).toBeHidden();
  await page.waitForTimeout(300);
  await expect(overlay).toBeHidden();

  // Dragged out of the window: the last dragleave has no related target.
  await dragOverPage(page);
  await expect(overlay).toBeVisible();
  await page.dispatchEvent('main', 'dragleave', {});
  await expect(overlay).toBeHidden();

  // A stuck overlay (say the browser never sent the leave) yields to Esc and to a click.
  await dragOverPage(page);
  await expect(overlay).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(overlay).toBeHidden();
  await dragOverPage(page);
  await expect(overlay).toBeVisible();
  await page.mouse.click(700, 450);
  await expect(overlay).toBeHidden();
});
