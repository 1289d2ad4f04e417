/** What runs the analysis: backend in use, model loaded (or why none), readiness. */
import type { InitResult } from '../../worker/api';

class Engine {
  /** 'starting' until the worker has reported; then the worker's InitResult. */
  ready = $state(false);
  info = $state<InitResult | null>(null);
  /** Name of a custom model kept in IndexedDB, if the user loaded one. */
  customModelName = $state<string | null>(null);

  get backendLabel(): string {
    const i = this.info;
    if (!i) return 'starting…';
    // The weights' precision (fp32, or the int8 variant) after the backend: "WASM · 2 threads · int8".
    const p = i.precision ? ` · ${i.precision}` : '';
    if (i.backend === 'webgpu')
      return (
        (i.cpuNodes > 0 ? `WebGPU + WASM (${i.cpuNodes} node${i.cpuNodes === 1 ? '' : 's'})` : 'WebGPU') + p
      );
    if (i.backend === 'wasm') return `WASM · ${i.threads} thread${i.threads === 1 ? '' : 's'}${p}`;
    return 'no model · threshold only';
  }

  get modelLabel(): string {
    const m = this.info?.model;
    return m ? `${m.name} v${m.version}` : 'none';
  }

  /** Cache-key part: results from different models (or none) never mix. */
  get modelKey(): string {
    const m = this.info?.model;
    return m ? `${m.name}@${m.version}#${m.sha256.slice(0, 16)}` : 'no-model';
  }
}

export const engine = new Engine();
