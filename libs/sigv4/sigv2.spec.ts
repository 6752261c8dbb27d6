import { checkSigV2Request, isSigV4Error, signV2, stringToSignV2 } from './index';
import { canonicalResourceV2 } from './sigv2';
import { parseQuery } from './encoding';

// The examples of the Amazon S3 documentation, "Signing and authenticating REST requests" (SigV2).
const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('SigV2: the AWS documentation examples', () => {
  it.each([
    [
      'Object GET',
      'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg',
      'qgk2+6Sv9/oM7G3qLEjTH1a1l1g=',
    ],
    [
      'Object PUT',
      'PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg',
      'iqRzw+ileNPu1fhspnRs8nOjjIA=',
    ],
    ['List', 'GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/', 'm0WP8eCtspQl5Ahe6L1SozdX9YA='],
    ['Fetch', 'GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl', '82ZHiFIjc+WbcwFKGUVEQspPn+0='],
    [
      'Delete',
      'DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg',
      'XbyTlbQdu9Xw5o8P4iMwPktxQd8=',
    ],
    ['List all my buckets', 'GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/', 'qGdzdERIC03wnaRNKh6OqZehG9s='],
    [
      'Unicode keys',
      'GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
      'DNEZGsoieTZ92F3bUfSPQcbGmlM=',
    ],
  ])('%s', (_name, stringToSign, signature) => {
    expect(signV2(SECRET, stringToSign)).toBe(signature);
  });
});

describe('SigV2 string to sign', () => {
  it('signs x-amz-* headers sorted, lower-cased and joined, and the sub-resources only', () => {
    const headers = {
      'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
      'content-type': 'application/x-download',
      date: 'Tue, 27 Mar 2007 21:06:08 +0000',
      'x-amz-acl': 'public-read',
      'x-amz-meta-reviewedby': ['joe@johnsmith.net', 'jane@johnsmith.net'],
      'x-amz-meta-filechecksum': '0x02661779',
      'x-amz-meta-checksumalgorithm': 'crc32',
    };
    const resource = canonicalResourceV2('/db-backup.dat.gz', [], 'static.johnsmith.net');
    expect(stringToSignV2({ method: 'PUT', headers, dateOrExpires: headers.date, resource })).toBe(
      'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n' +
        'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n' +
        'x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz',
    );
  });

  it('keeps sub-resources sorted with decoded values and drops other parameters', () => {
    const params = parseQuery('versionId=a%2Fb&prefix=x&uploads&acl&response-content-type=text%2Fplain&max-keys=3');
    expect(canonicalResourceV2('/b/k', params)).toBe('/b/k?acl&response-content-type=text/plain&uploads&versionId=a/b');
  });
});

describe('checkSigV2Request', () => {
  const now = new Date('2007-03-27T19:36:42Z');
  const lookupSecret = (id: string) => (id === AKID ? SECRET : undefined);
  const header = (signature: string, extra: Record<string, string> = {}) => ({
    method: 'GET',
    path: '/awsexamplebucket1/photos/puppy.jpg',
    query: '',
    headers: { date: 'Tue, 27 Mar 2007 19:36:42 +0000', authorization: `AWS ${AKID}:${signature}`, ...extra },
    lookupSecret,
  });

  it('accepts the documented GET', () => {
    expect(checkSigV2Request(header('qgk2+6Sv9/oM7G3qLEjTH1a1l1g='), { now })).toEqual({
      accessKeyId: AKID,
      mode: 'header',
    });
  });

  it('accepts the same request virtual-hosted', () => {
    const input = {
      ...header('qgk2+6Sv9/oM7G3qLEjTH1a1l1g='),
      path: '/photos/puppy.jpg',
      virtualHostedBucket: 'awsexamplebucket1',
    };
    expect(checkSigV2Request(input, { now })).toMatchObject({ mode: 'header' });
  });

  it('refuses a changed method, path, header or key', () => {
    const wrong = [
      { ...header('qgk2+6Sv9/oM7G3qLEjTH1a1l1g='), method: 'DELETE' },
      { ...header('qgk2+6Sv9/oM7G3qLEjTH1a1l1g='), path: '/awsexamplebucket1/photos/kitten.jpg' },
      header('qgk2+6Sv9/oM7G3qLEjTH1a1l1g=', { 'x-amz-meta-a': 'b' }),
      { ...header('qgk2+6Sv9/oM7G3qLEjTH1a1l1g='), lookupSecret: () => 'other' },
    ];
    for (const input of wrong)
      expect(checkSigV2Request(input, { now })).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('uses an empty Date line when x-amz-date is sent, and checks the clock skew', () => {
    const headers = { 'x-amz-date': 'Tue, 27 Mar 2007 19:36:42 +0000' };
    const sts = stringToSignV2({ method: 'GET', headers, dateOrExpires: '', resource: '/b/k' });
    expect(sts).toBe('GET\n\n\n\nx-amz-date:Tue, 27 Mar 2007 19:36:42 +0000\n/b/k');
    const input = {
      method: 'GET',
      path: '/b/k',
      query: '',
      headers: { ...headers, authorization: `AWS ${AKID}:${signV2(SECRET, sts)}` },
      lookupSecret,
    };
    expect(checkSigV2Request(input, { now })).toMatchObject({ mode: 'header' });
    expect(checkSigV2Request(input, { now: new Date(now.getTime() + 16 * 60_000) })).toMatchObject({
      code: 'RequestTimeTooSkewed',
    });
  });

  it('refuses an unknown key, a missing date and a malformed header', () => {
    expect(
      checkSigV2Request({ ...header('qgk2+6Sv9/oM7G3qLEjTH1a1l1g='), lookupSecret: () => undefined }, { now }),
    ).toMatchObject({ code: 'InvalidAccessKeyId' });
    expect(checkSigV2Request({ ...header('x'), headers: { authorization: `AWS ${AKID}:x` } }, { now })).toMatchObject({
      code: 'AccessDenied',
    });
    for (const authorization of ['AWS ', `AWS ${AKID}`, `AWS ${AKID}:`, 'AWS a:b:c d']) {
      const input = { ...header('x'), headers: { date: 'Tue, 27 Mar 2007 19:36:42 +0000', authorization } };
      const checked = checkSigV2Request(input, { now });
      expect(isSigV4Error(checked)).toBe(true);
    }
  });

  describe('presigned (query string authentication)', () => {
    // The documentation's example: GET /photos/puppy.jpg on awsexamplebucket1, Expires 1175139620.
    const expires = '1175139620';
    const sts = 'GET\n\n\n1175139620\n/awsexamplebucket1/photos/puppy.jpg';
    const signature = signV2(SECRET, sts);
    const input = (query: string) => ({
      method: 'GET',
      path: '/awsexamplebucket1/photos/puppy.jpg',
      query,
      headers: {},
      lookupSecret,
    });
    const q = `AWSAccessKeyId=${AKID}&Expires=${expires}&Signature=${encodeURIComponent(signature)}`;

    it('accepts it until it expires', () => {
      expect(checkSigV2Request(input(q), { now })).toMatchObject({
        mode: 'presigned',
        expiresAt: new Date(1175139620_000),
      });
      expect(checkSigV2Request(input(q), { now: new Date(1175139621_000) })).toMatchObject({ code: 'AccessDenied' });
    });

    it('refuses a changed expiry, a second signature, missing parameters and a header beside it', () => {
      expect(checkSigV2Request(input(q.replace(expires, '1175139629')), { now })).toMatchObject({
        code: 'SignatureDoesNotMatch',
      });
      expect(checkSigV2Request(input(`${q}&Signature=x`), { now })).toMatchObject({ code: 'InvalidArgument' });
      expect(checkSigV2Request(input(`AWSAccessKeyId=${AKID}&Expires=${expires}`), { now })).toMatchObject({
        code: 'AccessDenied',
      });
      expect(checkSigV2Request(input(q.replace(expires, '1e10')), { now })).toMatchObject({ code: 'InvalidArgument' });
      expect(checkSigV2Request({ ...input(q), headers: { authorization: `AWS ${AKID}:x` } }, { now })).toMatchObject({
        code: 'InvalidArgument',
      });
    });

    it('answers asynchronously when the secret is looked up asynchronously', async () => {
      await expect(
        checkSigV2Request({ ...input(q), lookupSecret: async () => SECRET }, { now }),
      ).resolves.toMatchObject({ mode: 'presigned' });
    });
  });
});
