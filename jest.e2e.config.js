const base = require('./jest.base.config');

module.exports = {
  ...base,
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
  testTimeout: 60_000,
  // Every app instance's log lines go to one directory; the teardown fails the run on an error
  // or stack logged for a request answered below 500.
  globalSetup: '<rootDir>/test/harness/log-scan/setup.js',
  globalTeardown: '<rootDir>/test/harness/log-scan/teardown.js',
};
