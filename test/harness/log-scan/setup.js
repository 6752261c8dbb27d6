// Jest globalSetup of the e2e suite: a fresh directory where every app instance of the run appends
// its log lines (test/harness/app.ts), named to the test files through STOWAGE_E2E_LOG_DIR.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async function setup() {
  process.env.STOWAGE_E2E_LOG_DIR = mkdtempSync(join(tmpdir(), 'stowage-e2e-logs-'));
};
