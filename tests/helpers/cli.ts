/** Running the `saemi` command in tests, and the simple test images the CLI tests analyse. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as encodePng } from 'fast-png';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'saemi.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `saemi ARGS...` in `cwd` to its end. */
export function runCli(cwd: string, args: string[], timeoutMs = 120_000): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Dark discs (value lo) on a bright ground (hi), none touching the border; returns grey pixels. */
export function discs(
  w: number,
  h: number,
  centres: Array<[number, number, number]>,
  lo: number,
  hi: number,
): number[] {
  const px = new Array<number>(w * h).fill(hi);
  for (const [cx, cy, r] of centres)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) px[y * w + x] = lo;
  return px;
}

/** 8-bit grey PNG of `px`. */
export function greyPng(w: number, h: number, px: ArrayLike<number>): Uint8Array {
  return encodePng({ width: w, height: h, data: Uint8Array.from(px), depth: 8, channels: 1 });
}
