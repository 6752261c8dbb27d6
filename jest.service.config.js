const base = require('./jest.base.config');

// Service tier: the business rules of the feature services, built without HTTP, PostgreSQL or
// Redis: MemoryDriver behind a real BackendRegistry, strict stubs for repositories and Redis.
module.exports = {
  ...base,
  displayName: 'service',
  testMatch: ['<rootDir>/test/service/**/*.spec.ts'],
  testTimeout: 10_000,
};
