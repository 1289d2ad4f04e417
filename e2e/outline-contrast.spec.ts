/**
 * Outlines must stand out on any background: on a bright TEM film as on a dark SEM ground. The canvas is
 * read with the overlay shown and hidden; the pixels that differ are the drawn outline, and a good share of
 * them must differ clearly (by 30 % of full scale) from the image's background level at the default opacity.
 */
import type { Page } from '@playwright/test';
import { addFiles, expect, openApp, test, waitSettled } from './fixtures';
import { synthPng } from './synthetic';

/** Luma (0..1, Rec. 709 weights on the sRGB values) of every canvas pixel. */
async function canvasLuma(page: Page): Promise<number[]> {
  return page.getByTestId('image-canvas').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const out: number[] = [];
    for (let i = 0; i < d.length; i += 4)
      out.push((0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2]) / 255);
    return out;
  });
}

async function outlineContrast(page: Page): Promise<{ drawn: number; share: number; background: number }> {
  const mode = page.getByTestId('overlay-mode');
  // Drawn once the frame after the change has run.
  const drawn = () =>
    page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await mode.selectOption('hidden');
  await drawn();
  const plain = await canvasLuma(page);
  await mode.selectOption('outline');
  await drawn();
  const shown = await canvasLuma(page);
  // The background level: the median of the image as shown without overlay (particles cover far less than half).
  const sorted = plain.filter((v) => v > 0).sort((a, b) => a - b);
  const background = sorted[Math.floor(sorted.length / 2)];
  let changed = 0;
  let contrasting = 0;
  for (let i = 0; i < plain.length; i++) {
    if (Math.abs(shown[i] - plain[i]) < 1 / 255) continue;
    changed++;
    if (Math.abs(shown[i] - background) > 0.3) contrasting++;
  }
  return { drawn: changed, share: contrasting / Math.max(1, changed), background };
}

for (const [name, opts, bright] of [
  [
    'tem-bright.png',
    {
      seed: 44,
      modality: 'tem' as const,
      polarity: 'dark' as const,
      photons: 2000,
      temStyle: { transmission: 0.3 },
    },
    true,
  ],
  ['sem-dark.png', { seed: 45, modality: 'sem' as const }, false],
] as const) {
  test(`outlines contrast with the ${bright ? 'bright' : 'dark'} background of ${name}`, async ({ page }) => {
    await openApp(page);
    await addFiles(page, [synthPng(name, opts)]);
    await waitSettled(page, 1);
    await expect(page.getByTestId('image-canvas')).toBeVisible();
    const r = await outlineContrast(page);
    if (bright) expect(r.background).toBeGreaterThan(0.75);
    else expect(r.background).toBeLessThan(0.5);
    expect(r.drawn).toBeGreaterThan(1000);
    expect(
      r.share,
      `share of outline pixels contrasting with the background ${r.background}`,
    ).toBeGreaterThan(0.35);
  });
}
