import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'drizzle/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', performance: 'readonly',
        document: 'readonly', window: 'readonly', Headers: 'readonly', Response: 'readonly', Request: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      // Raw queries go through query() (src/db/client.ts), which maps timestamps to Dates.
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='execute'][arguments.length=1]",
        message: 'run raw SQL with query(tx, sql`...`) from src/db/client.ts: it maps the rows explicitly',
      }],
    },
  },
  {
    // Browser code: served as it is written (types stripped), so it may import only its own
    // modules at run time; the server's types come in through `import type`.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'browser code cannot use Node modules' },
          { group: ['../../**'], allowTypeImports: true, message: 'browser code imports server modules for their types only (import type)' },
        ],
      }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require'],
    },
  },
  { files: ['src/db/client.ts'], rules: { 'no-restricted-syntax': 'off' } },
);
