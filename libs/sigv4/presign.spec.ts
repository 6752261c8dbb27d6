import { presignQuery } from './presign';
import { deriveSigningKey } from './signing';
import { verifyRequest } from './verify';

const ACCESS_KEY = 'AKIASTOWAGETEST00001';
const SECRET = 'stowage/TestSecretKey+0123456789abcdefghij';
const T0 = new Date('2026-03-14T09:26:53Z');

function presign(overrides: Partial<Parameters<typeof presignQuery>[0]> = {}) {
  return presignQuery({
    method: 'GET',
    path: '/bkt/dir/a%20b%2Bc.txt',
    headers: { host: 'stowage.test:9000' },
    accessKeyId: ACCESS_KEY,
    signingKey: deriveSigningKey(SECRET, '20260314', 'eu-central-1', 's3'),
    region: 'eu-central-1',
    service: 's3',
    now: T0.getTime(),
    expiresSeconds: 300,
    ...overrides,
  });
}

const verify = (method: string, path: string, query: string, headers: Record<string, string>, now = T0) =>
  verifyRequest(
    { method, path, query, headers, lookupSecret: () => SECRET },
    { now, region: 'eu-central-1', service: 's3' },
  );

describe('presignQuery', () => {
  it('makes a URL the verifier accepts, good until it expires', async () => {
    const query = presign();
    expect(query).toMatch(
      /^X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIASTOWAGETEST00001%2F20260314%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20260314T092653Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$/,
    );
    const headers = { host: 'stowage.test:9000' };
    const verified = await verify('GET', '/bkt/dir/a%20b%2Bc.txt', query, headers);
    expect(verified).toMatchObject({ mode: 'presigned', payload: 'unsigned', accessKeyId: ACCESS_KEY });
    expect(verified.expiresAt?.toISOString()).toBe('2026-03-14T09:31:53.000Z');
    await expect(
      verify('GET', '/bkt/dir/a%20b%2Bc.txt', query, headers, new Date(T0.getTime() + 301_000)),
    ).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(verify('PUT', '/bkt/dir/a%20b%2Bc.txt', query, headers)).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    await expect(verify('GET', '/bkt/dir/other', query, headers)).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  it('signs extra headers, which the URL user must then send as they are', async () => {
    const query = presign({ method: 'PUT', headers: { host: 'h', 'content-type': 'text/plain' } });
    expect(query).toContain('X-Amz-SignedHeaders=content-type%3Bhost');
    await expect(
      verify('PUT', '/bkt/dir/a%20b%2Bc.txt', query, { host: 'h', 'content-type': 'text/plain' }),
    ).resolves.toMatchObject({ mode: 'presigned' });
    await expect(
      verify('PUT', '/bkt/dir/a%20b%2Bc.txt', query, { host: 'h', 'content-type': 'image/png' }),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it.each([0, -1, 1.5, 604_801, Number.NaN])('refuses a lifetime of %p seconds', (expiresSeconds) => {
    expect(() => presign({ expiresSeconds })).toThrow(RangeError);
  });

  it('refuses to presign without a host', () => {
    expect(() => presign({ headers: {} })).toThrow(RangeError);
  });
});
