// Lint rules for the whole repo: type-aware TypeScript (each folder checked against its own
// tsconfig), Svelte, no floating or misused promises (Comlink calls are promises), and imports
// that cross to the wrong side (page, worker, shared) are errors.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TFJS = { regex: '^@tensorflow/', message: 'Only workers/ may use TensorFlow.js.' };
const SVELTE = { regex: '^svelte(/|$)', message: 'Only src/ may use Svelte.' };
const SERVER = { regex: '(^|/)server(/|$)', message: 'The browser code may not import the server (server/ is Node only).' };
/** Relative or absolute paths that pass through a folder named `name`. */
const intoFolder = (name, message) => ({ regex: `(^|/)${name}(/|$)`, message });

/** The same restrictions for static imports (no-restricted-imports) and dynamic `import()`. */
function forbidImports(files, patterns) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns }],
      'no-restricted-syntax': [
        'error',
        ...patterns.map((p) => ({
          selector: `ImportExpression > Literal[value=/${p.regex.replaceAll('/', '\\/')}/]`,
          message: p.message,
        })),
      ],
    },
  };
}

export default defineConfig(
  {
    ignores: ['dist/', 'node_modules/', 'test-results/', 'playwright-report/', 'bench/results/', 'coverage/'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  svelte.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against the nearest tsconfig.json: src/, workers/, shared/ or the root.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      // The worker's Comlink API is async by contract, whether or not a method awaits anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser },
      globals: globals.browser,
    },
    rules: {
      // A SvelteKit rule; Lathe is a plain Svelte app with no `resolve()` to route through.
      'svelte/no-navigation-without-resolve': 'off',
    },
  },
  { files: ['src/**'], languageOptions: { globals: globals.browser } },
  { files: ['workers/**'], languageOptions: { globals: globals.worker } },
  { files: ['shared/**'], languageOptions: { globals: globals['shared-node-browser'] } },
  { files: ['server/**'], languageOptions: { globals: globals.node } },
  {
    files: ['*.js', '*.ts', 'scripts/**', 'e2e/**', 'tests/**', 'bench/**'],
    languageOptions: { globals: globals.node },
  },
  {
    // Playwright code runs callbacks inside the page (page.evaluate, addInitScript).
    files: ['e2e/**', 'bench/**'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    // Plain JavaScript has no annotations, so values from untyped parameters are `any`; the
    // promise rules still apply.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  forbidImports(
    ['shared/**'],
    [
      TFJS,
      SVELTE,
      intoFolder('src', 'shared/ is plain TypeScript: it may not import from src/.'),
      intoFolder('workers', 'shared/ is plain TypeScript: it may not import from workers/.'),
      intoFolder('server', 'shared/ is plain TypeScript: it may not import from server/.'),
    ],
  ),
  forbidImports(
    ['src/**'],
    [
      TFJS,
      SERVER,
      intoFolder(
        'workers',
        'The page may not import worker code; start the worker with new Worker(new URL(...)) in the TrainerClient.',
      ),
    ],
  ),
  forbidImports(['workers/**'], [SVELTE, SERVER, intoFolder('src', 'The worker may not import page code from src/.')]),
  forbidImports(
    ['server/**'],
    [
      TFJS,
      SVELTE,
      intoFolder('src', 'The server may not import page code from src/; share plain types through shared/.'),
      intoFolder('workers', 'The server may not import worker code from workers/; share plain types through shared/.'),
    ],
  ),
);
