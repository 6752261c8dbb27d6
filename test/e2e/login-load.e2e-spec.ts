import { TestApp, TestStack } from '../harness/app';
import { loginRequest, seedUser } from '../harness/session';

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

describe('sign-in under load', () => {
  let stack: TestStack;
  let app: TestApp;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({
      config: {
        ratelimit: { login_per_ip: 0 },
        auth: {
          local: { lockout: { max_attempts: 5 } },
          hashing: { max_concurrent: 4, max_queue: 32, max_wait: '3s' },
        },
      },
    });
  });
  afterAll(() => stack.stop());

  it('leaves an account locked, with no 500s, after 20 concurrent wrong-password logins', async () => {
    const user = await seedUser(app);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => loginRequest(app, user.username, 'definitely wrong')),
    );
    const codes = results.map((r) => `${r.status} ${r.body?.error?.code}`);
    expect(codes.every((c) => ['401 invalid_credentials', '429 account_locked', '429 rate_limited'].includes(c))).toBe(
      true,
    );
    expect(codes.filter((c) => c === '401 invalid_credentials').length).toBeGreaterThanOrEqual(5);
    const after = await loginRequest(app, user.username);
    expect(after.status).toBe(429);
    expect(after.body.error.code).toBe('account_locked');
  });

  it('answers 200 concurrent valid logins with 200 or 429 + Retry-After, with bounded memory', async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => seedUser(app)));
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => loginRequest(app, users[i % users.length].username)),
    );
    clearInterval(sampler);
    const ok = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429);
    expect(ok + limited.length).toBe(200);
    expect(ok).toBeGreaterThanOrEqual(4);
    for (const r of limited) {
      expect(r.body.error.code).toBe('rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Four argon2id runs of 64 MiB at a time, plus the test process itself.
    console.log(
      `200 concurrent logins: ${ok} ok, ${limited.length} rate_limited; RSS ${mib(before)} MiB before, peak ${mib(peak)} MiB`,
    );
    expect(peak - before).toBeLessThan(512 * 1024 * 1024);
  });
});
