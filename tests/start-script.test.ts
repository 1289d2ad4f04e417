/**
 * `npm start` (build, then `vite preview`) stops cleanly: SIGTERM to the npm process leaves nothing serving on
 * the port. Before, npm's sh passed no signal on, and the preview outlived it holding the port.
 */
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { describe, expect, it } from 'vitest';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ port, host: 'localhost' });
    c.on('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

describe('npm start', () => {
  it('leaves no preview server on the port after SIGTERM', async () => {
    const port = await freePort();
    // Its own process group, so whatever it started can be cleaned up here if the test fails.
    const npm = spawn('npm', ['start'], {
      env: { ...process.env, PORT: String(port) },
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise<string>((r) =>
      npm.on('exit', (code, signal) => r(`exited (${code ?? signal})`)),
    );
    try {
      expect(await until(() => listening(port), 150_000), `npm start serving on ${port}`).toBe(true);
      npm.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r('still running'), 15_000)),
      ]);
      // npm re-raises the signal on itself once its script has stopped: what matters is that it stops.
      expect(code).toMatch(/^exited/);
      expect(await until(async () => !(await listening(port)), 5_000), `port ${port} free again`).toBe(true);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // The group is gone: nothing was left behind.
      }
    }
  }, 180_000);
});
