// One jest run for the whole repository. Unit tests (*.test.ts) sit beside the code;
// integration tests (test/*.int.test.ts) talk to the real servers started by
// scripts/infra. TypeScript is transformed by swc; `pnpm typecheck` runs tsc.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{libs,services}/*/src/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/{libs,services}/*/test/**/*.int.test.ts',
        '<rootDir>/test/e2e/**/*.int.test.ts',
        '<rootDir>/charts/test/**/*.int.test.ts',
      ],
      testPathIgnorePatterns: ['/node_modules/', '/test/disruptive/'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.js',
    },
    {
      // Tests that restart shared servers; scripts/test runs them alone, after the rest.
      ...common,
      displayName: 'disruptive',
      testMatch: ['<rootDir>/{libs,services}/*/test/disruptive/**/*.int.test.ts', '<rootDir>/test/disruptive/**/*.int.test.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.js',
    },
  ],
};
