/**
 * The prepare worker: decodes, calibrates and normalises a batch's next image while the analysis worker makes the
 * current one's particles. Every stage but the network runs on one thread, so one of two cores idles through
 * instances, contrast and measuring (~90 ms at 1024 x 768); the next image's decode, preview, calibration and
 * normalising (~90 ms) fit there. The page asks only once the current image's network has run: beside it, the
 * network would lose a core. Owned by the page, so a cancel (which terminates the analysis worker) loses nothing
 * here, and a preparation nobody takes is dropped.
 */
import * as Comlink from 'comlink';
import { prepareImage, preparedBuffers, type PrepareSpec } from '../core/pipeline';
import { DEFAULT_OPTIONS } from '../core/types';
import type { Grey8, PrepareRequest, PrepareWorkerApi, PreparedAhead } from './api';
import { warmUpPng } from './demo';
import { previewFromGrey } from './preview';
import { StageClock } from './stage-clock';

/**
 * Larger images are not prepared ahead: two of them at once (this one's and the current) would double the peak
 * memory of a batch of big images, where a second of preparing matters least.
 */
const PREPARE_AHEAD_MAX_PIXELS = 4096 * 4096;

class TooLarge extends Error {}

/**
 * Warm-up preparations of a small synthetic image. This worker's JS engine compiles decode, calibrate and
 * normalise anew (each worker has its own): cold, the first real preparations took 2-4x their time (decode 70-105
 * against 25-30 ms), past the end of the image they were to overlap.
 */
const WARM_RUNS = 3;
let warming: Promise<number> | null = null;
/** Set by the first real request, or when the page starts a batch: no warm-up run starts after it. */
let realCame = false;

async function warmRuns(spec: PrepareSpec | null): Promise<number> {
  const png = warmUpPng();
  let done = 0;
  for (let k = 0; k < WARM_RUNS; k++) {
    // One run per task: a real request that came meanwhile is taken first, and ends the warm-up.
    await new Promise((r) => setTimeout(r, 0));
    if (realCame) break;
    prepareImage({ name: 'warm-up.png', bytes: png }, DEFAULT_OPTIONS, spec, { readLabels: true });
    done++;
  }
  return done;
}

const api: PrepareWorkerApi = {
  warmPrepare: (spec) => (warming ??= warmRuns(spec).catch(() => 0)),

  async stopWarmUp() {
    realCame = true;
  },

  async prepare(req: PrepareRequest): Promise<PreparedAhead | null> {
    realCame = true;
    const clock = new StageClock();
    let preview: Grey8 | null = null;
    try {
      const prepared = prepareImage(
        { name: req.name, bytes: req.bytes, sidecarTexts: req.sidecarTexts },
        // Like the analysis worker: analysed without the manual pixel size, which the page applies after.
        { ...req.options, pixelSizeOverride: null },
        req.spec,
        {
          readLabels: true,
          onProgress: (stage) => clock.enter(stage),
          onDecoded: (w, h) => {
            if (w * h > PREPARE_AHEAD_MAX_PIXELS) throw new TooLarge();
          },
          onGrey: (g) => {
            clock.enter('preview');
            preview = previewFromGrey(g);
          },
        },
      );
      const times = clock.finish();
      delete times.total;
      const p: Grey8 = preview!;
      return Comlink.transfer({ prepared, preview: p, times }, [...preparedBuffers(prepared), p.data.buffer]);
    } catch {
      // Too large, or a file that does not decode: the analysis worker does it all, and reports any error.
      return null;
    }
  },
};

Comlink.expose(api);
