import type { BootOptions, TestApp, TestStack } from './app';
import type { Backend } from '../../src/storage-backends/backend';
import { login, seedUser, Session } from './session';

export interface StorageFixture {
  app: TestApp;
  admin: Session;
  user: Session;
  reader: Session;
}

/**
 * Boots an app whose backend (`local` unless `id` says otherwise) is the stack's S3 server, signs in an admin, a user and a
 * readonly user, and creates `bucket` when given. Rate limits are off: tests make many calls.
 */
export async function bootWithBackend(
  stack: TestStack,
  options: {
    id?: string;
    bucket?: string;
    kind?: string;
    /** Instead of the stack's S3 server's own endpoint (e.g. a recording proxy in front of it). */
    endpoint?: string;
    config?: Record<string, unknown>;
    /** Extra environment (e.g. STOWAGE_SECRET_KEY) beside the backend's keys. */
    env?: Record<string, string>;
    imports?: BootOptions['imports'];
  } = {},
): Promise<StorageFixture> {
  const s3 = stack.s3!;
  const app = await stack.boot({
    config: {
      ratelimit: { login_per_ip: 0, api_per_minute: 0 },
      backends: [
        {
          id: options.id ?? 'local',
          endpoint: options.endpoint ?? s3.endpoint,
          region: s3.region,
          access_key_env: 'K',
          secret_key_env: 'S',
          path_style: true,
          kind: options.kind ?? 's3rver',
        },
      ],
      ...(options.config ?? {}),
    },
    env: { ...(options.env ?? {}), K: s3.accessKey, S: s3.secretKey },
    imports: options.imports,
  });
  const [admin, user, reader] = await Promise.all(
    (['admin', 'user', 'readonly'] as const).map(async (role) => login(app, (await seedUser(app, { role })).username)),
  );
  if (options.bucket) {
    const res = await admin.request(`/api/backends/${options.id ?? 'local'}/buckets`, {
      method: 'POST',
      body: { name: options.bucket },
    });
    if (res.status !== 201) throw new Error(`could not create bucket ${options.bucket}: ${res.status} ${res.text}`);
  }
  return { app, admin, user, reader };
}

/**
 * Empties and deletes a bucket on a backend that keeps buckets across test files (Ceph): aborts
 * its multipart uploads, deletes every version (or object, where versions are not listed), then
 * the bucket.
 */
export async function removeBucket(backend: Backend, bucket: string): Promise<void> {
  for (const upload of await backend.listMultipartUploads(bucket).catch(() => [])) {
    await backend.abortMultipart(bucket, upload.key, upload.uploadId).catch(() => undefined);
  }
  for (let round = 0; round < 100; round++) {
    const versions = await backend.listObjectVersions(bucket, '').catch(() => undefined);
    const entries =
      versions?.map((v) => ({ key: v.key, versionId: v.versionId })) ??
      (await backend.listObjects({ bucket, maxKeys: 1000 })).objects.map((o) => ({ key: o.key }));
    if (entries.length === 0) break;
    await backend.deleteObjects(bucket, entries.slice(0, 1000));
  }
  await backend.deleteBucket(bucket);
}
