// Lint configuration: typescript-eslint's recommended rules over the whole workspace, plus
// the layering of the house (docs/new-service.md): no service imports another, libs/
// import no service, and libs/contracts does no I/O.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const services = readdirSync(fileURLToPath(new URL('./services', import.meta.url)), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const servicePackages = (names) =>
  names.map((n) => ({
    group: [`@praxis/${n}`, `@praxis/${n}/*`],
    message: 'Services never import another service: use its events or its HTTP API.',
  }));
// What libs/contracts may not import: Node's I/O modules and the I/O libraries.
const ioModules = [
  ...['fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns', 'tls'].flatMap((m) => [m, `node:${m}`]),
  ...['mongoose', 'mongodb', 'amqplib', 'ioredis', 'express', 'undici'],
];
// A relative path that climbs out of a service folder into a sibling (`../../records/src/…`).
const siblingPath = (names) => ({
  regex: `^(\\.\\./)+(${names.join('|')})(/|$)`,
  message: 'Services never import another service: use its events or its HTTP API.',
});

const libsMayNotImport = [...servicePackages(services), { regex: '(^|/)services(/|$)', message: 'libs/ never import a service.' }];

export default tseslint.config(
  { files: ['*.mjs'], languageOptions: { globals: { URL: 'readonly' } } },
  { ignores: ['**/node_modules/**', '**/dist/**', '**/dist-test/**', '.data/**', 'coverage/**', 'charts/**', 'k8s/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-require-imports': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read the environment only in a service config.ts.',
        },
      ],
    },
  },
  {
    files: ['**/config.ts', '**/telemetry-register.ts', 'libs/testing/**', '**/*.test.ts', 'scripts/**', 'bench/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  // Layers.
  ...services.map((name) => {
    const others = services.filter((s) => s !== name);
    return {
      files: [`services/${name}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              ...servicePackages(others),
              siblingPath(others),
              // A feature's routes are its own: what two features share lives in a schemas.ts or common/.
              {
                group: ['../*/routes'],
                message: "Import shared shapes from the feature's schemas.ts or common/, not another feature's routes.",
              },
            ],
          },
        ],
      },
    };
  }),
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: libsMayNotImport }],
    },
  },
  {
    files: ['libs/contracts/**/*.ts'],
    ignores: ['libs/contracts/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({ name, message: 'libs/contracts does no I/O.' })),
          patterns: [
            ...libsMayNotImport,
            {
              group: ['@praxis/platform', '@praxis/platform/*', '@praxis/testing', '@praxis/testing/*'],
              message: 'libs/contracts depends on nothing of ours: it does no I/O.',
            },
          ],
        },
      ],
    },
  },
);
