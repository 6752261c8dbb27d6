import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createLocalS3 } = require('../../scripts/lib/local-s3');

export interface TestS3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Where the server keeps its files, when it keeps them in a folder (s3rver). */
  directory?: string;
  close(): Promise<void>;
}

/**
 * An in-process S3 server (s3rver) storing objects in a temporary folder. Paginated listings
 * need Node's legacy OpenSSL provider (`npm run test:e2e` sets it).
 */
export async function startS3rver(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'stowage-s3rver-'));
  // s3rver, corrected where it departs from S3 in ways the tests would see (scripts/lib/local-s3.js).
  const server = createLocalS3({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    region: 'us-east-1',
    directory,
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface S3rverBackendOptions {
  /** The environment variables the app reads the keys from ('K' and 'S' unless named). */
  keyEnv?: string;
  secretEnv?: string;
  /** Name the server's region in the entry (the app's default otherwise). */
  region?: boolean;
}

/** The `backends` entry (YAML shape) of a path-style backend on this s3rver. */
export function s3rverBackend(id: string, s3: TestS3, options: S3rverBackendOptions = {}): Record<string, unknown> {
  return {
    id,
    endpoint: s3.endpoint,
    ...(options.region ? { region: s3.region } : {}),
    access_key_env: options.keyEnv ?? 'K',
    secret_key_env: options.secretEnv ?? 'S',
    path_style: true,
    kind: 's3rver',
  };
}
