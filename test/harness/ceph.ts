import type { TestS3 } from './s3rver';

/** Where the S3-compatibility suite's global setup publishes the Ceph RGW it started or reuses. */
export const RGW_ENV = {
  endpoint: 'STOWAGE_TEST_RGW_ENDPOINT',
  accessKey: 'STOWAGE_TEST_RGW_ACCESS_KEY',
  secretKey: 'STOWAGE_TEST_RGW_SECRET_KEY',
} as const;

/**
 * The Ceph RGW shared by every file of `npm run test:s3-compat`. Its global setup starts one
 * single-node cluster per run (or reuses one named by the STOWAGE_TEST_RGW_* variables) and stops it
 * at the end, so `close()` does nothing: tests isolate themselves with buckets of their own.
 */
export function cephS3(): TestS3 {
  const endpoint = process.env[RGW_ENV.endpoint];
  const accessKey = process.env[RGW_ENV.accessKey];
  const secretKey = process.env[RGW_ENV.secretKey];
  if (!endpoint || !accessKey || !secretKey) {
    throw new Error(
      `No Ceph RGW for this test: ${Object.values(RGW_ENV).join(', ')} are unset. ` +
        'Run it with `npm run test:s3-compat`, whose global setup starts one.',
    );
  }
  return { endpoint, accessKey, secretKey, region: 'us-east-1', close: async () => undefined };
}
