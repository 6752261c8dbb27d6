import { randomBytes } from 'node:crypto';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { clearPrefix } = require('../../scripts/lib/stowage-process') as {
  clearPrefix: (prefix: string, url: string) => Promise<void>;
};

export const TEST_REDIS_URL = process.env.STOWAGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export function uniqueRedisPrefix(): string {
  return `stowage-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under a test's prefix. */
export function clearRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  return clearPrefix(prefix, url);
}
