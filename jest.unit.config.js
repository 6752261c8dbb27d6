const base = require('./jest.base.config');

module.exports = { ...base, displayName: 'unit', testMatch: ['<rootDir>/{libs,src,test/unit}/**/*.spec.ts'] };
