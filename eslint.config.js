import tseslint from 'typescript-eslint';

// eslint's flat config is the one place a default export is required.
export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**', '**/gen/**', '**/dist/**', 'clients/java/**', 'clients/go/**', 'clients/python/**',
      'data/**', 'runs/**', '**/.venv/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-exports': ['error', { restrictDefaultExports: { direct: true } }],
    },
  },
  { files: ['eslint.config.js'], rules: { 'no-restricted-exports': 'off' } },
  // CommonJS scripts that run outside the TypeScript toolchain (container health check, image build).
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
