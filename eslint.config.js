import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'var/**', 'test-artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The console runs in the browser and talks to the collector only over HTTP.
    files: ['packages/dashboard/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', { patterns: ['@nta/agent', '@nta/collector', '**/agent/src/**', '**/collector/src/**'] }] },
  },
  {
    // The agent and the collector never import each other: only @nta/shared crosses.
    files: ['packages/agent/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['@nta/collector', '@nta/collector/*', '**/collector/**'] }] },
  },
  {
    files: ['packages/collector/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['@nta/agent', '@nta/agent/*', '**/agent/**'] }] },
  },
);
