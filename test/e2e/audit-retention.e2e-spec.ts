import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Client } from 'pg';
import { AuditRetentionService, PURGE_BATCH_ROWS } from '../../src/audit/audit-retention.service';
import { QueueName } from '../../src/jobs/queues';
import { TestApp, TestStack } from '../harness/app';

/**
 * `audit.retention`: rows past it are purged in bounded batches, oldest first, while writers and
 * readers of the log go on; no lock that would make them wait is taken.
 */
describe('audit retention', () => {
  let stack: TestStack;
  let app: TestApp;
  let db: Client;
  let watcher: Client;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({ config: { audit: { retention: '24h' } } });
    db = new Client({ connectionString: stack.db.url });
    watcher = new Client({ connectionString: stack.db.url });
    await Promise.all([db.connect(), watcher.connect()]);
  });
  afterAll(async () => {
    await Promise.all([db?.end(), watcher?.end()]);
    await stack?.stop();
  });

  it('registers the hourly purge job', async () => {
    const queue = app.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('purge-audit-events');
  });

  it('purges rows past the retention in batches, keeps the rest, and never blocks writers', async () => {
    await db.query(`
      INSERT INTO audit_events (at, action, status)
      SELECT now() - interval '2 days' - (i || ' seconds')::interval, 'old.row', 'ok' FROM generate_series(1, 32000) AS i`);
    await db.query(`
      INSERT INTO audit_events (at, action, status)
      SELECT now() - interval '23 hours' + (i || ' seconds')::interval, 'kept.row', 'ok' FROM generate_series(1, 500) AS i`);

    // Meanwhile: a writer inserting one row at a time, and a watcher of the table-level locks.
    // Relation-extension locks (locktype 'extend', mode ExclusiveLock) are taken by any INSERT
    // that grows the file and block nobody but other extenders, so only 'relation' locks count.
    let running = true;
    const strongLocks = new Set<string>();
    const watch = (async () => {
      while (running) {
        const { rows } = await watcher.query<{ mode: string }>(
          `SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'audit_events' AND l.locktype = 'relation'`,
        );
        for (const r of rows) if (!['AccessShareLock', 'RowExclusiveLock'].includes(r.mode)) strongLocks.add(r.mode);
      }
    })();
    const writer = new Client({ connectionString: stack.db.url });
    await writer.connect();
    let written = 0;
    const write = (async () => {
      while (running) {
        await writer.query(`INSERT INTO audit_events (action, status) VALUES ('during.purge', 'ok')`);
        written++;
      }
    })();

    const { purged, batches } = await app.app.get(AuditRetentionService).purge();
    running = false;
    await Promise.all([watch, write]);
    await writer.end();

    expect(purged).toBe(32_000);
    expect(batches).toBe(Math.ceil(32_000 / PURGE_BATCH_ROWS) + (32_000 % PURGE_BATCH_ROWS === 0 ? 1 : 0));
    expect(written).toBeGreaterThan(batches);
    expect([...strongLocks]).toEqual([]);
    const { rows } = await db.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM audit_events GROUP BY action ORDER BY action`,
    );
    expect(rows.find((r) => r.action === 'old.row')).toBeUndefined();
    expect(rows.find((r) => r.action === 'kept.row')?.n).toBe(500);
    expect(rows.find((r) => r.action === 'during.purge')?.n).toBe(written);
  }, 60_000);

  it('is off by default', async () => {
    const other = await TestStack.start({ s3: false });
    try {
      const plain = await other.boot();
      expect(plain.config.audit.retention).toBe(0);
      expect(await plain.app.get(AuditRetentionService).purge()).toEqual({ purged: 0, batches: 0 });
    } finally {
      await other.stop();
    }
  });
});
