import { describe, expect, it } from 'vitest';
import { WARM_ANALYSES, warmWorker } from '../src/worker/warm-up';
import type { InferenceBackend, LoadedModel } from '../src/core/segment/model';
import { FAKE_SIDECAR } from './helpers/fake-model';

/** A per-pixel "network" (bright = particle) that records the size of every run. */
function fakeModel(): LoadedModel & { sizes: string[] } {
  const sizes: string[] = [];
  const backend: InferenceBackend = {
    name: 'fake',
    async run(input, width, height) {
      sizes.push(`${width}x${height}`);
      const fg = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) fg[i] = input[i] > 0.5 ? 0.95 : 0.05;
      return { fg, bd: new Float32Array(input.length) };
    },
    async dispose() {},
  };
  return { sidecar: FAKE_SIDECAR, backend, sizes };
}

/** The worker's queue: one job at a time, counting the jobs. */
function queue(): { serial: <T>(job: () => Promise<T>) => Promise<T>; jobs: number } {
  let tail: Promise<unknown> = Promise.resolve();
  const q = {
    jobs: 0,
    serial<T>(job: () => Promise<T>): Promise<T> {
      q.jobs++;
      const next = tail.then(job, job);
      tail = next.catch(() => undefined);
      return next;
    },
  };
  return q;
}

describe('the analysis worker warm-up', () => {
  it('runs the network once at its largest tile, then the whole pipeline WARM_ANALYSES times', async () => {
    const m = fakeModel();
    const q = queue();
    expect(await warmWorker(m, q.serial, new AbortController().signal)).toBe(WARM_ANALYSES);
    expect(q.jobs).toBe(WARM_ANALYSES);
    // The largest tile first (128 px), then the 512x384 image's tiles, the same each time.
    expect(m.sizes[0]).toBe('128x128');
    const perAnalysis = (m.sizes.length - 1) / WARM_ANALYSES;
    expect(Number.isInteger(perAnalysis) && perAnalysis > 1).toBe(true);
  });

  it('starts no pipeline run once real images have come, but still warms the network', async () => {
    const m = fakeModel();
    const stopped = new AbortController();
    stopped.abort();
    expect(await warmWorker(m, queue().serial, stopped.signal)).toBe(0);
    expect(m.sizes).toEqual(['128x128']);
  });

  it('an image arriving mid-run ends that run at its next tile', async () => {
    const m = fakeModel();
    const stop = new AbortController();
    const run = m.backend.run.bind(m.backend);
    // Real work is asked for during the first pipeline run's first tile.
    m.backend.run = (...a) => {
      if (m.sizes.length === 1) stop.abort();
      return run(...a);
    };
    expect(await warmWorker(m, queue().serial, stop.signal)).toBe(0);
    // The network warm-up and that one tile: the image's other tiles were not run.
    expect(m.sizes).toEqual(['128x128', '128x128']);
  });
});
