// Jest globalTeardown of the e2e suite: fails the run when an app logged an error or a stack for a
// request it answered below 500. The summary reporter has already written its totals by now, so
// the failure is also written as one failed test for .ci/run, then thrown (jest exits non-zero).
const { mkdirSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { scanLogDir } = require('./scan');

module.exports = async function teardown() {
  const dir = process.env.STOWAGE_E2E_LOG_DIR;
  if (!dir) return;
  const violations = scanLogDir(dir);
  if (violations.length === 0) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const summaryDir = process.env.STOWAGE_TEST_SUMMARY_DIR;
  if (summaryDir) {
    mkdirSync(summaryDir, { recursive: true });
    const summary = { passed: 0, failed: 1, skipped: 0 };
    writeFileSync(join(summaryDir, `${Date.now()}-${process.pid}-log-scan.json`), JSON.stringify(summary));
  }
  const shown = violations
    .slice(0, 20)
    .map((v) => `  ${v.file}: request ${v.reqId} answered ${v.status}, logged ${v.level} "${v.msg}"`);
  throw new Error(
    `e2e log scan: ${violations.length} error-level or stack-carrying log line(s) for requests answered below 500 ` +
      `(logs kept in ${dir}):\n${shown.join('\n')}`,
  );
};
