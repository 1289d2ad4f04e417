/**
 * The analysis worker's idle-time warm-up, once the model is loaded: the network once at its largest tile (its
 * memory set up, tiles.ts warmUp), then the whole pipeline a few times on a small synthetic SEM image. V8 compiles
 * the pipeline's hot loops (decode, calibrate, instances, measuring) only after they have run a few times: in Node
 * decode + calibrate + instances on the bench image took 343, 297, 241, 174, 152, 134 ms in its first six calls,
 * and in the app the compiler's background threads take a core from the network meanwhile. Run here, while the
 * user is still choosing files, the first images of a batch do not pay for it.
 */
import { analyzeImage } from '../core/pipeline';
import type { LoadedModel } from '../core/segment/model';
import { warmUp } from '../core/segment/tiles';
import { DEFAULT_OPTIONS } from '../core/types';
import { warmUpPng } from './demo';

/** Pipeline runs of the warm-up (Chromium, 512x384: 480, 370, 230 ms; a fourth gained little). */
export const WARM_ANALYSES = 3;

/**
 * Warms the network and the pipeline; each pipeline run goes through `serial` (the worker's analysis queue).
 * `stop` is aborted when real images come: no pipeline run starts after that (none slips in between a batch's
 * images), and the one running ends at its next stage (analyzeImage's signal). Resolves with the pipeline runs
 * completed.
 */
export async function warmWorker(
  model: LoadedModel,
  serial: <T>(job: () => Promise<T>) => Promise<T>,
  stop: AbortSignal,
): Promise<number> {
  await warmUp(model).catch(() => undefined);
  // A network run holds this thread: messages that came meanwhile (an analyze call) are only seen once the
  // continuation yields to them, not in the same turn.
  const messagesSeen = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
  await messagesSeen();
  if (stop.aborted) return 0;
  const png = warmUpPng();
  let done = 0;
  for (let k = 0; k < WARM_ANALYSES; k++) {
    await messagesSeen();
    const ran = await serial(async () => {
      if (stop.aborted) return false;
      try {
        await analyzeImage({ name: 'warm-up.png', bytes: png }, DEFAULT_OPTIONS, model, { signal: stop });
        return true;
      } catch (e) {
        if (stop.aborted) return false;
        throw e;
      }
    });
    if (!ran) break;
    done++;
  }
  return done;
}
