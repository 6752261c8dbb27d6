// Writes `{ suite, passed, failed, skipped }` for the run into $STOWAGE_TEST_SUMMARY_DIR, so
// .ci/run can print one total over every suite it ran. Does nothing when the variable is unset.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.name = globalConfig.displayName?.name ?? globalConfig.projects?.[0] ?? 'jest';
  }

  onRunComplete(_contexts, results) {
    const dir = process.env.STOWAGE_TEST_SUMMARY_DIR;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const failedSuites = results.numFailedTestSuites - results.testResults.filter((r) => r.numFailingTests > 0).length;
    const summary = {
      passed: results.numPassedTests,
      // A suite that failed to run (syntax error, failing hook) counts as one failure.
      failed: results.numFailedTests + Math.max(0, failedSuites),
      skipped: results.numPendingTests + results.numTodoTests,
    };
    writeFileSync(join(dir, `${Date.now()}-${process.pid}.json`), JSON.stringify(summary));
  }
}

module.exports = SummaryReporter;
