import { corsHeaders, matchCorsRule, requestedHeaders } from './cors';

const rules = [
  {
    allowed_origins: ['https://*.example.com'],
    allowed_methods: ['GET', 'PUT'],
    allowed_headers: ['x-amz-*', 'content-type'],
    expose_headers: ['ETag'],
    max_age_seconds: 300,
  },
  { allowed_origins: ['*'], allowed_methods: ['HEAD'] },
];

describe('CORS rules', () => {
  it('matches origin wildcards, methods and every requested header', () => {
    const rule = matchCorsRule(rules, {
      origin: 'https://app.example.com',
      method: 'PUT',
      headers: ['x-amz-date', 'content-type'],
    });
    expect(rule).toBe(rules[0]);
    expect(matchCorsRule(rules, { origin: 'https://app.example.com', method: 'DELETE' })).toBeUndefined();
    expect(
      matchCorsRule(rules, { origin: 'https://app.example.com', method: 'GET', headers: ['authorization'] }),
    ).toBeUndefined();
    expect(matchCorsRule(rules, { origin: 'http://app.example.com', method: 'GET' })).toBeUndefined();
    expect(matchCorsRule(rules, { origin: 'https://anything.test', method: 'HEAD' })).toBe(rules[1]);
  });

  it('answers with the headers S3 sets', () => {
    const request = { origin: 'https://app.example.com', method: 'PUT', headers: ['content-type'] };
    expect(corsHeaders(rules[0], request, true)).toMatchObject({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'content-type',
      'access-control-expose-headers': 'ETag',
      'access-control-max-age': '300',
    });
    const simple = corsHeaders(rules[1], { origin: 'https://x.test', method: 'HEAD' }, false);
    expect(simple['access-control-allow-origin']).toBe('*');
    expect(simple['access-control-allow-credentials']).toBeUndefined();
    expect(simple['access-control-allow-methods']).toBeUndefined();
  });

  it('splits Access-Control-Request-Headers', () => {
    expect(requestedHeaders(' X-Amz-Date ,Content-Type,, ')).toEqual(['x-amz-date', 'content-type']);
    expect(requestedHeaders(undefined)).toEqual([]);
  });
});
