const base = require('./jest.base.config');

// Deploy tier: the Helm chart rendered by the real helm and checked against the Kubernetes
// schemas, the Dockerfile and docker-compose.yml parsed, and the quick start on closed ports.
module.exports = {
  ...base,
  displayName: 'deploy',
  testMatch: ['<rootDir>/test/deploy/**/*.spec.ts'],
  testTimeout: 120_000,
};
