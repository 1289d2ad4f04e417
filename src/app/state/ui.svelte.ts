/** View state only: what is selected and how it is shown. Nothing here affects results. */
import type { OverlayMode, Tool } from '../components/view/tools';
import type { Metric, Scope, Weighting } from '../components/view/metrics';

class Ui {
  selectedImage = $state<string | null>(null);
  selectedParticle = $state<number | null>(null);
  overlay = $state<OverlayMode>('outline');
  opacity = $state(0.6);
  tool = $state<Tool>('select');
  brushRadius = $state(6);
  metric = $state<Metric>('ecd');
  /** Histogram bin width in the display unit; null = automatic. */
  binWidth = $state<number | null>(null);
  weighting = $state<Weighting>('number');
  scope = $state<Scope>('image');
  helpOpen = $state(false);
  /** Transient message (top of the page), e.g. "particles.csv saved". */
  toast = $state<string | null>(null);

  notify(msg: string): void {
    this.toast = msg;
    const shown = msg;
    setTimeout(() => {
      if (this.toast === shown) this.toast = null;
    }, 4000);
  }
}

export const ui = new Ui();
