import { SigV4Error } from './errors';
import {
  formatAmzDate,
  parseAmzDate,
  parseAuthorizationHeader,
  parseCredential,
  parseHttpDate,
  parsePresignedParams,
  parseSignedHeaders,
} from './parse';

const SIG = 'a'.repeat(64);
const CRED = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof SigV4Error)) throw err;
    return err.code;
  }
}

describe('parseAuthorizationHeader', () => {
  it('parses the SDK form and tolerates component order and spacing', () => {
    const expected = {
      credential: {
        accessKeyId: 'AKIDEXAMPLE',
        date: '20150830',
        region: 'us-east-1',
        service: 'service',
        scope: '20150830/us-east-1/service/aws4_request',
      },
      signedHeaders: ['host', 'x-amz-date'],
      signature: SIG,
    };
    expect(
      parseAuthorizationHeader(`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;x-amz-date, Signature=${SIG}`),
    ).toEqual(expected);
    expect(
      parseAuthorizationHeader(
        `AWS4-HMAC-SHA256 Signature=${SIG.toUpperCase()},Credential=${CRED},SignedHeaders=x-amz-date;Host`,
      ),
    ).toEqual(expected);
  });

  it.each([
    ['AWS4-HMAC-SHA256', 'AuthorizationHeaderMalformed'],
    ['AWS4-HMAC-SHA256 ', 'AuthorizationHeaderMalformed'],
    [`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host`, 'AuthorizationHeaderMalformed'],
    [
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}, Extra=1`,
      'AuthorizationHeaderMalformed',
    ],
    [
      `AWS4-HMAC-SHA256 Credential=${CRED}, Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`,
      'AuthorizationHeaderMalformed',
    ],
    [
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG.slice(1)}`,
      'AuthorizationHeaderMalformed',
    ],
    [
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${'g'.repeat(64)}`,
      'AuthorizationHeaderMalformed',
    ],
    [`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=, Signature=${SIG}`, 'AuthorizationHeaderMalformed'],
    [`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;host, Signature=${SIG}`, 'AuthorizationHeaderMalformed'],
    [`AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=ho st, Signature=${SIG}`, 'AuthorizationHeaderMalformed'],
    [
      `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service, SignedHeaders=host, Signature=${SIG}`,
      'AuthorizationHeaderMalformed',
    ],
    [
      `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws5_request, SignedHeaders=host, Signature=${SIG}`,
      'AuthorizationHeaderMalformed',
    ],
    [
      `AWS4-HMAC-SHA256 Credential=AKID/20151330/us-east-1/service/aws4_request, SignedHeaders=host, Signature=${SIG}`,
      'AuthorizationHeaderMalformed',
    ],
    [
      `AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=${SIG}`,
      'AuthorizationHeaderMalformed',
    ],
    ['AWS AKIAIOSFODNN7EXAMPLE:sig', 'InvalidRequest'],
    [`AWS4-ECDSA-P256-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`, 'InvalidRequest'],
    ['Basic dXNlcjpwYXNz', 'AuthorizationHeaderMalformed'],
  ])('refuses %s', (header, code) => {
    expect(codeOf(() => parseAuthorizationHeader(header))).toBe(code);
  });

  it('parses a header with a remembered prefix the same as a new one', () => {
    const prefix = `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;x-amz-date, Signature=`;
    const first = parseAuthorizationHeader(prefix + SIG);
    const other = 'b'.repeat(64);
    expect(parseAuthorizationHeader(prefix + other)).toEqual({ ...first, signature: other });
    expect(parseAuthorizationHeader(prefix + other.toUpperCase()).signature).toBe(other);
    expect(parseAuthorizationHeader(prefix + SIG).credential).toBe(first.credential);
    // Whatever follows a remembered prefix is still checked.
    expect(codeOf(() => parseAuthorizationHeader(prefix + 'g'.repeat(64)))).toBe('AuthorizationHeaderMalformed');
    expect(codeOf(() => parseAuthorizationHeader(prefix + 'a'.repeat(63)))).toBe('AuthorizationHeaderMalformed');
    expect(codeOf(() => parseAuthorizationHeader(`${prefix}${'a'.repeat(54)}, Extra=1`))).toBe(
      'AuthorizationHeaderMalformed',
    );
    // What it hands out is shared between requests, so it cannot be changed.
    expect(Object.isFrozen(first.credential) && Object.isFrozen(first.signedHeaders)).toBe(true);
  });

  it('only ever throws SigV4Error on arbitrary input', () => {
    const alphabet = 'AWS4-HMAC-SHA256 Credential=/,;=SignedHeaders Signature aws4_request0123456789abcdef\u0000é';
    for (let i = 0; i < 3000; i++) {
      let s = i % 2 === 0 ? 'AWS4-HMAC-SHA256 ' : '';
      const n = Math.floor(Math.random() * 120);
      for (let k = 0; k < n; k++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
      expect(['ok', 'AuthorizationHeaderMalformed', 'InvalidRequest']).toContain(
        codeOf(() => parseAuthorizationHeader(s)),
      );
    }
  });
});

describe('credential and signed headers', () => {
  it('checks calendar dates', () => {
    expect(codeOf(() => parseCredential('A/20240229/r/s/aws4_request', 'InvalidArgument'))).toBe('ok');
    expect(codeOf(() => parseCredential('A/20230229/r/s/aws4_request', 'InvalidArgument'))).toBe('InvalidArgument');
  });

  it('lower-cases and sorts signed headers', () => {
    expect(parseSignedHeaders('X-Amz-Date;Host;content-type', 'InvalidArgument')).toEqual([
      'content-type',
      'host',
      'x-amz-date',
    ]);
    expect(codeOf(() => parseSignedHeaders('Host;host', 'InvalidArgument'))).toBe('InvalidArgument');
    expect(
      codeOf(() =>
        parseSignedHeaders(
          Array(200)
            .fill('h')
            .map((h, i) => h + i)
            .join(';'),
          'InvalidArgument',
        ),
      ),
    ).toBe('InvalidArgument');
  });
});

describe('dates', () => {
  it('parses ISO 8601 basic and HTTP dates strictly', () => {
    expect(parseAmzDate('20150830T123600Z')).toBe(Date.UTC(2015, 7, 30, 12, 36, 0));
    expect(parseAmzDate('20240229T235959Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(parseAmzDate('20000229T000000Z')).toBe(Date.UTC(2000, 1, 29));
    expect(parseAmzDate('20151231T000000Z')).toBe(Date.UTC(2015, 11, 31));
    expect(parseHttpDate('Sun, 30 Aug 2015 12:36:00 GMT')).toBe(Date.UTC(2015, 7, 30, 12, 36, 0));
    for (const bad of [
      '20150830T123600',
      '20150830 123600Z',
      '20150230T000000Z',
      '20150830T246000Z',
      '2015-08-30T12:36:00Z',
      '20150830T12360aZ',
      '2015083OT123600Z',
      '20230229T000000Z',
      '19000229T000000Z',
      '00500101T000000Z',
      '20151301T000000Z',
      '20150800T000000Z',
      '+2015083T123600Z',
      '20150830T123600Z ',
    ]) {
      expect(parseAmzDate(bad)).toBeUndefined();
    }
    for (const bad of ['Sun, 30 Aug 2015 12:36:00 UTC', '30 Aug 2015 12:36:00 GMT', 'Sun, 31 Feb 2015 12:36:00 GMT']) {
      expect(parseHttpDate(bad)).toBeUndefined();
    }
    expect(formatAmzDate(Date.UTC(2015, 7, 30, 12, 36, 0, 999))).toBe('20150830T123600Z');
  });
});

describe('parsePresignedParams', () => {
  const base = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': CRED,
    'X-Amz-Date': '20150830T123600Z',
    'X-Amz-Expires': '3600',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': SIG,
  };

  it('parses a complete set', () => {
    expect(parsePresignedParams({ ...base, 'X-Amz-Security-Token': 't' })).toMatchObject({
      expiresSeconds: 3600,
      securityToken: 't',
    });
  });

  it.each([
    ['1', 'ok'],
    ['604800', 'ok'],
    ['0', 'x'],
    ['604801', 'x'],
    ['0604800', 'ok'],
    ['', 'x'],
    ['+5', 'x'],
    ['5 ', 'x'],
  ])('X-Amz-Expires=%s → %s', (expires, outcome) => {
    const code = codeOf(() => parsePresignedParams({ ...base, 'X-Amz-Expires': expires }));
    expect(code).toBe(outcome === 'ok' ? 'ok' : 'AuthorizationQueryParametersError');
  });

  const WEEK = 'X-Amz-Expires must be less than a week (in seconds) that is; 7 days';
  const NUMBER = 'X-Amz-Expires should be a number';
  it.each([
    ['604801', WEEK],
    ['1000000', WEEK],
    ['00000000604801', WEEK],
    ['9'.repeat(400), WEEK],
    ['-1', 'X-Amz-Expires must be non-negative'],
    ['-99999999999999999999', 'X-Amz-Expires must be non-negative'],
    ['0', 'X-Amz-Expires must be a positive number of seconds'],
    ['000', 'X-Amz-Expires must be a positive number of seconds'],
    ['abc', NUMBER],
    ['1e3', NUMBER],
    ['0x10', NUMBER],
    ['1.5', NUMBER],
    ['60\u0000', NUMBER],
    ['\uff16\uff10', NUMBER],
    ['-', NUMBER],
    ['--1', NUMBER],
  ])('X-Amz-Expires=%j is refused as S3 refuses it: %s', (expires, message) => {
    let thrown: unknown;
    try {
      parsePresignedParams({ ...base, 'X-Amz-Expires': expires });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'AuthorizationQueryParametersError', status: 400, message });
  });
});
