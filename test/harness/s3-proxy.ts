import { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { S3ProxyServer } from '../../src/s3-proxy/proxy/s3-proxy.server';
import type { TestApp, TestStack } from './app';
import type { Session } from './session';
import { bootWithBackend } from './storage';

export const ROOT_KEY = 'c0'.repeat(32);

export interface ProxyFixture {
  app: TestApp;
  /** `http://127.0.0.1:<port>` of the S3 proxy listener. */
  endpoint: string;
  admin: Session;
  user: Session;
  backendId: string;
}

export interface VirtualKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The proxy listener's URL of a running app. */
export function proxyEndpoint(app: TestApp): string {
  const address = app.app.get(S3ProxyServer).address();
  if (!address) throw new Error('the S3 proxy is not listening');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * Boots an app with the S3 proxy on a free port in front of the stack's S3 server (backend
 * `local`), with a root key, and signs in an admin and a user.
 */
export async function bootWithProxy(
  stack: TestStack,
  options: { kind?: string; config?: Record<string, unknown> } = {},
): Promise<ProxyFixture> {
  const { s3_proxy: proxyOverrides, ...rest } = options.config ?? {};
  const { app, admin, user } = await bootWithBackend(stack, {
    kind: options.kind,
    config: { s3_proxy: { enabled: true, listen: '127.0.0.1:0', ...((proxyOverrides as object) ?? {}) }, ...rest },
    env: { STOWAGE_SECRET_KEY: ROOT_KEY },
  });
  return { app, endpoint: proxyEndpoint(app), admin, user, backendId: 'local' };
}

/** Creates a bucket through the dashboard API. */
export async function createBucket(admin: Session, backendId: string, name: string): Promise<void> {
  const res = await admin.request(`/api/backends/${backendId}/buckets`, { method: 'POST', body: { name } });
  if (res.status !== 201) throw new Error(`could not create bucket ${name}: ${res.status} ${res.text}`);
}

/** Mints a virtual credential for the session's user, scoped to the buckets given. */
export async function mintCredential(
  session: Session,
  scopes: Array<{ backend_id: string; bucket: string }>,
  extra: Record<string, unknown> = {},
): Promise<VirtualKeys> {
  const res = await session.request('/api/me/s3-credentials', { method: 'POST', body: { scopes, ...extra } });
  if (res.status !== 201) throw new Error(`could not mint a credential: ${res.status} ${res.text}`);
  const body = res.body as { access_key: string; secret_key: string };
  return { accessKeyId: body.access_key, secretAccessKey: body.secret_key };
}

/** An SDK client talking to the proxy, path-style. `checksums` picks the SDK's integrity mode. */
export function proxyClient(
  endpoint: string,
  keys: VirtualKeys,
  options: { checksums?: 'default' | 'when_required'; config?: Partial<S3ClientConfig> } = {},
): S3Client {
  const whenRequired = options.checksums === 'when_required';
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: keys,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 120_000 }),
    ...(whenRequired
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    ...(options.config ?? {}),
  });
}
