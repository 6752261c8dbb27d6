'use strict';

/*
 * The audit log's costs, on a throwaway PostgreSQL database with Stowage's own schema (the
 * migrations of dist/, so `npm run bench:audit` builds first):
 *   proxy PUT  what a durable audit row adds to a small S3-proxy PUT, end to end: Stowage (dist/)
 *              with its S3 proxy in front of a throwaway S3 server (Ceph RGW when installed, else
 *              s3rver), BENCH_PUTS (1000) PutObject of 1 KiB at one connection, then at
 *              BENCH_PUT_CONNECTIONS (16): the PUT's p50/p99 as the client sees it, and what the
 *              durable row added: the server's wait from the upstream's answer until the row
 *              (INSERTed as the PUT went upstream) was committed
 *              (`stowage_audit_commit_wait_seconds` read from /metrics before and after: p50
 *              interpolated within its buckets as Prometheus' histogram_quantile does, mean, and
 *              the share of rows in its first bucket, ≤ 0.1 ms: already committed when the
 *              upstream answered)
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
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const COMMITS = Number(process.env.BENCH_COMMITS ?? 2000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 32);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const PUTS = Number(process.env.BENCH_PUTS ?? 1000);
const PUT_CONNECTIONS = Number(process.env.BENCH_PUT_CONNECTIONS ?? 16);
// BENCH_SKIP: comma-separated parts to leave out (proxy, commit, query).
const SKIP = new Set(
  (process.env.BENCH_SKIP ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

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

/** The cumulative buckets, sum and count of one histogram series in a /metrics text. */
function histogram(text, name, labels) {
  const buckets = new Map();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(labels)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_bucket`)) {
      const le = /le="([^"]+)"/.exec(line)[1];
      buckets.set(le === '+Inf' ? Infinity : Number(le), value);
    } else if (line.startsWith(`${name}_sum`)) sum = value;
    else if (line.startsWith(`${name}_count`)) count = value;
  }
  return { buckets, sum, count };
}

/** Of the observations between `before` and `after`, the share at or below the histogram's first bound. */
function firstBucketShare(before, after) {
  const first = Math.min(...after.buckets.keys());
  const count = after.count - before.count;
  return count > 0 ? ((after.buckets.get(first) ?? 0) - (before.buckets.get(first) ?? 0)) / count : NaN;
}

/** `after - before` of a histogram, its quantile `q` as histogram_quantile computes it, and its mean. */
function histogramDelta(before, after, q) {
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((le) => (after.buckets.get(le) ?? 0) - (before.buckets.get(le) ?? 0));
  const count = after.count - before.count;
  const mean = count > 0 ? (after.sum - before.sum) / count : NaN;
  if (count === 0) return { count, quantile: NaN, mean };
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i] >= rank) {
      const upper = bounds[i] === Infinity ? lower : bounds[i];
      const inBucket = cumulative[i] - below;
      return { count, quantile: lower + (upper - lower) * (inBucket > 0 ? (rank - below) / inBucket : 0), mean };
    }
    lower = bounds[i];
    below = cumulative[i];
  }
  return { count, quantile: lower, mean };
}

/**
 * Small PUTs through the S3 proxy of a real Stowage, and the server's own wait for each row's
 * commit once the upstream has answered (every write's row is committed before its 200).
 */
async function proxyPuts() {
  const http = require('node:http');
  const { bootStowage, cleanupRunner, freePort } = require('./lib/stowage-process');
  const { startS3 } = require('./lib/s3-server');
  const sigv4 = require(join(__dirname, '..', 'dist', 'libs', 'sigv4'));
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-audit-'));
  const { cleanups, cleanup } = cleanupRunner(dir);
  try {
    const s3 = await startS3(dir, cleanups);
    console.log(
      `S3 server: ${s3.name}; ${require('node:os').cpus().length} CPUs, load average ${require('node:os')
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const proxyPort = await freePort();
    const password = 'bench password 1234';
    const { base, auth } = await bootStowage({
      dir,
      cleanups,
      pin: false,
      password,
      s3,
      config: [
        'log: { level: warn }',
        'ratelimit: { api_per_minute: 0 }',
        `s3_proxy: { enabled: true, listen: "127.0.0.1:${proxyPort}" }`,
      ],
      env: {
        STOWAGE_SECRET_KEY: randomBytes(32).toString('hex'),
      },
    });
    const bucket = `bench-audit-${randomBytes(4).toString('hex')}`;
    const post = (path, body) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await post('/api/backends/b/buckets', { name: bucket });
    if (created.status !== 201) throw new Error(`creating the bucket answered ${created.status}`);
    const minted = await post('/api/me/s3-credentials', { scopes: [{ backend_id: 'b', bucket }] });
    if (minted.status !== 201) throw new Error(`minting a credential answered ${minted.status}`);
    const { access_key: accessKey, secret_key: secretKey } = await minted.json();

    const agent = new http.Agent({ keepAlive: true, maxSockets: PUT_CONNECTIONS });
    const body = randomBytes(1024);
    const payloadHash = sigv4.sha256Hex(body);
    const put = (key) => {
      const amzDate = new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '');
      const day = amzDate.slice(0, 8);
      const path = `/${bucket}/${key}`;
      const headers = {
        host: `127.0.0.1:${proxyPort}`,
        'x-amz-content-sha256': payloadHash,
        'x-amz-date': amzDate,
      };
      const names = Object.keys(headers).sort();
      const canonical = sigv4.buildCanonicalRequest({
        method: 'PUT',
        path,
        query: '',
        headers,
        signedHeaders: names,
        payloadHash,
      });
      const scope = `${day}/us-east-1/s3/aws4_request`;
      const signature = sigv4.signString(
        sigv4.deriveSigningKey(secretKey, day, 'us-east-1', 's3'),
        sigv4.buildStringToSign(amzDate, scope, canonical),
      );
      headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
      headers['content-length'] = String(body.length);
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const req = http.request(`http://127.0.0.1:${proxyPort}${path}`, { method: 'PUT', headers, agent }, (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(performance.now() - started)
              : reject(new Error(`PUT answered ${res.statusCode}`)),
          );
        });
        req.on('error', reject);
        req.end(body);
      });
    };
    const scrape = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return {
        wait: histogram(text, 'stowage_audit_commit_wait_seconds', 'result="ok"'),
        insert: histogram(text, 'stowage_audit_commit_duration_seconds', ''),
      };
    };

    for (let i = 0; i < 50; i++) await put(`warm/${i}`);
    const run = async (connections) => {
      const before = await scrape();
      const latencies = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (next < PUTS) latencies.push(await put(`k/${connections}/${next++}`));
        }),
      );
      const after = await scrape();
      const wait = histogramDelta(before.wait, after.wait, 0.5);
      const insert = histogramDelta(before.insert, after.insert, 0.5);
      const early = firstBucketShare(before.wait, after.wait);
      console.log(
        `proxy PUT 1 KiB, ${connections} connection(s), ${PUTS} PUTs: client p50 ${pct(latencies, 50).toFixed(2)} ms, ` +
          `p99 ${pct(latencies, 99).toFixed(2)} ms; of which the durable audit row (server wait from the upstream's answer ` +
          `until its commit, ${wait.count} rows): p50 ${(wait.quantile * 1000).toFixed(3)} ms, mean ${(wait.mean * 1000).toFixed(3)} ms ` +
          `(target p50 <= 1 ms), ${(early * 100).toFixed(1)}% already committed when the upstream answered (wait <= 0.1 ms); ` +
          `the group INSERT itself (${insert.count} INSERTs): p50 ~${(insert.quantile * 1000).toFixed(2)} ms, mean ${(insert.mean * 1000).toFixed(3)} ms`,
      );
    };
    await run(1);
    await run(PUT_CONNECTIONS);
    agent.destroy();
  } finally {
    await cleanup();
  }
}

async function main() {
  if (!SKIP.has('proxy')) await proxyPuts();
  if (SKIP.has('commit') && SKIP.has('query')) return;
  const { cleanupRunner, migratedDatabase } = require('./lib/stowage-process');
  const { cleanups, cleanup } = cleanupRunner(mkdtempSync(join(tmpdir(), 'stowage-bench-audit-')));
  try {
    const db = new Client({ connectionString: await migratedDatabase(cleanups) });
    await db.connect();
    cleanups.push(() => db.end());
    if (!SKIP.has('commit')) await commits(db);
    if (!SKIP.has('query')) await queries(db);
  } finally {
    await cleanup();
  }
}

async function commits(db) {
  {
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
  }
}

async function queries(db) {
  {
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
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
