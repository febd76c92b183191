import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sequencerModule from '@jest/test-sequencer';

/**
 * The jest test sequencer used by mutation testing (stryker.config.mjs; `npm run test:mutation`).
 *
 * For each mutant, Stryker's jest runner asks for the tests that covered it (`testNamePattern`) in every test file
 * related to the mutated file (`--findRelatedTests`), so jest would still load all those files, each with its imports:
 * about a minute per mutant of src/shared, even when one unit test covers it. This sequencer remembers the full names
 * of each file's tests from the runs so far in this process (the initial run of every test comes first) and leaves
 * out the files none of whose tests match the pattern. Files it has not seen yet, and runs without a pattern (static
 * mutants), keep every file. The names also go to .stryker-tmp/mutation-test-names.json under jest's rootDir (the
 * sandbox), so a test-runner process that Stryker starts anew after a timed-out mutant knows them from the start.
 */
const BaseSequencer = sequencerModule.default ?? sequencerModule;

/** @type {Map<string, string[]>} test file path → full names of its tests; kept across jest runs in this process */
const testNamesByFile = (globalThis[Symbol.for('retention.mutationTestNames')] ??= new Map());

function namesFile(options) {
  const rootDir = options?.contexts?.[0]?.config?.rootDir ?? process.cwd();
  return path.join(rootDir, '.stryker-tmp', 'mutation-test-names.json');
}

export default class MutationTestSequencer extends BaseSequencer {
  /** @type {RegExp | undefined} */
  #pattern;
  /** @type {string} */
  #namesFile;

  constructor(options) {
    super(options);
    this.#namesFile = namesFile(options);
    if (testNamesByFile.size === 0) {
      try {
        for (const [file, names] of Object.entries(JSON.parse(readFileSync(this.#namesFile, 'utf8')))) testNamesByFile.set(file, names);
      } catch {
        // none saved yet: this is the first run
      }
    }
    const pattern = options?.globalConfig?.testNamePattern;
    // jest matches testNamePattern case-insensitively against each test's full name
    this.#pattern = pattern ? new RegExp(pattern, 'i') : undefined;
  }

  sort(tests) {
    const pattern = this.#pattern;
    if (!pattern) return super.sort(tests);
    return super.sort(
      tests.filter((test) => {
        const names = testNamesByFile.get(test.path);
        return !names || names.some((name) => pattern.test(name));
      }),
    );
  }

  cacheResults(tests, results) {
    for (const file of results.testResults) {
      if (!file.testExecError) testNamesByFile.set(file.testFilePath, file.testResults.map((test) => test.fullName));
    }
    mkdirSync(path.dirname(this.#namesFile), { recursive: true });
    writeFileSync(this.#namesFile, JSON.stringify(Object.fromEntries(testNamesByFile)));
    super.cacheResults(tests, results);
  }
}
