import { createHmac } from 'node:crypto';
import { checkPostPolicy, checkPostSignature, parsePostPolicy } from './post-policy';
import { deriveSigningKey, signString } from './signing';

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const b64 = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64');

// The policy of the Amazon S3 documentation's browser-upload example (SigV4, "sigv4examplebucket").
const DOC_POLICY = {
  expiration: '2015-12-30T12:00:00.000Z',
  conditions: [
    { bucket: 'sigv4examplebucket' },
    ['starts-with', '$key', 'user/user1/'],
    { acl: 'public-read' },
    { success_action_redirect: 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html' },
    ['starts-with', '$Content-Type', 'image/'],
    { 'x-amz-meta-uuid': '14365123651274' },
    { 'x-amz-server-side-encryption': 'AES256' },
    ['starts-with', '$x-amz-meta-tag', ''],
    { 'x-amz-credential': 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request' },
    { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
    { 'x-amz-date': '20151229T000000Z' },
  ],
};

const fields = (extra: Record<string, string> = {}) =>
  new Map(
    Object.entries({
      key: 'user/user1/${filename}',
      acl: 'public-read',
      success_action_redirect: 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html',
      'content-type': 'image/jpeg',
      'x-amz-meta-uuid': '14365123651274',
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-credential': 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request',
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-date': '20151229T000000Z',
      'x-amz-meta-tag': '',
      policy: b64(DOC_POLICY),
      ...extra,
    }),
  );

describe('POST policy', () => {
  const now = new Date('2015-12-29T10:00:00Z');
  const policy = parsePostPolicy(b64(DOC_POLICY));
  const check = (f: Map<string, string>, fileSize = 10, bucket = 'sigv4examplebucket', at = now) =>
    checkPostPolicy(policy, f, { bucket, fileSize, now: at });

  it('accepts the documentation example', () => {
    expect(check(fields())).toBeUndefined();
  });

  it.each([
    ['another bucket', fields(), 'otherbucket'],
    ['a key outside the prefix', fields({ key: 'user/user2/x' })],
    ['a content type outside the prefix', fields({ 'content-type': 'text/html' })],
    ['a changed exact field', fields({ acl: 'private' })],
    ['a field the policy does not name', fields({ 'x-amz-meta-extra': 'x' })],
  ])('refuses %s', (_name, f, bucket = 'sigv4examplebucket') => {
    expect(check(f, 10, bucket)).toMatchObject({ code: 'AccessDenied' });
  });

  it('ignores x-ignore- fields and refuses an expired policy', () => {
    expect(check(fields({ 'x-ignore-me': 'x' }))).toBeUndefined();
    expect(check(fields(), 10, 'sigv4examplebucket', new Date('2015-12-30T12:00:00Z'))).toMatchObject({
      code: 'AccessDenied',
    });
  });

  it('checks content-length-range', () => {
    const ranged = parsePostPolicy(
      b64({ ...DOC_POLICY, conditions: [...DOC_POLICY.conditions, ['content-length-range', 5, 100]] }),
    );
    const at = (size: number) =>
      checkPostPolicy(ranged, fields(), { bucket: 'sigv4examplebucket', fileSize: size, now });
    expect(at(5)).toBeUndefined();
    expect(at(100)).toBeUndefined();
    expect(at(4)).toMatchObject({ code: 'EntityTooSmall' });
    expect(at(101)).toMatchObject({ code: 'EntityTooLarge' });
  });

  it('requires bucket and key conditions', () => {
    const noBucket = parsePostPolicy(
      b64({ expiration: DOC_POLICY.expiration, conditions: [['starts-with', '$key', '']] }),
    );
    expect(checkPostPolicy(noBucket, new Map([['key', 'k']]), { bucket: 'b', fileSize: 1, now })).toMatchObject({
      code: 'AccessDenied',
    });
    const noKey = parsePostPolicy(b64({ expiration: DOC_POLICY.expiration, conditions: [{ bucket: 'b' }] }));
    expect(checkPostPolicy(noKey, new Map([['key', 'k']]), { bucket: 'b', fileSize: 1, now })).toMatchObject({
      code: 'AccessDenied',
    });
  });

  it.each([
    ['not base64', '!!!'],
    ['not JSON', Buffer.from('{').toString('base64')],
    ['no expiration', b64({ conditions: [] })],
    ['a bad date', b64({ expiration: 'tomorrow', conditions: [] })],
    ['an unknown operator', b64({ expiration: DOC_POLICY.expiration, conditions: [['matches', '$key', 'x']] })],
    ['an inverted range', b64({ expiration: DOC_POLICY.expiration, conditions: [['content-length-range', 9, 1]] })],
    ['a huge range', b64({ expiration: DOC_POLICY.expiration, conditions: [['content-length-range', 0, 1e300]] })],
    ['a wrong-typed value', b64({ expiration: DOC_POLICY.expiration, conditions: [{ bucket: 5 }] })],
    ['deep JSON', b64(JSON.parse('['.repeat(50) + ']'.repeat(50)))],
  ])('refuses a policy with %s', (_name, text) => {
    expect(() => parsePostPolicy(text)).toThrow(expect.objectContaining({ code: 'InvalidPolicyDocument' }));
  });
});

describe('POST form signatures', () => {
  const policy = b64(DOC_POLICY);
  const lookup = (id: string) => (id === AKID ? SECRET : undefined);

  it('verifies SigV4 (HMAC-SHA256 of the base64 policy with the signing key)', () => {
    const signature = signString(deriveSigningKey(SECRET, '20151229', 'us-east-1', 's3'), policy);
    expect(checkPostSignature(fields({ 'x-amz-signature': signature }), lookup)).toMatchObject({
      accessKeyId: AKID,
      version: 'v4',
    });
    const forged = fields({ 'x-amz-signature': signature.replace(/^./, (c) => (c === '0' ? '1' : '0')) });
    expect(checkPostSignature(forged, lookup)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    const tampered = fields({ 'x-amz-signature': signature, policy: b64({ ...DOC_POLICY, conditions: [] }) });
    expect(checkPostSignature(tampered, lookup)).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('verifies SigV2 (base64 HMAC-SHA1 of the base64 policy) unless it is turned off', () => {
    const signature = createHmac('sha1', SECRET).update(policy).digest('base64');
    const form = new Map([...fields(), ['awsaccesskeyid', AKID], ['signature', signature]]);
    form.delete('x-amz-credential');
    expect(checkPostSignature(form, lookup)).toMatchObject({ accessKeyId: AKID, version: 'v2' });
    expect(checkPostSignature(form, lookup, { sigv2: false })).toMatchObject({ code: 'InvalidRequest' });
  });

  it('refuses a form with no signature, both signatures, or an unknown key', () => {
    expect(checkPostSignature(fields(), lookup)).toMatchObject({ code: 'InvalidArgument' });
    expect(checkPostSignature(fields({ 'x-amz-signature': 'a', signature: 'b' }), lookup)).toMatchObject({
      code: 'InvalidArgument',
    });
    expect(checkPostSignature(fields({ 'x-amz-signature': 'a' }), () => undefined)).toMatchObject({
      code: 'InvalidAccessKeyId',
    });
  });
});
