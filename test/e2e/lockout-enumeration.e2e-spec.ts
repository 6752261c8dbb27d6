import { TestApp, TestStack } from '../harness/app';
import { HttpResult } from '../harness/http';
import { loginRequest, seedUser } from '../harness/session';

/** What an outsider can see of an answer: status, error code, the headers that vary by path. */
const visible = (res: HttpResult) => ({
  status: res.status,
  code: (res.body as { error?: { code?: string } }).error?.code,
  retryAfter: res.headers.get('retry-after') !== null,
  keys: [...res.headers.keys()].filter((k) => !['date', 'x-request-id', 'content-length'].includes(k)).sort(),
});

describe('lockout does not reveal which usernames exist', () => {
  let stack: TestStack;
  let app: TestApp;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({
      config: { ratelimit: { login_per_ip: 0 }, auth: { local: { lockout: { max_attempts: 3 } } } },
    });
  });
  afterAll(() => stack.stop());

  it('an unknown and a known username give identical answers through and after the lockout threshold', async () => {
    const user = await seedUser(app);
    const ghost = `ghost${process.pid}x${Date.now()}`;
    for (let i = 0; i < 6; i++) {
      const known = await loginRequest(app, user.username, 'wrong password 123');
      const unknown = await loginRequest(app, ghost, 'wrong password 123');
      expect(visible(unknown)).toEqual(visible(known));
      expect(unknown.body).toEqual(known.body);
    }
    const known = await loginRequest(app, user.username, 'wrong password 123');
    expect(known.status).toBe(429);
    expect(known.body.error.code).toBe('account_locked');
    const unknown = await loginRequest(app, ghost.toUpperCase(), 'wrong password 123');
    expect(visible(unknown)).toEqual(visible(known));
  });

  it('a locked unknown username answers as fast as a locked known one (no argon2id on either)', async () => {
    const user = await seedUser(app);
    const ghost = `phantom${process.pid}x${Date.now()}`;
    for (let i = 0; i < 3; i++) {
      await loginRequest(app, user.username, 'wrong password 123');
      await loginRequest(app, ghost, 'wrong password 123');
    }
    const time = async (username: string) => {
      const started = process.hrtime.bigint();
      const res = await loginRequest(app, username, 'wrong password 123');
      return { res, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    };
    const a = await time(user.username);
    const b = await time(ghost);
    expect(a.res.status).toBe(429);
    expect(b.res.status).toBe(429);
    expect(b.ms).toBeLessThan(Math.max(a.ms * 5, 50));
  });
});
