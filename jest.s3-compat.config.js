const base = require('./jest.base.config');

module.exports = {
  ...base,
  displayName: 's3-compat',
  testMatch: ['<rootDir>/test/s3-compat/**/*.spec.ts'],
  globalSetup: '<rootDir>/test/s3-compat/global-setup.ts',
  globalTeardown: '<rootDir>/test/s3-compat/global-teardown.ts',
  testTimeout: 120_000,
};
