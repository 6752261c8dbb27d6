// Shared Jest settings: TypeScript through ts-jest (transpile only, since tsconfig sets
// isolatedModules; `npm run typecheck` checks types), the `@stowage/*` path aliases, and the
// summary reporter .ci/run adds up.
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // ESM-only dependencies (Node requires them natively, Jest does not).
    '/node_modules/(content-disposition|jose)/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true } }],
  },
  transformIgnorePatterns: ['^(?!.*/node_modules/(content-disposition|jose)/).*/node_modules/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@stowage/(.*)$': '<rootDir>/libs/$1' },
  reporters: ['default', '<rootDir>/test/reporters/summary-reporter.js'],
};
