// ESLint (typescript-eslint) for src/, test/, bench/ and explorer/; formatting is Prettier's
// (.prettierrc.json), so no style rule here fights it. `npm run lint` runs both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['build/**', 'node_modules/**', 'out/**', 'notebooks/**', 'teacher/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Workers, plugins and user task modules are loaded by path at run time.
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Every line at most 120 characters, Prettier's width; strings, template literals, regexes,
      // comments and URLs count too (a long message is split as 'a ' + 'b', which keeps it whole).
      'max-len': ['error', { code: 120 }],
    },
  },
);
