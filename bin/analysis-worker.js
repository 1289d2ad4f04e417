// Worker-thread entry of `saemi analyze` (src/cli/analysis-host.ts starts it): Node does not pass the main
// thread's tsx loader to workers, so it is registered here again, as bin/saemi.js does.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/analysis-worker.ts');
