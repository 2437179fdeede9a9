import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

// The layering rule of docs/ARCHITECTURE.md: shared imports nothing of ours; engine, main, preload and
// renderer never import each other (except through shared); only src/main/shell and src/preload
// import electron.
const ours = (folder) => [`**/${folder}/**`, `../${folder}/*`, `../../${folder}/*`, `../../../${folder}/*`, `../../../../${folder}/*`];
const electronBan = { name: 'electron', message: 'Only src/main/shell and src/preload may import electron.' };
const layer = (banned, { electron = true } = {}) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: electron ? [electronBan] : [],
      patterns: banned.map((folder) => ({
        group: ours(folder),
        message: `This layer must not import src/${folder} (see docs/ARCHITECTURE.md, "Folders and what each may import").`,
      })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', '.cache/**', 'test-results/**', 'dist/**', 'tests/fixtures/lint/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'svelte/no-inner-declarations': 'off' },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] }, globals: { ...globals.browser } },
  },
  { files: ['src/shared/**'], rules: layer(['main', 'engine', 'preload', 'renderer']) },
  { files: ['src/engine/**'], rules: layer(['main', 'preload', 'renderer']) },
  { files: ['src/main/**'], rules: layer(['engine', 'preload', 'renderer']) },
  { files: ['src/main/shell/**'], rules: layer(['engine', 'preload', 'renderer'], { electron: false }) },
  { files: ['src/preload/**'], rules: layer(['main', 'engine', 'renderer'], { electron: false }) },
  { files: ['src/renderer/**'], rules: layer(['main', 'engine', 'preload']) },
);
