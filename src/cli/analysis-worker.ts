/**
 * The analysis thread of `saemi analyze`: holds the model, decodes and analyses one image at a time and
 * answers with a FinishedImage. It runs apart from the main thread so that an image over --image-timeout
 * can really be stopped (Worker.terminate() ends even a busy synchronous loop), which a timer on the thread
 * doing the work cannot do.
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { InferenceBackend, LoadedModel } from '../core/segment/model';
import { analyzeImage } from '../core/pipeline';
import { finishImage, oneLine } from './finished-image';
import { loadModel } from './load-model';
import { nodeRecognizer } from './ocr-engine';
import { memoRecognizer } from '../core/calibrate/recognizer-memo';
import {
  GATE_IDLE,
  GATE_NATIVE,
  type HostMessage,
  type WorkerMessage,
  type WorkerSetup,
} from './analysis-host';

const port = parentPort;
if (port) void serve(workerData as WorkerSetup & { gate: Int32Array });

/** Native inference only while the host has not claimed the gate (see analysis-host.ts). */
function gated(b: InferenceBackend, gate: Int32Array): InferenceBackend {
  return {
    name: b.name,
    async run(input, height, width) {
      if (Atomics.compareExchange(gate, 0, GATE_IDLE, GATE_NATIVE) !== GATE_IDLE)
        throw new Error('analysis stopped');
      try {
        return await b.run(input, height, width);
      } finally {
        Atomics.compareExchange(gate, 0, GATE_NATIVE, GATE_IDLE);
      }
    },
    dispose: () => b.dispose(),
  };
}

async function serve(setup: WorkerSetup & { gate: Int32Array }): Promise<void> {
  const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port!.postMessage(m, transfer);
  let model: LoadedModel | null = null;
  if (setup.model) {
    try {
      const loaded = await loadModel(
        setup.model.path,
        setup.model.backend,
        setup.model.threads,
        setup.model.precision,
      );
      model = loaded.model;
      if (model.backend.name === 'node-native')
        model = { ...model, backend: gated(model.backend, setup.gate) };
      const s = loaded.files.sidecar;
      post({
        type: 'ready',
        model: {
          name: s.name,
          version: s.version,
          sha256: loaded.files.sha256,
          backend: model.backend.name,
          file: path.basename(loaded.files.onnxPath),
          precision: loaded.files.precision,
        },
        warnings: loaded.warnings,
      });
    } catch (e) {
      post({ type: 'failed', message: oneLine(e) });
      return;
    }
  } else {
    post({ type: 'ready', model: null, warnings: [] });
  }

  // Started only when an image without metadata shows a scale bar whose label must be read.
  const engine = nodeRecognizer();
  // A folder from one microscope repeats its data bar: its label is read by the engine once.
  const ocr = memoRecognizer(engine);
  let current: AbortController | null = null;
  port!.on('message', (m: HostMessage) => {
    if (m.type === 'abort') {
      current?.abort(new Error('analysis stopped'));
      return;
    }
    if (m.type === 'close') {
      void (async () => {
        await model?.backend.dispose();
        await engine.dispose();
        port!.close();
      })();
      return;
    }
    const ac = new AbortController();
    current = ac;
    void (async () => {
      try {
        const a = await analyzeImage(
          { name: m.name, bytes: m.bytes, sidecarTexts: m.sidecarTexts, labels: m.labels },
          setup.options,
          model,
          { signal: ac.signal, ocr },
        );
        const image = finishImage(a, setup.withLabels, setup.withRois);
        const transfer = [image.labelPng, image.roisZip].flatMap((b) => (b ? [b.buffer as ArrayBuffer] : []));
        post({ type: 'done', id: m.id, image }, transfer);
      } catch (e) {
        post({ type: 'error', id: m.id, message: oneLine(e) });
      }
    })();
  });
}
