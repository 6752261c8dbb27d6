import { StowageError } from '@stowage/errors';
import { describeError, S3ProxyError } from './proxy-error';

describe('describeError', () => {
  it('answers 503 ServiceUnavailable with Retry-After when PostgreSQL or Redis is away', () => {
    const pgDown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const redisDown = new Error('Connection is closed.');
    const wrapped = Object.assign(new Error('query failed'), { driverError: { code: '57P01' } });
    for (const err of [pgDown, redisDown, wrapped, new StowageError('store_unavailable')]) {
      expect(describeError(err)).toMatchObject({ code: 'ServiceUnavailable', status: 503, retryAfterSeconds: 5 });
    }
  });

  it('keeps a refusal as it is, and anything unknown an InternalError', () => {
    expect(describeError(new S3ProxyError('AccessDenied', 'no'))).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(describeError(new TypeError('x is undefined'))).toMatchObject({ code: 'InternalError', status: 500 });
  });
});
