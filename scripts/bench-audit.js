'use strict';

/*
 * The audit log's costs, on a throwaway PostgreSQL database with Stowage's own schema (the
 * migrations of dist/, so `npm run bench:audit` builds first):
 *   commit     the time one durable audit row adds before a write is acknowledged: a
 *              group-committed INSERT of one row (no other writers: the worst case, each row its
 *              own commit), p50/p99 over BENCH_COMMITS (2000); then BENCH_WRITERS (32) writers
 *              at once through one group committer: rows/s and rows per INSERT
 *   query      a filtered page (user + action prefix + time range, 100 rows, newest first),
 *              the next page by cursor, and the bounded total, over BENCH_ROWS (1,000,000) rows
 *              made with generate_series; p50 over 20 runs each
 * Figures are indicative: the machine is shared.
 */

const { Client } = require('pg');
const { randomBytes } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { join } = require('node:path');

const ADMIN_URL = process.env.STOWAGE_BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const COMMITS = Number(process.env.BENCH_COMMITS ?? 2000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 32);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);

const INSERT = `
  INSERT INTO audit_events (action, user_id, username, backend_id, bucket, object_key, request_id, ip, user_agent, status, detail)
  SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::jsonb[])`;

function columns(n) {
  const one = (v) => Array.from({ length: n }, () => v);
  return [
    one('s3.proxy.putobject'),
    one(null),
    one(null),
    one('local'),
    one('bench'),
    one('k/1.bin'),
    one('REQ'),
    one('127.0.0.1'),
    one('bench'),
    one('ok'),
    one('{"http_status":200}'),
  ];
}

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function main() {
  const name = `stowage_bench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = new Client({ connectionString: url.toString() });
  try {
    await db.connect();
    const { MIGRATIONS } = require(join(__dirname, '..', 'dist', 'src', 'database', 'migrations'));
    const { DataSource } = require('typeorm');
    const ds = new DataSource({
      type: 'postgres',
      url: url.toString(),
      migrations: MIGRATIONS,
      migrationsTableName: 'schema_migrations',
    });
    await ds.initialize();
    await ds.runMigrations();
    await ds.destroy();

    // One row, one commit: what a lone write waits for.
    const lone = [];
    for (let i = 0; i < COMMITS; i++) {
      const t = performance.now();
      await db.query(INSERT, columns(1));
      lone.push(performance.now() - t);
    }
    console.log(
      `commit, one row alone: p50 ${pct(lone, 50).toFixed(3)} ms, p99 ${pct(lone, 99).toFixed(3)} ms (${COMMITS} commits)`,
    );

    // Many writers through one group committer (as AuditService does).
    const { GroupCommit } = require(join(__dirname, '..', 'dist', 'libs', 'concurrency'));
    let inserts = 0;
    const commit = new GroupCommit(
      async (batch) => {
        inserts++;
        await db.query(INSERT, columns(batch.length));
      },
      { maxBatch: 1000, maxWaiting: 100000 },
    );
    const waits = [];
    const until = performance.now() + 5000;
    let rows = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await commit.add(1);
          waits.push(performance.now() - t);
          rows++;
        }
      }),
    );
    console.log(
      `group commit, ${WRITERS} writers for 5 s: ${(rows / 5).toFixed(0)} rows/s, ${(rows / inserts).toFixed(1)} rows per INSERT, ` +
        `wait p50 ${pct(waits, 50).toFixed(3)} ms, p99 ${pct(waits, 99).toFixed(3)} ms`,
    );

    // A million rows, then filtered pages.
    const made = performance.now();
    await db.query(`
      INSERT INTO audit_events (at, user_id, username, action, backend_id, bucket, object_key, status, detail)
      SELECT now() - (i || ' seconds')::interval,
             CASE WHEN i % 50 = 0 THEN '11111111-2222-4333-8444-555555555555'::uuid END,
             'user' || (i % 50),
             (ARRAY['object.upload','object.delete','share.create','s3.proxy.putobject','s3.proxy.getobject','auth.login'])[1 + i % 6],
             'local', 'bucket-' || (i % 20), 'k/' || i, (ARRAY['ok','ok','ok','error'])[1 + i % 4], jsonb_build_object('i', i)
      FROM generate_series(1, ${ROWS}) AS i`);
    await db.query('ANALYZE audit_events');
    console.log(`made ${ROWS} rows in ${((performance.now() - made) / 1000).toFixed(1)} s`);
    const filter = `WHERE user_id = '11111111-2222-4333-8444-555555555555' AND action LIKE 'object.%'
      AND at >= now() - interval '10 days' AND at < now()`;
    const timed = async (sql) => {
      const runs = [];
      let last;
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        last = await db.query(sql);
        runs.push(performance.now() - t);
      }
      return { p50: pct(runs, 50), last };
    };
    const first = await timed(
      `SELECT id, (extract(epoch FROM at) * 1000000)::bigint AS at_us FROM audit_events ${filter} ORDER BY at DESC, id DESC LIMIT 101`,
    );
    const tail = first.last.rows[99];
    const next = await timed(
      `SELECT id FROM audit_events ${filter} AND (at, id) < (to_timestamp(0) + ${tail.at_us}::bigint * interval '1 microsecond', ${tail.id}::bigint)
       ORDER BY at DESC, id DESC LIMIT 101`,
    );
    const total = await timed(`SELECT count(*) FROM (SELECT 1 FROM audit_events ${filter} LIMIT 10001) AS bounded`);
    const wide = await timed(`SELECT id FROM audit_events WHERE status = 'error' ORDER BY at DESC, id DESC LIMIT 101`);
    console.log(
      `query over ${ROWS} rows (user + action prefix + 10 days, 100 a page): first page p50 ${first.p50.toFixed(2)} ms, ` +
        `next page by cursor ${next.p50.toFixed(2)} ms, bounded total ${total.p50.toFixed(2)} ms; status=error page ${wide.p50.toFixed(2)} ms`,
    );
  } finally {
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
