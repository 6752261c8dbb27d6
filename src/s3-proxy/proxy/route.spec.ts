import type { IncomingMessage, ServerResponse } from 'node:http';
import { newExchange } from './exchange';
import { route, Route } from './route';

function routeOf(method: string, url: string, headers: Record<string, string> = {}, sigv2 = true) {
  const req = { method, url, headers: { host: 'localhost', ...headers } } as unknown as IncomingMessage;
  const x = newExchange(req, {} as ServerResponse, 'r', 0, '127.0.0.1', false);
  return { routed: route(x, [], sigv2), x };
}

describe('route: how a request signs', () => {
  it.each([
    ['a SigV4 header', 'GET', '/b/k', { authorization: 'AWS4-HMAC-SHA256 Credential=x' }, 'sigv4', undefined],
    ['a SigV4 URL', 'GET', '/b/k?X-Amz-Signature=a&X-Amz-Credential=b', {}, 'presigned', undefined],
    ['a SigV2 header', 'GET', '/b/k', { authorization: 'AWS AKID:c2ln' }, 'sigv2', 'header'],
    ['a SigV2 URL', 'GET', '/b/k?AWSAccessKeyId=a&Expires=1&Signature=s', {}, 'sigv2-presigned', 'presigned'],
  ])('%s', (_name, method, url, headers, authMode, sigv2) => {
    const { routed, x } = routeOf(method, url, headers);
    expect(routed).toMatchObject({ entry: 'signed', ...(sigv2 ? { sigv2 } : {}) });
    expect(x.authMode).toBe(authMode);
  });

  it('drops the SigV2 signature parameters from what goes upstream, keeping the rest', () => {
    const { routed } = routeOf('GET', '/b/k?AWSAccessKeyId=a&Expires=1&Signature=s&versionId=v1');
    expect((routed as Route).params.map((p) => p.key)).toEqual(['versionId']);
  });

  it('refuses SigV2 naming SigV4 when it is switched off, never treating it as anonymous', () => {
    for (const [url, headers] of [
      ['/b/k?AWSAccessKeyId=a&Expires=1&Signature=s', {}],
      ['/b/k', { authorization: 'AWS AKID:c2ln' }],
    ] as const) {
      const { routed } = routeOf('GET', url, headers, false);
      expect(routed).toMatchObject({ code: 'InvalidRequest', message: expect.stringContaining('SigV4') });
    }
  });

  it('routes a multipart form POST to a bucket as PostObject, and nothing else', () => {
    const form = { 'content-type': 'multipart/form-data; boundary=x' };
    const { routed, x } = routeOf('POST', '/b', form);
    expect(routed).toMatchObject({ entry: 'post-form', classified: { operation: 'PostObject', access: 'write' } });
    expect(x.authMode).toBe('post-policy');
    expect(routeOf('POST', '/b?delete', form).routed).not.toMatchObject({ entry: 'post-form' });
    expect(routeOf('POST', '/b/k', form).routed).not.toMatchObject({ entry: 'post-form' });
    expect(routeOf('POST', '/b', { ...form, authorization: 'AWS4-HMAC-SHA256 x' }).routed).not.toMatchObject({
      entry: 'post-form',
    });
  });
});
