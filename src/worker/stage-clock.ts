/**
 * Wall-clock time per stage of one image's analysis (ms), for the app's per-image timing details and the
 * browser benchmark (bench/app-batch.ts). A stage lasts from its `enter` to the next one; entering a stage
 * again adds to its time.
 */
export type StageTimes = Record<string, number>;

export class StageClock {
  readonly times: StageTimes = {};
  private stage = '';
  private since = performance.now();
  private readonly start = this.since;

  enter(stage: string): void {
    if (stage === this.stage) return;
    const now = performance.now();
    if (this.stage) this.times[this.stage] = (this.times[this.stage] ?? 0) + (now - this.since);
    this.stage = stage;
    this.since = now;
  }

  /** Closes the current stage and returns every stage's time (rounded to 0.1 ms) and the total. */
  finish(): StageTimes {
    this.enter('');
    const out: StageTimes = {};
    for (const [k, v] of Object.entries(this.times)) out[k] = Math.round(v * 10) / 10;
    out.total = Math.round((performance.now() - this.start) * 10) / 10;
    return out;
  }
}
