import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { TestStack } from '../harness/app';
import { ChildApp, startChildApp } from '../harness/child-app';
import { bootWithProxy, createBucket, mintCredential, proxyClient } from '../harness/s3-proxy';
import { Session } from '../harness/session';

const MUTATIONS = 1000;
const CONCURRENCY = 24;
/** The instance is killed once this many mutations have been acknowledged. */
const KILL_AFTER = 300;

/**
 * The durability of audit rows: an instance in a child process receives a burst of 1,000
 * mutations, half uploads through the dashboard API and half PutObject through the S3 proxy,
 * and is killed with SIGKILL in the middle of it. Every mutation that got a 2xx must have its
 * audit row.
 */
describe('audit rows survive SIGKILL mid-burst', () => {
  let stack: TestStack;
  let child: ChildApp;
  let db: Client;
  let client: S3Client;
  const bucket = 'audit-crash';

  beforeAll(async () => {
    stack = await TestStack.start();
    // An in-process instance seeds the users, the bucket and the credential, then steps aside.
    const fx = await bootWithProxy(stack);
    await createBucket(fx.admin, fx.backendId, bucket);
    const keys = await mintCredential(fx.user, [{ backend_id: fx.backendId, bucket }]);
    child = await startChildApp(stack);
    client = proxyClient(child.endpoint, keys);
    (globalThis as Record<string, unknown>).crashUser = new Session(child.url, fx.user.token, fx.user.csrf);
    await fx.app.close();
    db = new Client({ connectionString: stack.db.url });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    if (child && child.child.process.exitCode === null) child.child.process.kill('SIGKILL');
    await db?.end();
    await stack?.stop();
  });

  it('every acknowledged mutation has its row', async () => {
    const user = (globalThis as Record<string, unknown>).crashUser as Session;
    const acked = { dashboard: [] as string[], proxy: [] as string[] };
    let failed = 0;
    let killed = false;
    let next = 0;

    const one = async (i: number): Promise<void> => {
      const key = `burst/${i}.txt`;
      try {
        if (i % 2 === 0) {
          const res = await fetch(
            `${user.baseUrl}/api/backends/local/buckets/${bucket}/object?key=${encodeURIComponent(key)}`,
            {
              method: 'POST',
              headers: { cookie: user.cookie, 'x-csrf-token': user.csrf, 'content-type': 'application/octet-stream' },
              body: `dashboard ${i}`,
            },
          );
          await res.arrayBuffer().catch(() => undefined);
          if (res.status >= 200 && res.status < 300) acked.dashboard.push(key);
          else failed++;
        } else {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `proxy ${i}` }));
          acked.proxy.push(key);
        }
      } catch {
        failed++;
      }
      if (!killed && acked.dashboard.length + acked.proxy.length >= KILL_AFTER) {
        killed = true;
        child.child.process.kill('SIGKILL');
      }
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < MUTATIONS) await one(next++);
      }),
    );
    expect(killed).toBe(true);
    await child.child.exit;

    const rows = async (action: string, keys: string[]) => {
      const { rows } = await db.query<{ object_key: string }>(
        `SELECT object_key FROM audit_events WHERE action = $1 AND bucket = $2 AND object_key = ANY($3::text[])`,
        [action, bucket, keys],
      );
      return new Set(rows.map((r) => r.object_key));
    };
    const dashboardRows = await rows('object.upload', acked.dashboard);
    const proxyRows = await rows('s3.proxy.putobject', acked.proxy);
    const { rows: all } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE bucket = $1 AND action IN ('object.upload', 's3.proxy.putobject')`,
      [bucket],
    );
    // A proxy PUT has one row, INSERTed as `pending` before it went upstream: a kill may have
    // come before its outcome was written over it, never leaving two.
    const { rows: proxyStatuses } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM audit_events WHERE bucket = $1 AND action = 's3.proxy.putobject' GROUP BY status`,
      [bucket],
    );
    const { rows: doubled } = await db.query<{ object_key: string }>(
      `SELECT object_key FROM audit_events WHERE bucket = $1 AND action IN ('object.upload', 's3.proxy.putobject')
        GROUP BY action, object_key HAVING count(*) > 1`,
      [bucket],
    );
    console.log(
      `SIGKILL mid-burst: acknowledged ${acked.dashboard.length} dashboard uploads and ${acked.proxy.length} proxy PUTs ` +
        `(${failed} cut off by the kill); rows for them: ${dashboardRows.size} and ${proxyRows.size}; rows in all: ${all[0].n}; ` +
        `proxy rows by status: ${proxyStatuses.map((r) => `${r.status} ${r.n}`).join(', ')}`,
    );
    expect(doubled).toEqual([]);
    expect(acked.dashboard.length).toBeGreaterThan(50);
    expect(acked.proxy.length).toBeGreaterThan(50);
    expect(acked.dashboard.filter((k) => !dashboardRows.has(k))).toEqual([]);
    expect(acked.proxy.filter((k) => !proxyRows.has(k))).toEqual([]);
  }, 120_000);
});
