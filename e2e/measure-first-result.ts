/**
 * Time to first result in the built app (headless Chromium, WASM): page load -> worker and model ready,
 * "Try the demo" -> row done, and a 1024x768 synthetic PNG -> row done. Prints one JSON object per line.
 * Run against a preview server: `npm run build && npx vite preview --port 4173 --strictPort &` then
 * `npx tsx e2e/measure-first-result.ts [runs]`. Not a test: timings are reported, never asserted.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { synthPng } from './synthetic';

const URL = process.env.SAEMI_URL ?? 'http://localhost:4173/';
const runs = Number(process.argv[2] ?? 3);
const exe = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
const args = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const browser = await chromium.launch({ executablePath: exe, args });
const big = synthPng('bench-1024x768.png', { seed: 4242, width: 1024, height: 768, modality: 'sem' });
for (let r = 0; r < runs; r++) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(URL);
  await page.waitForFunction(() => (window as unknown as { __saemi?: { ready: boolean } }).__saemi?.ready);
  const ready = Date.now() - t0;
  // A user takes a moment before the first drop; the app evaluates plotly (one ~2 s task) in that idle time.
  await page.waitForTimeout(3000);
  const info = await page.evaluate(() => {
    const s = (
      window as unknown as { __saemi: { backend: string; model: string; crossOriginIsolated: boolean } }
    ).__saemi;
    return {
      backend: s.backend,
      model: s.model,
      isolated: s.crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
    };
  });
  const done = (name: string) =>
    page.waitForSelector(`[data-testid=batch-row][data-name="${name}"][data-status=done]`, {
      timeout: 120_000,
    });

  const t1 = Date.now();
  await page.getByTestId('demo').click();
  await done('saemi-demo-sem.png');
  const demo = Date.now() - t1;

  const t2 = Date.now();
  await page.setInputFiles('[data-testid=file-input]', [big]);
  await done(big.name);
  const img = Date.now() - t2;
  const seconds = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid=batch-row]')].map(
      (r) => r.querySelector('.muted')?.textContent,
    ),
  );
  console.log(
    JSON.stringify({
      run: r,
      ...info,
      readyMs: ready,
      demoFirstResultMs: demo,
      image1024x768Ms: img,
      rows: seconds,
    }),
  );
  await context.close();
}
await browser.close();
