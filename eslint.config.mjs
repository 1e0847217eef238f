// Flat config: typescript-eslint's recommended rules plus the project's width limit.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['build/**', 'dist/**', 'node_modules/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'max-len': ['error', { code: 100, ignoreUrls: true }],
      'no-console': ['error'],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['demo/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
);
