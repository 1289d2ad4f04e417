#!/usr/bin/env node
// `npm start`: build the app, then serve it with `vite preview`. npm passes SIGINT/SIGTERM to the shell it runs
// a script in, but sh does not pass them on to its children, so a preview started by `npm run build && npm run
// preview` outlived a stopped `npm start` and kept the port. The script `exec`s this launcher (sh is replaced,
// npm's signal reaches us) and the preview is our own child: SIGINT, SIGTERM and SIGHUP are passed on.
// PORT chooses the port (default 4173).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// vite's package exports do not include its bin script; it sits where npm installs it.
const vite = fileURLToPath(new URL('../node_modules/vite/bin/vite.js', import.meta.url));
const port = process.env.PORT ?? '4173';
let child = null;
let stopping = null;

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopping = sig;
    if (child) child.kill(sig);
    else process.exit(130);
  });
}

function run(args) {
  return new Promise((resolve) => {
    child = spawn(process.execPath, [vite, ...args], { stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      child = null;
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

const built = await run(['build']);
if (built !== 0 || stopping) process.exit(stopping ? 130 : built);
const served = await run(['preview', '--port', port, '--strictPort']);
process.exit(stopping ? 0 : served);
