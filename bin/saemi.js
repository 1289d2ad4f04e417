#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx's loader, so `npx saemi` works right after `npm ci`
// without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// onnxruntime-web's WASM threads can keep the event loop alive; leave once stdout/stderr are flushed.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);
