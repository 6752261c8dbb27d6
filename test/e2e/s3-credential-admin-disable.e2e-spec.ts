import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { S3AccessDirectoryService } from '../../src/s3-proxy/access/s3-access-directory.service';
import { TestApp, TestStack } from '../harness/app';
import { s3rverBackend } from '../harness/s3rver';
import { HttpResult } from '../harness/http';
import { login, seedUser, Session } from '../harness/session';

const ROOT_KEY = randomBytes(32).toString('hex');
const ME = '/api/me/s3-credentials';
const ADMIN = '/api/admin/s3-credentials';

const expectError = (res: HttpResult, status: number, code: string) =>
  expect([res.status, res.body?.error?.code]).toEqual([status, code]);

describe('an admin disable of an S3 credential is sticky', () => {
  let stack: TestStack;
  let app: TestApp;
  let admin: Session;
  let owner: Session;
  let dir: S3AccessDirectoryService;

  beforeAll(async () => {
    stack = await TestStack.start();
    const s3 = stack.s3!;
    app = await stack.boot({
      config: {
        ratelimit: { login_per_ip: 0, api_per_minute: 0 },
        backends: [s3rverBackend('local', s3, { region: true })],
      },
      env: { K: s3.accessKey, S: s3.secretKey, STOWAGE_SECRET_KEY: ROOT_KEY },
    });
    dir = app.app.get(S3AccessDirectoryService);
    admin = await login(app, (await seedUser(app, { role: 'admin' })).username);
    owner = await login(app, (await seedUser(app)).username);
  });
  afterAll(() => stack.stop());

  const mint = async () => {
    const res = await owner.request(ME, { method: 'POST', body: { backend_id: 'local', buckets: ['sticky'] } });
    expect(res.status).toBe(201);
    return res.body.access_key as string;
  };
  const patch = (session: Session, path: string, akid: string, body: unknown) =>
    session.request(`${path}/${akid}`, { method: 'PATCH', body });

  it('the owner cannot re-enable a credential an admin disabled (403 forbidden); an admin can', async () => {
    const akid = await mint();
    expect((await patch(admin, ADMIN, akid, { enabled: false })).status).toBe(200);

    expectError(await patch(owner, ME, akid, { enabled: true }), 403, 'forbidden');
    expectError(await patch(owner, ME, akid, { enabled: true, description: 'sneaky' }), 403, 'forbidden');
    // Disabling again or renaming is harmless and stays allowed, and keeps the admin's mark.
    expect((await patch(owner, ME, akid, { enabled: false })).status).toBe(200);
    expect((await patch(owner, ME, akid, { description: 'renamed' })).status).toBe(200);
    expectError(await patch(owner, ME, akid, { enabled: true }), 403, 'forbidden');
    const listed = (await owner.request(ME)).body.credentials.find(
      (c: { access_key: string }) => c.access_key === akid,
    );
    expect(listed).toMatchObject({ enabled: false, description: 'renamed', disabled_by: 'admin' });
    expect((await dir.credential(akid))?.enabled).toBe(false);

    const back = await patch(admin, ADMIN, akid, { enabled: true });
    expect(back.status).toBe(200);
    expect(back.body.enabled).toBe(true);
    expect(back.body.disabled_by).toBeUndefined();
    // Once an admin re-enabled it, the owner manages it again.
    expect((await patch(owner, ME, akid, { enabled: false })).body.disabled_by).toBe('owner');
    expect((await patch(owner, ME, akid, { enabled: true })).status).toBe(200);
  });

  it('an owner-disabled credential stays the owner’s to re-enable', async () => {
    const akid = await mint();
    expect((await patch(owner, ME, akid, { enabled: false })).status).toBe(200);
    const res = await patch(owner, ME, akid, { enabled: true });
    expect(res.status).toBe(200);
    expect(res.body.enabled).toBe(true);
  });

  it('the migration adding the disabled_by column is reversible', async () => {
    const db = app.app.get(DataSource);
    const cols = await db.query(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 's3_credentials' AND column_name = 'disabled_by'",
    );
    expect(cols).toHaveLength(1);
    const migration = db.migrations.find((m) => m.name?.includes('CredentialDisabledBy'));
    expect(migration).toBeDefined();
    const runner = db.createQueryRunner();
    try {
      await runner.startTransaction();
      await migration!.down(runner);
      expect(
        await runner.query(
          "SELECT 1 FROM information_schema.columns WHERE table_name = 's3_credentials' AND column_name = 'disabled_by'",
        ),
      ).toHaveLength(0);
      await migration!.up(runner);
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
  });
});
