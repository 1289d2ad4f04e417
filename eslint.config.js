import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

/**
 * The layers, enforced: each may import only from the layers below it. core (pure TypeScript, no DOM, runs in
 * the worker and in Node) < ocr, storage < worker, cli < app. Relative specifiers are matched by the folder
 * names they pass through.
 */
const above = {
  core: ['app', 'worker', 'cli', 'ocr', 'storage'],
  ocr: ['app', 'worker', 'cli', 'storage'],
  storage: ['app', 'worker', 'cli', 'ocr'],
  worker: ['app', 'cli'],
  cli: ['app', 'worker', 'storage'],
};
const layerRules = Object.entries(above).map(([layer, banned]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: banned.flatMap((b) => [`**/${b}/*`, `**/${b}/**`]),
            message: `src/${layer} must not import from ${banned.join(', ')} (a layer above it).`,
          },
          ...(layer === 'core'
            ? [
                {
                  group: ['svelte', 'svelte/*', 'comlink', 'idb-keyval', 'node:*'],
                  message: 'src/core is pure TypeScript: no DOM, framework, storage or Node API.',
                },
              ]
            : []),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'dev-dist/**',
      'test-results/**',
      'playwright-report/**',
      'models/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
);
