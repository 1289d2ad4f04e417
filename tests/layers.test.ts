import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The layer rule lives in eslint.config.js (npm run lint); these probes make sure it bites where it should.
const eslint = new ESLint();

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath });
  return res.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer imports', () => {
  it('core may not import from the worker, the app, storage or Node', async () => {
    expect(
      await restricted(
        'src/core/segment/probe.ts',
        "import { a } from '../../worker/api';\nexport const b = a;\n",
      ),
    ).toHaveLength(1);
    expect(
      await restricted(
        'src/core/probe.ts',
        "import { a } from '../app/state/batch.svelte';\nexport const b = a;\n",
      ),
    ).toHaveLength(1);
    expect(
      await restricted('src/core/probe.ts', "import { get } from 'idb-keyval';\nexport const b = get;\n"),
    ).toHaveLength(1);
    expect(
      await restricted(
        'src/core/probe.ts',
        "import { readFile } from 'node:fs';\nexport const b = readFile;\n",
      ),
    ).toHaveLength(1);
  });

  it('the worker may not import from the app; storage not from the worker', async () => {
    expect(
      await restricted(
        'src/worker/probe.ts',
        "import { a } from '../app/state/batch.svelte';\nexport const b = a;\n",
      ),
    ).toHaveLength(1);
    expect(
      await restricted(
        'src/storage/probe.ts',
        "import type { Grey8 } from '../worker/api';\nexport type B = Grey8;\n",
      ),
    ).toHaveLength(1);
    expect(
      await restricted('src/cli/probe.ts', "import { a } from '../worker/api';\nexport const b = a;\n"),
    ).toHaveLength(1);
  });

  it('imports downwards pass', async () => {
    expect(
      await restricted(
        'src/worker/probe.ts',
        "import { sha256Hex } from '../core/hash';\nexport const b = sha256Hex;\n",
      ),
    ).toEqual([]);
    expect(
      await restricted(
        'src/app/probe.ts',
        "import { get } from '../storage/cache';\nexport const b = get;\n",
      ),
    ).toEqual([]);
    expect(
      await restricted(
        'src/cli/probe.ts',
        "import { a } from '../ocr/tesseract-recognizer';\nexport const b = a;\n",
      ),
    ).toEqual([]);
  });
});
