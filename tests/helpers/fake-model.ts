import type { ModelSidecar } from '../../src/core/segment/model';

/**
 * The sidecar of a fake two-output model (foreground, boundary) for tests that run the pipeline with a
 * per-pixel stand-in network: small tiles (128 px) so that even small images are tiled.
 */
export const FAKE_SIDECAR: ModelSidecar = {
  name: 'fake',
  version: '0',
  sha256: '',
  file: 'fake.onnx',
  input: { name: 'image', multiple: 32, normalisation: { method: 'percentile', low: 1, high: 99 } },
  tile: { size: 128, overlap: 32 },
  outputs: [
    { name: 'fg', kind: 'foreground' },
    { name: 'bd', kind: 'boundary' },
  ],
  thresholds: { foreground: 0.5, boundary: 0.5 },
};
