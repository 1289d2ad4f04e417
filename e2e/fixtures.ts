/**
 * Shared Playwright fixtures. Every test records every request its browser context makes (page, worker
 * and service worker) and fails if one leaves the app's origin: nothing may be uploaded or fetched from
 * a CDN, ever.
 */
import { test as base, expect, type Download, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { parseCsvRecords } from '../src/core/export/csv';

export const ORIGIN = `http://localhost:${process.env.E2E_PORT ?? 4173}`;

/** URL schemes that never leave the machine. */
function isLocal(url: string): boolean {
  return url.startsWith(ORIGIN + '/') || url === ORIGIN || /^(blob|data|chrome-extension|about):/.test(url);
}

export const test = base.extend<{ foreignRequests: string[] }>({
  foreignRequests: [
    async ({ context }, use) => {
      const foreign: string[] = [];
      context.on('request', (r) => {
        if (!isLocal(r.url())) foreign.push(r.url());
      });
      await use(foreign);
      expect(foreign, 'requests that left the app origin').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Opens the app and waits until the worker has reported its backend (model loaded or not). */
export async function openApp(page: Page): Promise<void> {
  await page.goto('/');
  await page.waitForFunction(
    () => (window as unknown as { __saemi?: { ready: boolean } }).__saemi?.ready === true,
  );
}

export interface FileSpec {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

export async function addFiles(page: Page, files: FileSpec[]): Promise<void> {
  await page.setInputFiles('[data-testid=file-input]', files);
}

/** Drops files on the drop zone the way a browser does: a drop event carrying a DataTransfer. */
export async function dropFiles(page: Page, files: FileSpec[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.mimeType, b64: f.buffer.toString('base64') }));
  const dt = await page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      transfer.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return transfer;
  }, payload);
  await page.dispatchEvent('[data-testid=drop-zone]', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('[data-testid=drop-zone]', 'drop', { dataTransfer: dt });
}

export async function downloadBytes(
  page: Page,
  click: () => Promise<void>,
): Promise<{ name: string; bytes: Buffer }> {
  const [download]: [Download, void] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), bytes: await readFile(await download.path()) };
}

/** Waits until no row is queued or analysing. */
export async function waitSettled(page: Page, rows: number, timeout = 90_000): Promise<void> {
  await expect(page.getByTestId('batch-row')).toHaveCount(rows);
  await expect(
    page.locator(
      '[data-testid=batch-row][data-status=queued], [data-testid=batch-row][data-status=analysing]',
    ),
  ).toHaveCount(0, { timeout });
}

export function row(page: Page, name: string) {
  return page.locator(`[data-testid=batch-row][data-name="${name}"]`);
}

export async function rowCount(page: Page, name: string): Promise<number> {
  const v = await row(page, name).getAttribute('data-count');
  if (v === null)
    throw new Error(
      `${name} has no particle count (status ${await row(page, name).getAttribute('data-status')})`,
    );
  return Number(v);
}

export async function downloadText(
  page: Page,
  click: () => Promise<void>,
): Promise<{ name: string; text: string }> {
  const [download]: [Download, void] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: await readFile(path, 'utf8') };
}

/** The batch's particles.csv as the Export tab downloads it, one record per particle. */
export async function exportedParticles(page: Page): Promise<Record<string, string>[]> {
  await page.getByTestId('tab-export').click();
  const csv = await downloadText(page, () => page.getByTestId('export-particles').click());
  return parseCsvRecords(csv.text);
}

export async function analysesRun(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __saemi: { analyses: number } }).__saemi.analyses);
}
