import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApp, TestStack } from '../harness/app';
import { request } from 'node:http';
import { http } from '../harness/http';

function rawGet(base: string, path: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-3f2a1b.js"></script></head><body></body></html>';
const SCRIPT = 'console.log("app")';

describe('the dashboard app at /', () => {
  let stack: TestStack;
  let app: TestApp;
  let bare: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stowage-web-'));
    mkdirSync(join(dir, 'built', 'assets'), { recursive: true });
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'built', 'index.html'), INDEX);
    writeFileSync(join(dir, 'built', 'assets', 'app-3f2a1b.js'), SCRIPT);
    writeFileSync(join(dir, 'built', 'secret.txt'), 'not served');
    stack = await TestStack.start({ s3: false });
    [app, bare] = await Promise.all([
      stack.boot({ config: { server: { web_dir: join(dir, 'built') } } }),
      stack.boot({ config: { server: { web_dir: join(dir, 'empty') } } }),
    ]);
  });
  afterAll(async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['/', '/backends', '/b/local/photos', '/b/local/photos?prefix=a%2Fb%2F', '/admin/users/', '/sign-in'])(
    'answers %s with index.html, never cached, under a CSP without inline script',
    async (path) => {
      const res = await http(app.url, path);
      expect(res.status).toBe(200);
      expect(res.text).toBe(INDEX);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy') ?? '';
      const script = /(?:^|; )script-src ([^;]*)/.exec(csp)?.[1];
      expect(script).toBe("'self'");
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    },
  );

  it('answers HEAD / like GET without a body', async () => {
    const res = await http(app.url, '/', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
  });

  it('serves hashed assets with an immutable cache policy', async () => {
    const res = await http(app.url, '/assets/app-3f2a1b.js');
    expect(res.status).toBe(200);
    expect(res.text).toBe(SCRIPT);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it.each([
    ['GET', '/api/nope'],
    ['GET', '/api'],
    ['GET', '/API/nope'],
    ['GET', '/auth/nope'],
    ['GET', '/s'],
    ['GET', '/metrics/x'],
    ['GET', '/healthz/x'],
    ['GET', '/readyz/x'],
    ['GET', '/assets/missing.js'],
    ['GET', '/assets/'],
    ['POST', '/backends'],
    ['DELETE', '/'],
  ])('answers %s %s with the usual 404 not_found, not the app', async (method, path) => {
    const res = await http(app.url, path, { method });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'Not found.', detail: '' } });
  });

  it('never shadows a real route', async () => {
    expect((await http(app.url, '/healthz')).body).toEqual({ status: 'ok' });
    expect((await http(app.url, '/api/me')).body.error.code).toBe('unauthorized');
    expect((await http(app.url, '/api/auth/config')).status).toBe(200);
    expect((await http(app.url, '/api/docs/openapi.json')).body.openapi).toMatch(/^3\./);
    expect((await http(app.url, '/s/AAAAAAAAAAAAAA')).text).toMatch(/share/i);
    expect((await http(app.url, '/metrics')).text).toMatch(/stowage_/);
  });

  it.each(['/secret.txt', '/assets/..%2Fsecret.txt', '/assets/%2e%2e%2Fsecret.txt', '/assets/..%5Csecret.txt', '/assets/%00.js'])(
    'never serves a file outside assets/ (%s)',
    async (path) => {
      // A raw request: fetch() would resolve dot segments before sending.
      const res = await rawGet(app.url, path);
      expect(res.text).not.toContain('not served');
      expect(res.status).toBeLessThan(500);
      if (path.startsWith('/assets/')) expect(res.status).toBeGreaterThanOrEqual(400);
    },
  );

  it('says how to build the app when it is not built', async () => {
    for (const path of ['/', '/backends']) {
      const res = await http(bare.url, path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('npm run build');
    }
    expect((await http(bare.url, '/assets/app.js')).body.error.code).toBe('not_found');
  });
});
