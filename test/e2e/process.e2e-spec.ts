import { spawn } from 'node:child_process';
import * as argon2 from 'argon2';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestStack } from '../harness/app';
import { runTs } from '../harness/child';
import { freePort } from '../harness/ports';
import { http } from '../harness/http';
import { TEST_REDIS_URL } from '../harness/redis';

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

  it('create-admin creates an admin once and then refuses clearly; hash-password prints a usable hash', async () => {
    const first = runTs(
      'src/main.ts',
      ['create-admin', '--username', 'Boss', '--password', 'a long enough password'],
      baseEnv(),
    );
    expect(await first.exit).toBe(0);
    expect(first.stdout.join('\n')).toMatch(/^[0-9a-f-]{36}$/);
    const again = runTs(
      'src/main.ts',
      ['create-admin', '--username', 'boss', '--password', 'a long enough password'],
      baseEnv(),
    );
    expect(await again.exit).toBe(2);
    expect(again.stderr).toEqual(['stowage: username_taken: username already taken']);
    const weak = runTs('src/main.ts', ['create-admin', '--username', 'other', '--password', 'short'], baseEnv());
    expect(await weak.exit).toBe(2);
    expect(weak.stderr.join('\n')).toMatch(/^stowage: weak_password: /);
    const missing = runTs('src/main.ts', ['create-admin', '--password', 'x'], baseEnv());
    expect(await missing.exit).toBe(2);
    expect(missing.stderr).toEqual(['stowage: --username is required']);

    const hashed = runTs('src/main.ts', ['hash-password', '--password', 'break glass'], {});
    expect(await hashed.exit).toBe(0);
    const [hash] = hashed.stdout;
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=65536,(t=3,p=2|p=2,t=3)\$/);
    expect(await argon2.verify(hash, 'break glass')).toBe(true);

    const help = runTs('src/main.ts', ['--help'], {});
    expect(await help.exit).toBe(0);
    expect(help.stdout.join('\n')).toMatch(/serve[\s\S]*create-admin[\s\S]*hash-password/);
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
