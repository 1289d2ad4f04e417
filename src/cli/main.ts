/**
 * `saemi` command entry: dispatches sub-commands. Returns the exit code instead of exiting, so tests and
 * the launcher (bin/saemi.js) decide when the process ends.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runAnalyzeCommand } from './analyze-command';
import { ANALYZE_HELP } from './args';
import { PACKAGE_ROOT } from './load-model';
import { runMergeCommand } from './merge-command';

const HELP = `saemi — Size Analysis of Electron Microscopy Images

Usage:
  saemi analyze INPUT... --out DIR [options]   segment and measure particles (saemi analyze --help)
  saemi merge RUN_DIR... --out DIR             pool the outputs of several analyze runs (saemi merge --help)
  saemi synth ...                              generate synthetic micrographs with exact masks (saemi synth --help)
  saemi --version

${ANALYZE_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (cmd === 'analyze' || cmd === 'analyse') return runAnalyzeCommand(rest);
  if (cmd === 'merge') return runMergeCommand(rest);
  if (cmd === 'synth') {
    // Imported lazily: the synth command is its own module, and `analyze` must not depend on it.
    let mod: { runSynthCommand?: (args: string[]) => Promise<number> };
    try {
      mod = (await import('./synth-command')) as typeof mod;
    } catch (e) {
      process.stderr.write(`saemi synth is not available: ${(e as Error).message}\n`);
      return 2;
    }
    if (typeof mod.runSynthCommand !== 'function') {
      process.stderr.write('saemi synth is not available in this build\n');
      return 2;
    }
    return mod.runSynthCommand(rest);
  }
  process.stderr.write(`saemi: unknown command "${cmd}" (try saemi --help)\n`);
  return 2;
}
