import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Threaded WASM needs SharedArrayBuffer, which browsers only grant to cross-origin isolated pages.
 * Every server we ship config for sends these (static hosts: public/_headers).
 */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const MODEL_SIDECAR = resolve(import.meta.dirname, 'models/saemi-unet.json');

/**
 * The bundled model's files (sidecar, the .onnx it names and its variants' .onnx files, e.g. the int8 one), or
 * [] while no model has been trained yet. A variant whose file is missing is left out (the worker then falls
 * back to the fp32 file under auto).
 */
function bundledModelFiles(): { name: string; path: string }[] {
  if (!existsSync(MODEL_SIDECAR)) return [];
  const sidecar = JSON.parse(readFileSync(MODEL_SIDECAR, 'utf8')) as {
    file?: string;
    variants?: { file: string }[];
  };
  const name = sidecar.file ?? 'saemi-unet.onnx';
  const onnx = resolve(import.meta.dirname, 'models', name);
  if (!existsSync(onnx)) return [];
  const variants = (sidecar.variants ?? [])
    .map((v) => ({ name: v.file, path: resolve(import.meta.dirname, 'models', v.file) }))
    .filter((v) => /^[\w.-]+$/.test(v.name) && existsSync(v.path));
  return [{ name: 'saemi-unet.json', path: MODEL_SIDECAR }, { name, path: onnx }, ...variants];
}

/**
 * The model lives in models/ (next to its training code and card), not in public/: serve it in dev and
 * emit it into dist/models/ at build time so the service worker precaches it with the app.
 */
function bundledModel(): Plugin {
  return {
    name: 'saemi-bundled-model',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = req.url?.split('?')[0] ?? '';
        const m = /\/models\/([\w.-]+)$/.exec(url);
        const file = m && bundledModelFiles().find((f) => f.name === m[1]);
        if (!file) return next();
        res.setHeader(
          'Content-Type',
          file.name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        );
        for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
        res.end(readFileSync(file.path));
      });
    },
    generateBundle() {
      for (const f of bundledModelFiles()) {
        this.emitFile({ type: 'asset', fileName: `models/${f.name}`, source: readFileSync(f.path) });
      }
    },
  };
}

/**
 * tesseract.js fetches `<langPath>/eng.traineddata.gz` by that exact name, so the English data (npm package
 * @tesseract.js-data/eng, best_int) is served in dev and emitted at build time as ocr/eng.traineddata.gz.
 */
const OCR_LANG = resolve(
  import.meta.dirname,
  'node_modules/@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz',
);
function ocrLanguageData(): Plugin {
  return {
    name: 'saemi-ocr-language-data',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!(req.url?.split('?')[0] ?? '').endsWith('/ocr/eng.traineddata.gz')) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
        res.end(readFileSync(OCR_LANG));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'ocr/eng.traineddata.gz', source: readFileSync(OCR_LANG) });
    },
  };
}

const fileAccept = {
  'image/tiff': ['.tif', '.tiff'],
  'image/png': ['.png'],
  'image/jpeg': ['.jpg', '.jpeg'],
  // No registered MIME types; the OS matches these handlers by extension.
  'application/x-dm3': ['.dm3'],
  'application/x-dm4': ['.dm4'],
  'application/x-mrc': ['.mrc'],
};

export default defineConfig({
  base: process.env.SAEMI_BASE ?? '/',
  plugins: [
    svelte(),
    bundledModel(),
    ocrLanguageData(),
    VitePWA({
      registerType: 'prompt',
      injectRegister: false,
      includeAssets: ['favicon.svg', 'icons/*.png'],
      manifest: {
        name: 'SAEMI — Size Analysis of Electron Microscopy Images',
        short_name: 'SAEMI',
        description:
          'Nanoparticle segmentation and size distributions from SEM/TEM micrographs, entirely on your machine.',
        theme_color: '#1d2733',
        background_color: '#12181f',
        display: 'standalone',
        start_url: '.',
        scope: '.',
        id: 'saemi',
        icons: [
          { src: 'favicon.svg', sizes: 'any', type: 'image/svg+xml' },
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
        file_handlers: [{ action: '.', accept: fileAccept }],
        launch_handler: { client_mode: 'focus-existing' },
      },
      workbox: {
        // The ORT wasm binary (~28 MB), the model and the OCR engine + data (~7 MB) are precached for offline use.
        globPatterns: ['**/*.{js,mjs,css,html,svg,png,wasm,onnx,json,webmanifest,gz}'],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
        navigateFallback: 'index.html',
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // plotly.js-dist-min is one 4.6 MB chunk, loaded lazily (at idle, before it is needed): expected, not a warning.
  build: { target: 'es2022', chunkSizeWarningLimit: 5000 },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});
