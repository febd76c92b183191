// Mutation testing (issue 17): `npm run test:mutation`, or one folder with
// `npm run test:mutation -- --mutate 'src/shared/**/*.ts'`. See bench/README.md, "Mutation testing".
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));

// Stryker runs the tests in a copy of the project (.stryker-tmp/sandbox-*), where src/dev/paths.ts resolves .temporal/
// to the copy's. The copy leaves out the big binaries (ignorePatterns below) and keeps .temporal/test-server (the
// time-skipping server's classpath), so the harness finds the dev server's CLI here: the test-runner processes inherit it.
const projectCli = path.join(root, '.temporal', 'bin', 'temporal');
if (!process.env.TEMPORAL_CLI_PATH && existsSync(projectCli)) process.env.TEMPORAL_CLI_PATH = projectCli;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/shared/**/*.ts',
    'src/delivery/**/*.ts',
    'src/store/**/*.ts',
    'src/reports/**/*.ts',
    'src/triggers/**/*.ts',
    'src/activities/**/*.ts',
    'src/workflows/**/*.ts',
    // Entry points that only read argv or the environment and call into tested code.
    '!src/delivery/templates-check-cli.ts',
    '!src/delivery/templates-preview-cli.ts',
    '!src/triggers/http/main.ts',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // Only the test files that import the mutated file (directly or not) run for its mutants.
    enableFindRelatedTests: true,
    config: {
      // Once per test-runner process instead of once per mutant; its servers end with the process, so no teardown
      // (null, not undefined: the options reach the test-runner processes as JSON).
      globalSetup: '<rootDir>/test/harness/mutation-global-setup.ts',
      globalTeardown: null,
      // jest.config.js has roots: ['<rootDir>/test'], and Stryker adds only the mutated file's folder, so jest's
      // --findRelatedTests could not follow a test's imports through the rest of src/ (a test reaching
      // src/shared/time-zone.ts through src/store was not "related") and skipped tests that cover the mutant.
      roots: ['<rootDir>/test', '<rootDir>/src'],
      // Per mutant, only the test files holding a test that covered it (jest would load every related file).
      testSequencer: '<rootDir>/test/harness/mutation-test-sequencer.mjs',
      testPathIgnorePatterns: [
        '/node_modules/',
        // Asserts webpack's module id "./node_modules/zod/index.cjs"; in the sandbox node_modules is a symlink to
        // the project's, which webpack names "../../node_modules/zod/index.cjs". It tests src/dev, not mutated here.
        '<rootDir>/test/dev/server-settings.test.ts',
      ],
    },
  },
  coverageAnalysis: 'perTest',
  // Static mutants (module-level code: constants, schemas built on load) need every related test file run in a fresh
  // environment, time-skipping servers and all: about ten minutes each here. They are reported as Ignored, outside
  // the score; `--ignoreStatic false` tests them too.
  ignoreStatic: true,
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // Each test runner has its own dev server, PostgreSQL and time-skipping servers: 2 cores fit one runner and a checker.
  concurrency: 1,
  // The whole related suite runs in band with per-test coverage first: minutes, not the 5 minute default.
  dryRunTimeoutMinutes: 30,
  // A mutant's limit is its tests' time in the initial run × timeoutFactor + timeoutMS + that run's overhead. The
  // journey tests start time-skipping servers and the box is often busy: be generous, or slow runs count as kills.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { logTests: false, reportTests: false },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: [
    '/.temporal/bin',
    '/.temporal/server-bin',
    '/.temporal/schemathesis',
    '/.data',
    '/dist',
    '/coverage',
    '/test-results',
    '/reports',
  ],
};
