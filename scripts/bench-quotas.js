'use strict';

/*
 * Quotas and size scans against a throwaway Ceph RGW (s3rver without the Ceph binaries):
 *   scan        a bucket of BENCH_SCAN_OBJECTS (100,000) objects, written straight to the
 *               upstream, counted by the size-scan worker (POST quota/recompute); prints objects/s
 *               (target ≥ 5,000/s), and the API's p50/p99 (GET /api/backends/b/buckets) at rest
 *               and while the scan runs
 *   reservation PutObject 1 KiB through the S3 proxy at one connection, alternately into a bucket
 *               without a quota and one with a hard quota (every PUT then reserves before it is
 *               forwarded and settles after): p50/p99 of each and the difference (which
 *               also holds the HEAD of the replaced object beside the forward), and the
 *               reservation alone (reserve + settle through the service's QuotaStore; target
 *               ≤ 1 ms at p50)
 *   namespace   the reservation alone (as above, on a migrated database without a service) with
 *               N buckets on the backend (BENCH_NS_BUCKETS, 100,1000,10000): p50/p99 for a
 *               bucket in a namespace with a hard byte quota that holds half of them, one in a
 *               namespace of 50 (every reservation sums its namespace's usage), and one outside
 *               any namespace with a quota of its own
 *
 *   npm run bench:quotas     (builds first)
 *   BENCH_SKIP: comma-separated parts to leave out (proxy: the scan and the PUTs, which share one
 *   running Stowage; namespace)
 *   BENCH_SCAN_OBJECTS (100000), BENCH_FILL_CONCURRENCY (64), BENCH_SECONDS (10) of API load at
 *   rest, BENCH_PUTS (2000) per side and reservations per namespace case, BENCH_LOG_LEVEL (warn)
 *
 * Uses the machine's PostgreSQL and Redis (a throwaway database and key prefix, removed again);
 * everything started is stopped again, also on failure. The machine may be shared: figures are
 * indicative.
 */

const http = require('node:http');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { randomBytes, randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { fixed, percentile, printTable } = require('./lib/bench');
const { ROOT, bootStowage, cleanupRunner, freePort, migratedDatabase } = require('./lib/stowage-process');
const { startS3 } = require('./lib/s3-server');

const SCAN_OBJECTS = Number(process.env.BENCH_SCAN_OBJECTS ?? 100_000);
const FILL_CONCURRENCY = Number(process.env.BENCH_FILL_CONCURRENCY ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PUTS = Number(process.env.BENCH_PUTS ?? 2000);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const NS_BUCKETS = (process.env.BENCH_NS_BUCKETS ?? '100,1000,10000').split(',').map(Number);
const SKIP = new Set(
  (process.env.BENCH_SKIP ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const PASSWORD = 'bench password 1234';
const REGION = 'us-east-1';

const sigv4 = require(join(ROOT, 'dist/libs/sigv4'));
const agent = new http.Agent({ keepAlive: true, maxSockets: FILL_CONCURRENCY });

function signedHeaders(target, { method, path, payloadHash }) {
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers = { host: new URL(target.endpoint).host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
  const names = Object.keys(headers).sort();
  const canonical = sigv4.buildCanonicalRequest({
    method,
    path,
    query: '',
    headers,
    signedHeaders: names,
    payloadHash,
  });
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const key = sigv4.deriveSigningKey(target.secretKey, day, REGION, 's3');
  const signature = sigv4.signString(key, sigv4.buildStringToSign(amzDate, scope, canonical));
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${target.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

/** One signed PUT of `body`; resolves with the status and the milliseconds it took. */
function put(target, path, body) {
  const headers = signedHeaders(target, { method: 'PUT', path, payloadHash: sigv4.sha256Hex(body) });
  headers['content-length'] = String(body.length);
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const request = http.request(`${target.endpoint}${path}`, { method: 'PUT', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function api(base, auth, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

let restDeadline;
const restUntil = (seconds) => (restDeadline ??= Date.now() + seconds * 1000);

/** Four clients calling `url` one request after another until `done()`: p50, p99 and count of their times. */
async function probe(url, headers, done) {
  const times = [];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (!done()) {
        const started = process.hrtime.bigint();
        const res = await fetch(url, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }),
  );
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), count: times.length };
}

async function main() {
  if (!SKIP.has('proxy')) await scanAndPuts();
  if (!SKIP.has('namespace')) await namespaceReservations();
}

async function scanAndPuts() {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-quotas-'));
  const { cleanups, cleanup } = cleanupRunner(dir);
  try {
    const s3 = await startS3(dir, cleanups);
    const upstream = { endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey };
    const proxyPort = await freePort();
    const { base, auth, dbUrl } = await bootStowage({
      dir,
      cleanups,
      password: PASSWORD,
      s3,
      region: REGION,
      config: [
        `log: { level: ${LOG_LEVEL} }`,
        'ratelimit: { api_per_minute: 0 }',
        'quotas: { scan_interval: -1s }',
        `s3_proxy: { enabled: true, listen: "127.0.0.1:${proxyPort}" }`,
      ],
      env: {
        STOWAGE_SECRET_KEY: randomBytes(32).toString('hex'),
        STOWAGE_LOG_LEVEL: LOG_LEVEL,
      },
    });
    console.log(`Stowage on ${base} before ${s3.name}; S3 proxy on 127.0.0.1:${proxyPort}`);
    const tag = randomBytes(3).toString('hex');
    const scanBucket = `scan-${tag}`;
    const open = `open-${tag}`;
    const capped = `capped-${tag}`;
    for (const name of [scanBucket, open, capped]) {
      const res = await api(base, auth, 'POST', '/api/backends/b/buckets', { name });
      if (res.status !== 201) throw new Error(`creating ${name} answered ${res.status}`);
    }

    // ---- the scan ----
    console.log(`filling ${scanBucket} with ${SCAN_OBJECTS} objects straight to the upstream ...`);
    const fillStarted = Date.now();
    const one = Buffer.from('x');
    let next = 0;
    await Promise.all(
      Array.from({ length: FILL_CONCURRENCY }, async () => {
        while (next < SCAN_OBJECTS) {
          const i = next++;
          const { status } = await put(upstream, `/${scanBucket}/o/${String(i).padStart(7, '0')}`, one);
          if (status !== 200) throw new Error(`filling answered ${status}`);
        }
      }),
    );
    console.log(`filled in ${((Date.now() - fillStarted) / 1000).toFixed(1)} s`);
    const listUrl = `${base}/api/backends/b/buckets`;
    const rest = await probe(listUrl, auth, () => Date.now() > restUntil(SECONDS));
    const scanStarted = Date.now();
    let scanned = false;
    const during = probe(listUrl, auth, () => scanned);
    let quota = (await api(base, auth, 'POST', `/api/backends/b/buckets/${scanBucket}/quota/recompute`)).body;
    while (quota.scan_running || quota.object_count !== SCAN_OBJECTS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      quota = (await api(base, auth, 'GET', `/api/backends/b/buckets/${scanBucket}/quota`)).body;
      if (Date.now() - scanStarted > 30 * 60_000) throw new Error('the scan did not finish within 30 minutes');
    }
    const scanSeconds = (Date.now() - scanStarted) / 1000;
    scanned = true;
    const busy = await during;
    console.log('');
    printTable(
      ['case', 'figure', 'value'],
      [
        ['scan', 'objects', String(quota.object_count)],
        ['scan', 'seconds (recompute asked → counted)', fixed(scanSeconds, 2)],
        ['scan', 'objects/s (target ≥ 5000)', fixed(quota.object_count / scanSeconds, 0)],
        [
          'API bucket list',
          `at rest p50 / p99 ms (${rest.count} calls)`,
          `${fixed(rest.p50, 2)} / ${fixed(rest.p99, 2)}`,
        ],
        [
          'API bucket list',
          `during the scan p50 / p99 ms (${busy.count} calls)`,
          `${fixed(busy.p50, 2)} / ${fixed(busy.p99, 2)}`,
        ],
      ],
    );

    // ---- the reservation's cost on a small PUT through the proxy ----
    const quotaSet = await api(base, auth, 'PUT', `/api/backends/b/buckets/${capped}/quota`, { hard_bytes: '1Ti' });
    if (quotaSet.status !== 200) throw new Error(`setting the quota answered ${quotaSet.status}`);
    const minted = await api(base, auth, 'POST', '/api/me/s3-credentials', {
      scopes: [
        { backend_id: 'b', bucket: open },
        { backend_id: 'b', bucket: capped },
      ],
      description: 'bench',
    });
    if (minted.status !== 201) throw new Error(`minting answered ${minted.status}`);
    const proxy = {
      endpoint: `http://127.0.0.1:${proxyPort}`,
      accessKey: minted.body.access_key,
      secretKey: minted.body.secret_key,
    };
    const small = randomBytes(1024);
    const times = { [open]: [], [capped]: [] };
    for (let i = 0; i < 50; i++) {
      await put(proxy, `/${open}/warm-${i}`, small);
      await put(proxy, `/${capped}/warm-${i}`, small);
    }
    for (let i = 0; i < PUTS; i++) {
      for (const bucket of i % 2 ? [open, capped] : [capped, open]) {
        const { status, ms } = await put(proxy, `/${bucket}/k-${i % 100}`, small);
        if (status !== 200) throw new Error(`PUT into ${bucket} answered ${status}`);
        times[bucket].push(ms);
      }
    }
    const alone = stats(await reservationRoundTrips(dbUrl, { backendId: 'b', bucket: capped }));
    const o = stats(times[open]);
    const c = stats(times[capped]);
    console.log('');
    printTable(
      ['PutObject 1 KiB via proxy', 'p50 ms', 'p99 ms'],
      [
        ['bucket without quota', fixed(o.p50, 3), fixed(o.p99, 3)],
        ['bucket with hard quota', fixed(c.p50, 3), fixed(c.p99, 3)],
        ['cost on the PUT: reservation + replaced-size HEAD', fixed(c.p50 - o.p50, 3), fixed(c.p99 - o.p99, 3)],
        ['the reservation alone (target ≤ 1 ms at p50)', fixed(alone.p50, 3), fixed(alone.p99, 3)],
      ],
      1,
    );
    const usage = (await api(base, auth, 'GET', `/api/backends/b/buckets/${capped}/quota`)).body;
    console.log(
      `capped bucket usage ${usage.usage_bytes} bytes in ${usage.object_count} objects, reserved ${usage.reserved_bytes}`,
    );
  } finally {
    await cleanup();
  }
}

function stats(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/**
 * The reservation by itself with many buckets on the backend: for each N, N usage rows on backend
 * `b`, half of them in the namespace `ns-`, 50 in the small namespace `sm-` (both with a hard
 * byte quota), the rest in neighbours on either side of `ns-` in byte order; and a bucket outside
 * any namespace with a quota of its own.
 */
async function namespaceReservations() {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-quotas-ns-'));
  const { cleanups, cleanup } = cleanupRunner(dir);
  try {
    const dbUrl = await migratedDatabase(cleanups);
    const { Client } = require('pg');
    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    cleanups.push(() => db.end());
    const cases = [
      ['in a namespace of N/2 buckets', 'ns-bench-0'],
      ['in a namespace of 50 buckets', 'sm-bench-1'],
      ['outside, with a bucket quota', 'nt-bench-x'],
    ];
    await db.query(
      `INSERT INTO namespace_quotas (backend_id, bucket_prefix, hard_bytes) VALUES ('b', 'ns-', 1e15), ('b', 'sm-', 1e15)`,
    );
    await db.query(`INSERT INTO bucket_quotas (backend_id, bucket, hard_bytes) VALUES ('b', $1, 1e15)`, [cases[2][1]]);
    const lines = [];
    for (const n of NS_BUCKETS) {
      await db.query(`DELETE FROM bucket_usage`);
      await db.query(
        `INSERT INTO bucket_usage (backend_id, bucket, bytes, objects)
         SELECT 'b', CASE WHEN i % 2 = 0 THEN 'ns-' WHEN i < 100 THEN 'sm-' WHEN i % 4 = 1 THEN 'nr-' ELSE 'nt-' END
                     || 'bench-' || i,
                i * 1000, i
         FROM generate_series(0, $1::integer - 1) AS i`,
        [n],
      );
      await db.query(`VACUUM ANALYZE bucket_usage`);
      for (const [label, bucket] of cases) {
        const { p50, p99 } = stats(await reservationRoundTrips(dbUrl, { backendId: 'b', bucket }));
        lines.push([`N = ${n}`, label, fixed(p50, 3), fixed(p99, 3)]);
      }
    }
    console.log('');
    printTable(['reserve + settle, buckets on the backend', 'bucket', 'p50 ms', 'p99 ms'], lines);
  } finally {
    await cleanup();
  }
}

/**
 * The reservation by itself, as a write's path runs it: reserve, then settle, through the
 * service's own QuotaStore on the bench's database (no HTTP, no upstream). The PUT comparison
 * above also carries the HEAD that reads the replaced object's size beside the forward, which
 * competes with the PUT for the upstream (here: for the same two cores).
 */
async function reservationRoundTrips(dbUrl, ref) {
  require('reflect-metadata');
  const { DataSource } = require('typeorm');
  const { QuotaStore } = require(join(ROOT, 'dist/src/quotas/quota-store'));
  const dataSource = new DataSource({ type: 'postgres', url: dbUrl, poolSize: 2 });
  await dataSource.initialize();
  try {
    const store = new QuotaStore(dataSource);
    const times = [];
    for (let i = 0; i < PUTS + 50; i++) {
      const id = randomUUID();
      const started = performance.now();
      const outcome = await store.reserve(ref, id, 1024, 60_000);
      if (outcome.outcome !== 'reserved') throw new Error(`reserve answered ${outcome.outcome}`);
      await store.settle(ref, id, 0, 0);
      if (i >= 50) times.push(performance.now() - started);
    }
    return times;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
