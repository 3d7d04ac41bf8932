import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own report, so
 * CI logs end with a count any tool can read. Skipped tests are counted, never as passed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    let failedFiles = 0;
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else skipped++;
      }
      failed += failedHere;
      // A file that failed outside its tests (a hook, an import) fails the run too: count it.
      if (module.state() === 'failed' && failedHere === 0) failedFiles++;
    }
    const files =
      failedFiles > 0 ? `, ${failedFiles} file${failedFiles === 1 ? '' : 's'} failed outside a test` : '';
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped${files}`);
  }
}
