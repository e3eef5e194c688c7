// Lint: the recommended JavaScript and TypeScript rules, with the few exceptions this code base relies on.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', queueMicrotask: 'readonly', AbortSignal: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['web/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', localStorage: 'readonly', EventSource: 'readonly', crypto: 'readonly', location: 'readonly', history: 'readonly', navigator: 'readonly', Intl: 'readonly', HTMLElement: 'readonly', CSS: 'readonly', requestAnimationFrame: 'readonly', getComputedStyle: 'readonly', matchMedia: 'readonly', alert: 'readonly', sessionStorage: 'readonly', URLSearchParams: 'readonly', AbortController: 'readonly', Event: 'readonly', CustomEvent: 'readonly', KeyboardEvent: 'readonly', Node: 'readonly' } },
  },
);
