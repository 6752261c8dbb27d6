import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('@20minutes/s3rver');

export interface TestS3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  close(): Promise<void>;
}

/**
 * An in-process S3 server (s3rver) storing objects in a temporary folder. Paginated listings
 * need Node's legacy OpenSSL provider (`npm run test:e2e` sets it).
 */
export async function startS3rver(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'stowage-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  forgetAbortedUploads(server.store as ObjectStore);
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    region: 'us-east-1',
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

interface ObjectStore {
  putContent(objectPath: string, content: unknown): Promise<[number, string]>;
}

/**
 * S3 stores nothing of an upload whose connection breaks off before its last byte; s3rver keeps
 * the bytes it got on disk and then serves them as the object. Removing the file when the upload
 * fails (synchronously, before any later request is read) makes it behave as S3 does.
 */
function forgetAbortedUploads(store: ObjectStore): void {
  const putContent = store.putContent.bind(store);
  store.putContent = async (objectPath, content) => {
    try {
      return await putContent(objectPath, content);
    } catch (err) {
      rmSync(objectPath, { force: true });
      throw err;
    }
  };
}
