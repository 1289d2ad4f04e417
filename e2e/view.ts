/** Image-space <-> screen mapping of ImageView's canvas (its data-scale / data-offset-* attributes). */
import type { Page } from '@playwright/test';

export async function toScreen(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const canvas = page.getByTestId('image-canvas');
  const box = await canvas.boundingBox();
  if (!box) throw new Error('image canvas not visible');
  const [scale, ox, oy] = await Promise.all(
    ['data-scale', 'data-offset-x', 'data-offset-y'].map(async (a) => Number(await canvas.getAttribute(a))),
  );
  return { x: box.x + ox + x * scale, y: box.y + oy + y * scale };
}

export async function dragInImage(
  page: Page,
  from: [number, number],
  to: [number, number],
  steps = 12,
): Promise<void> {
  const a = await toScreen(page, from[0], from[1]);
  const b = await toScreen(page, to[0], to[1]);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps });
  await page.mouse.up();
}

/**
 * A particle to click on: the largest compact one (convex, so its centroid lies inside it) away from the
 * image edge. Rows as parseCsvRecords gives them for particles.csv.
 */
export function clickable(rows: Record<string, string>[]): Record<string, string> {
  const ok = rows
    .filter((r) => r.touches_edge === '0' && Number(r.solidity) > 0.9 && Number(r.area) > 30)
    .sort((a, b) => Number(b.area) - Number(a.area));
  if (!ok.length) throw new Error('no compact interior particle to click on');
  return ok[0];
}

/** Deletes clickable(rows) with the delete tool, as a user clicks it; returns its record. */
export async function deleteClickable(
  page: Page,
  rows: Record<string, string>[],
): Promise<Record<string, string>> {
  const target = clickable(rows);
  const p = await toScreen(page, Number(target.x) + 0.5, Number(target.y) + 0.5);
  await page.getByTestId('tool-delete').click();
  await page.mouse.click(p.x, p.y);
  return target;
}
