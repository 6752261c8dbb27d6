import { DataSource } from 'typeorm';
import { ERROR_CODES, statusOf } from '@stowage/errors';
import { TestApp, TestStack } from '../harness/app';
import { http } from '../harness/http';
import { TestRoutesModule } from '../harness/test-routes.module';

const BASELINE_HEADERS = {
  'content-security-policy': /default-src 'self'.*frame-ancestors 'none'/,
  'x-content-type-options': /^nosniff$/,
  'x-frame-options': /^DENY$/,
  'referrer-policy': /^same-origin$/,
  'permissions-policy': /camera=\(\)/,
};

describe('foundation: errors, validation, headers, health, docs, metrics', () => {
  let stack: TestStack;
  let app: TestApp;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({ imports: [TestRoutesModule] });
  });
  afterAll(() => stack.stop());

  const get = (path: string, headers?: Record<string, string>) => http(app.url, path, { headers });
  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    http(app.url, path, { method: 'POST', body, headers });

  it.each(ERROR_CODES)('renders catalogue code %s with its status and the one error shape', async (code) => {
    const res = await get(`/__test/errors/${code}`);
    expect(res.status).toBe(statusOf(code));
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const body = res.body;
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'detail', 'message']);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    expect(body.error.message.length).toBeGreaterThan(0);
    if (code === 'rate_limited') expect(res.headers.get('retry-after')).toBe('7');
    else expect(body.error.detail).toBe(`detail for ${code}`);
  });

  it('turns an unexpected error into 500 internal that leaks nothing but the request id', async () => {
    const res = await get('/__test/boom');
    expect(res.status).toBe(500);
    const text = res.text;
    expect(text).not.toMatch(/hunter2|relation|users|Error:|at \w+ \(/);
    const body = JSON.parse(text);
    const requestId = res.headers.get('x-request-id')!;
    expect(body).toEqual({
      error: { code: 'internal', message: 'Internal error.', detail: `request id ${requestId}` },
    });
    const logged = app.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === requestId && l.level === 'error');
    expect(logged).toBeDefined();
  });

  it('keeps a well-formed incoming request id', async () => {
    const res = await get('/healthz', { 'x-request-id': 'lb-request-0001' });
    expect(res.headers.get('x-request-id')).toBe('lb-request-0001');
    const odd = await get('/healthz', { 'x-request-id': 'bad id with spaces' });
    expect(odd.headers.get('x-request-id')).not.toBe('bad id with spaces');
  });

  describe('input validation', () => {
    it('accepts a valid body', async () => {
      const res = await post('/__test/echo', JSON.stringify({ name: 'a', count: 2 }));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ name: 'a', count: 2 });
    });

    it('names every failing field in detail', async () => {
      const res = await post('/__test/echo', JSON.stringify({ name: 5, count: 99 }));
      expect(res.status).toBe(400);
      const { error } = res.body;
      expect(error.code).toBe('bad_request');
      expect(error.detail).toMatch(/name: /);
      expect(error.detail).toMatch(/count: /);
    });

    it('refuses unknown fields', async () => {
      const res = await post('/__test/echo', JSON.stringify({ name: 'a', count: 1, admin: true }));
      expect(res.status).toBe(400);
      const { error } = res.body;
      expect(error).toMatchObject({ code: 'bad_request', detail: expect.stringMatching(/admin: unknown field/) });
    });

    it('answers malformed JSON with bad_request', async () => {
      const res = await post('/__test/echo', '{"name": "a",');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    });

    it('answers a body over the route limit with 413 too_large', async () => {
      const res = await post('/__test/echo', JSON.stringify({ name: 'x'.repeat(2000), count: 1 }));
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('too_large');
    });

    it('answers an unsupported content type with bad_request', async () => {
      const res = await post('/__test/echo', 'name=a', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
    });

    it('answers unknown routes with 404 not_found', async () => {
      // Other unknown GET paths are the dashboard's (test/e2e/web-app.e2e-spec.ts).
      for (const [method, path] of [
        ['GET', '/api/nope'],
        ['POST', '/nope'],
        ['POST', '/api/nope'],
        ['DELETE', '/healthz'],
      ]) {
        const res = await http(app.url, path, { method });
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ error: { code: 'not_found', message: 'Not found.', detail: '' } });
      }
    });
  });

  describe('security headers', () => {
    it.each(['/healthz', '/nope', '/__test/boom', '/api/docs', '/metrics'])('are set on %s', async (path) => {
      const res = await get(path);
      for (const [name, pattern] of Object.entries(BASELINE_HEADERS)) expect(res.headers.get(name)).toMatch(pattern);
      expect(res.headers.get('strict-transport-security')).toBeNull();
    });

    it('ignores X-Forwarded-* from peers that are not trusted proxies', async () => {
      const res = await get('/__test/whoami', { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' });
      expect(res.body).toEqual({ ip: '127.0.0.1', protocol: 'http' });
      expect(res.headers.get('strict-transport-security')).toBeNull();
    });

    it('believes a trusted proxy and sends HSTS for TLS it terminated', async () => {
      const proxied = await stack.boot({
        imports: [TestRoutesModule],
        config: { server: { trusted_proxies: ['127.0.0.1/32'] } },
      });
      const res = await http(proxied.url, '/__test/whoami', {
        headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' },
      });
      expect(res.body).toEqual({ ip: '203.0.113.9', protocol: 'https' });
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      await proxied.close();
    });
  });

  describe('health, docs and metrics', () => {
    it('serves liveness and readiness', async () => {
      const live = await get('/healthz');
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ status: 'ok' });
      const ready = await get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'ready',
        checks: { database: { status: 'up' }, redis: { status: 'up' } },
      });
    });

    it('serves Swagger UI and the OpenAPI document', async () => {
      const ui = await get('/api/docs');
      expect(ui.status).toBe(200);
      expect(ui.text).toMatch(/swagger/i);
      const doc = (await get('/api/docs/openapi.json')).body;
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
      expect(doc.components.schemas.ErrorResponseDto).toBeDefined();
    });

    it('labels request durations by route template, never by raw path', async () => {
      await get('/__test/errors/not_found');
      await get('/__test/errors/conflict');
      const { text } = await get('/metrics');
      expect(text).toMatch(
        /stowage_http_request_duration_seconds_count\{method="GET",route="\/__test\/errors\/:code",status="404"\} \d+/,
      );
      expect(text).not.toMatch(/route="\/__test\/errors\/conflict"/);
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    });
  });

  describe('root key', () => {
    it('answers 503 secret_key_unset when no key is configured', async () => {
      const res = await post('/__test/seal', JSON.stringify({ text: 'x' }));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('secret_key_unset');
    });

    it('seals with STOWAGE_SECRET_KEY', async () => {
      const keyed = await stack.boot({ imports: [TestRoutesModule], env: { STOWAGE_SECRET_KEY: 'ab'.repeat(32) } });
      const res = await http(keyed.url, '/__test/seal', { method: 'POST', body: { text: 'hello' } });
      expect(res.status).toBe(201);
      expect(res.body.roundTrip).toBe('hello');
      await keyed.close();
    });
  });

  it('records audit events through the seam', async () => {
    const res = await post('/__test/audit', '{}');
    expect(res.status).toBe(201);
    const rows = await app.app.get(DataSource).query('SELECT * FROM audit_events');
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'test.action',
        bucket: 'b',
        object_key: 'k',
        status: 'ok',
        ip: '127.0.0.1',
        detail: { n: 1 },
      }),
    ]);
  });
});
