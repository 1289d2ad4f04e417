/**
 * `npm run bench:app`: the built app's batch path in headless Chromium (WASM, as many threads as cores when
 * cross-origin isolated). Serves dist/ with `vite preview`, adds a batch of generated 1024x768 SEM-like images
 * through the file input and times it: the first result after the files were added, the batch's wall time per
 * image, and the worker's own per-stage marks (decode, calibrate, network, post-processing, hash, cache write,
 * preview) as the app collects them. One JSON object per line, like `npm run bench`. Not a test: timings are
 * reported, never asserted. firstResultMs and perImageMs count from the call that hands Playwright the files,
 * which first carries their bytes over the DevTools protocol (filesInMs: ~0.75 s for ten 1024x768 PNGs); the
 * *AfterAdded* figures count from the input's change event, when the page has the files, as after a drop;
 * steadyPerImageMs is the median time between results from the fifth image on, the batch's steady pace.
 *
 *   npm run build && npx tsx bench/app-batch.ts [--images 10] [--runs 3] [--size 1024x768] [--port 4173]
 *   --method threshold runs the classical method (no network: the app's own per-image work alone); --precision
 *   fp32|int8 forces the model's weights file (default auto: int8 on WASM); --raw prints every image's stage marks; --webgpu lets Chromium offer WebGPU; --build builds first; --dist DIR serves another build (e.g. an older one kept to compare with);
 *   --url URL measures an app already served elsewhere (no server started); --profile FILE writes the page's
 *   main-thread CPU profile of each run's batch (FILE-<run>.cpuprofile, for Chromium's DevTools); --trace FILE
 *   a Chromium performance trace of it (FILE-<run>.json: layout, paint, tasks of the page and its workers).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { synthPng } from '../e2e/synthetic';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
};
const images = Number(arg('--images', '10'));
const runs = Number(arg('--runs', '3'));
const [width, height] = arg('--size', '1024x768').split('x').map(Number);
const port = Number(arg('--port', process.env.E2E_PORT ?? '4173'));
const given = argv.includes('--url') ? arg('--url', '') : '';
const dist = path.resolve(ROOT, arg('--dist', 'dist'));
const url = given || `http://localhost:${port}/`;

/** Images before this one (0-based) count only in the whole batch's figures, not in its steady pace. */
const STEADY_FROM = 4;

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r1 = (v: number): number => Math.round(v * 10) / 10;

async function waitForServer(u: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(u)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no server at ${u}`);
}

/**
 * Records, in the page, when each batch row first shows `done` (ms after `t0`). A MutationObserver on the rows'
 * data-status, not polling: a querySelectorAll over the whole page every 10 ms took main-thread time from the app
 * it measures, on a machine whose two cores the network already uses.
 */
async function watchRows(page: Page): Promise<void> {
  // A string, not a function: tsx's name helpers (__name) do not exist in the page.
  await page.evaluate(`(() => {
    const b = (window.__bench = { t0: performance.now(), done: {}, longTaskMs: 0, addedMs: null });
    // When the page holds the files (the input's change event): Playwright's setInputFiles first carries the
    // files' bytes over the DevTools protocol, which a user's drop does not.
    document.addEventListener('change', () => (b.addedMs ??= performance.now() - b.t0), true);
    // Time the page's main thread spent in tasks over 50 ms (rendering results, statistics, plots).
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTaskMs += e.duration;
    }).observe({ type: 'longtask' });
    const seen = (r) => {
      if (r.getAttribute('data-testid') === 'batch-row' && r.getAttribute('data-status') === 'done')
        b.done[r.getAttribute('data-name') ?? ''] ??= performance.now() - b.t0;
    };
    // A row may also be (re)created already done: added nodes are looked through too.
    new MutationObserver((records) => {
      for (const m of records) {
        if (m.type === 'attributes') seen(m.target);
        else
          for (const n of m.addedNodes)
            if (n.nodeType === 1) [n, ...n.querySelectorAll('[data-testid=batch-row]')].forEach(seen);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  })()`);
}

let server: ChildProcess | null = null;
if (argv.includes('--build')) {
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (b.status !== 0) throw new Error('build failed');
}
if (!given) {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`no build in ${dist}: run npm run build`);
  server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--outDir', dist], {
    cwd: ROOT,
    stdio: 'ignore',
    detached: true,
  });
}
try {
  await waitForServer(url, 60_000);
  const exe = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
  const browser = await chromium.launch({
    executablePath: exe,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      // --webgpu: let Chromium offer WebGPU (headless: a GPU when there is one, else SwiftShader's software one).
      ...(argv.includes('--webgpu') ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan'] : []),
    ],
  });
  const files = Array.from({ length: images }, (_, k) =>
    synthPng(`bench-${k}.png`, { seed: 5000 + k, width, height, modality: 'sem', medianDiameter: 26 }),
  );
  const perImage: number[] = [];
  const first: number[] = [];
  const firstAfterAdded: number[] = [];
  const perImageAfterAdded: number[] = [];
  const steady: number[] = [];
  const stageRuns: Record<string, number[]> = {};
  for (let r = 0; r < runs; r++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // --method threshold: the classical method, no network: what is left is the app's own per-image work.
    const method = arg('--method', 'model');
    // --precision auto|fp32|int8: the Settings' "Model precision" (auto: int8 on WASM).
    const precision = arg('--precision', 'auto');
    if (method !== 'model' || precision !== 'auto')
      await context.addInitScript(
        `localStorage.setItem('saemi:settings:v1', JSON.stringify(${JSON.stringify({ options: { method }, precision })}))`,
      );
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __saemi?: { ready: boolean } }).__saemi?.ready);
    const info = await page.evaluate(() => {
      const s = (
        window as unknown as {
          __saemi: {
            backend: string;
            model: string;
            threads?: number;
            gpuNote?: string | null;
            precision?: string | null;
          };
        }
      ).__saemi;
      return {
        backend: s.backend,
        threads: s.threads,
        gpuNote: s.gpuNote,
        model: s.model,
        precision: s.precision ?? null,
        isolated: self.crossOriginIsolated,
        cores: navigator.hardwareConcurrency,
      };
    });
    // A user takes a moment before the first drop; the app loads its lazy chunks in that idle time.
    await page.waitForTimeout(3000);
    // onnxruntime's WASM threads are Emscripten pthread workers named em-pthread*: their count shows that the
    // threaded build runs with more than the calling thread (it is the SIMD build: there is no other in 1.30).
    const browserCdp = await browser.newBrowserCDPSession();
    const targets = (await browserCdp.send('Target.getTargets')).targetInfos;
    const pthreads = targets.filter((t) => t.type === 'worker' && t.title.startsWith('em-pthread')).length;
    const wasm = targets.filter((t) => t.type === 'worker').map((t) => t.title);
    await browserCdp.detach();
    let peakHeap = 0;
    const sampler = setInterval(() => {
      cdp
        .send('Performance.getMetrics')
        .then((m) => {
          const h = m.metrics.find((x) => x.name === 'JSHeapUsedSize')?.value ?? 0;
          peakHeap = Math.max(peakHeap, h);
        })
        .catch(() => undefined);
    }, 200);
    await watchRows(page);
    const profile = arg('--profile', '');
    if (profile) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }
    const trace = arg('--trace', '');
    if (trace)
      await browser.startTracing(page, {
        path: trace.replace(/(\.json)?$/, `-${r}.json`),
        categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute'],
      });
    await page.setInputFiles('[data-testid=file-input]', files);
    await page.waitForFunction(
      (n) => Object.keys((window as unknown as { __bench: { done: object } }).__bench.done).length >= n,
      images,
      { timeout: 600_000, polling: 50 },
    );
    clearInterval(sampler);
    if (trace) await browser.stopTracing();
    if (profile) {
      const { profile: p } = await cdp.send('Profiler.stop');
      writeFileSync(profile.replace(/(\.cpuprofile)?$/, `-${r}.cpuprofile`), JSON.stringify(p));
    }
    const { done, longTaskMs, addedMs } = await page.evaluate(
      () =>
        (
          window as unknown as {
            __bench: { done: Record<string, number>; longTaskMs: number; addedMs: number | null };
          }
        ).__bench,
    );
    const errors = await page.locator('[data-testid=batch-row][data-status=error]').count();
    // Per-stage marks the worker sent with each result (absent in builds before they existed).
    const stages = await page.evaluate(() => {
      const s = (window as unknown as { __saemi: { timings?: () => Record<string, number>[] } }).__saemi;
      return s.timings ? s.timings() : [];
    });
    if (argv.includes('--raw')) {
      for (const t of stages) console.log(JSON.stringify({ bench: 'app-batch', run: r, image: t }));
      console.log(JSON.stringify({ bench: 'app-batch', run: r, doneAtMs: done }));
    }
    const times = Object.values(done).sort((a, b) => a - b);
    const total = times[times.length - 1];
    // From the fifth image on, past the first ones, which share the machine with the page's first render, the warm-ups' tails and
    // the label readers' start: the batch's steady pace, far less noisy between runs than the whole batch's.
    const gaps = times.slice(STEADY_FROM).map((t, k) => t - times[STEADY_FROM - 1 + k]);
    if (gaps.length) steady.push(median(gaps));
    perImage.push(total / images);
    first.push(times[0]);
    const fromAdded = addedMs === null ? null : times[0] - addedMs;
    const perImageFromAdded = addedMs === null ? null : (total - addedMs) / images;
    if (fromAdded !== null) firstAfterAdded.push(fromAdded);
    if (perImageFromAdded !== null) perImageAfterAdded.push(perImageFromAdded);
    const stageMedians: Record<string, number> = {};
    const keys = new Set(stages.flatMap((t) => Object.keys(t)));
    for (const k of keys) {
      const v = stages.map((t) => t[k]).filter((x) => typeof x === 'number');
      stageMedians[k] = r1(median(v));
      (stageRuns[k] ??= []).push(median(v));
    }
    console.log(
      JSON.stringify({
        bench: 'app-batch',
        run: r,
        ...info,
        pthreadWorkers: pthreads,
        workers: wasm,
        width,
        height,
        images,
        errors,
        firstResultMs: r1(times[0]),
        // The same, counted from the input's change event (without setInputFiles' protocol transfer).
        filesInMs: addedMs === null ? null : r1(addedMs),
        firstResultAfterAddedMs: fromAdded === null ? null : r1(fromAdded),
        batchMs: r1(total),
        perImageMs: r1(total / images),
        perImageAfterAddedMs: perImageFromAdded === null ? null : r1(perImageFromAdded),
        steadyPerImageMs: gaps.length ? r1(median(gaps)) : null,
        peakPageHeapMB: r1(peakHeap / 2 ** 20),
        pageLongTasksMs: r1(longTaskMs),
        stagesMedianMs: stageMedians,
      }),
    );
    await context.close();
  }
  await browser.close();
  console.log(
    JSON.stringify({
      bench: 'app-batch',
      summary: true,
      width,
      height,
      images,
      runs,
      perImageMsMedian: r1(median(perImage)),
      firstResultMsMedian: r1(median(first)),
      firstResultAfterAddedMsMedian: firstAfterAdded.length ? r1(median(firstAfterAdded)) : null,
      perImageAfterAddedMsMedian: perImageAfterAdded.length ? r1(median(perImageAfterAdded)) : null,
      steadyPerImageMsMedian: steady.length ? r1(median(steady)) : null,
      stagesMedianMs: Object.fromEntries(Object.entries(stageRuns).map(([k, v]) => [k, r1(median(v))])),
    }),
  );
} finally {
  if (server?.pid) process.kill(-server.pid);
}
