import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestStack } from '../harness/app';
import { runTs } from '../harness/child';
import { http } from '../harness/http';
import { TEST_REDIS_URL } from '../harness/redis';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe('the stowage process', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
  });
  afterAll(() => stack.stop());

  const baseEnv = () => ({
    STOWAGE_DATABASE_URL: stack.db.url,
    STOWAGE_REDIS_URL: TEST_REDIS_URL,
    STOWAGE_REDIS_KEY_PREFIX: stack.redisPrefix,
    STOWAGE_CONFIG: '',
  });

  it('exits non-zero with one line naming the key and the rule for a bad config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stowage-config-'));
    const file = join(dir, 'stowage.yaml');
    writeFileSync(file, 'server:\n  listen: ":8080"\nauth:\n  session:\n    lifetime: forever\n');
    const child = runTs('src/main.ts', ['serve', '--config', file], baseEnv());
    const code = await child.exit;
    expect(code).toBe(2);
    expect(child.stderr).toEqual([
      'stowage: invalid configuration: auth.session.lifetime: must be a duration such as 90s, 15m or 8h, at least 1000ms',
    ]);
  });

  it('lets an in-flight request finish on SIGTERM, then exits 0', async () => {
    const port = await freePort();
    const child = runTs('test/fixtures/serve-with-test-routes.ts', [], {
      ...baseEnv(),
      STOWAGE_LISTEN: `127.0.0.1:${port}`,
    });
    await child.waitForLog(/stowage is listening/);
    const url = `http://127.0.0.1:${port}`;
    const slow = http(url, '/__test/slow?ms=1500');
    await new Promise((r) => setTimeout(r, 300));
    child.process.kill('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ slept: 1500 });
    const code = await child.exit;
    if (code !== 0) console.log(child.stdout.filter((l) => !l.includes('"debug"')).join('\n'), child.stderr.join('\n'));
    expect(code).toBe(0);
    await child.waitForLog(/shutdown complete/);
    // New connections are refused once it is gone.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('answers /readyz 503 within 2 s of Redis stopping', async () => {
    const port = await freePort();
    const redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      const app = await stack.boot({ config: { redis: { url: `redis://127.0.0.1:${port}/0` } } });
      expect((await http(app.url, '/readyz')).status).toBe(200);
      redis.kill('SIGTERM');
      await new Promise((r) => redis.once('exit', r));
      const stoppedAt = Date.now();
      let res = await http(app.url, '/readyz');
      while (res.status !== 503 && Date.now() - stoppedAt < 5000) {
        await new Promise((r) => setTimeout(r, 100));
        res = await http(app.url, '/readyz');
      }
      const elapsed = Date.now() - stoppedAt;
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        status: 'unavailable',
        checks: { redis: { status: 'down' }, database: { status: 'up' } },
      });
      expect(elapsed).toBeLessThan(2000);
      // Liveness does not depend on Redis.
      expect((await http(app.url, '/healthz')).status).toBe(200);
      await app.close();
    } finally {
      redis.kill('SIGKILL');
    }
  });
});
