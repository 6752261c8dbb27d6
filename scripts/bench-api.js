'use strict';

/*
 * Requests/s and latency of the real service on one core:
 *   GET /api/me   with a valid session (session + user from Redis, CSRF-free read, the
 *                 per-session rate limiter active with a limit too high to trip)
 *   GET /healthz  liveness, no dependencies
 *
 *   npm run bench:api                 (builds first; BENCH_SECONDS=20 for longer runs)
 *
 * Uses the machine's PostgreSQL and Redis (STOWAGE_BENCH_PG_ADMIN_URL, STOWAGE_BENCH_REDIS_URL):
 * a throwaway database and Redis key prefix are created and removed again. The server runs from
 * dist/ pinned to CPU 0; this process (the load generator) moves to CPU 1. Loopback only.
 */

const { execFileSync } = require('node:child_process');
const { mkdtempSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { randomBytes } = require('node:crypto');
const { fixed, latency, load, printTable, tasksetWorks } = require('./lib/bench');
const {
  ROOT,
  PG_ADMIN_URL,
  REDIS_URL,
  withPg,
  freePort,
  stowage,
  waitForHealth,
  clearPrefix,
} = require('./lib/stowage-process');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const PASSWORD = 'bench password 1234';

async function main() {
  const pin = tasksetWorks(['-c', '0', 'true']);
  if (pin && tasksetWorks(['-cp', '1', String(process.pid)]))
    console.log('server pinned to CPU 0, load generator on CPU 1');
  else console.log('note: taskset unavailable; server and load generator share the CPUs');

  const database = `stowage_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const prefix = `stowage-bench:${process.pid}:`;
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-'));
  const port = await freePort();
  const dbUrl = new URL(PG_ADMIN_URL);
  dbUrl.pathname = `/${database}`;
  const configFile = join(dir, 'stowage.yaml');
  writeFileSync(
    configFile,
    [
      `server: { listen: "127.0.0.1:${port}" }`,
      `db: { url: "${dbUrl}" }`,
      `redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }`,
      'ratelimit: { api_per_minute: 100000000 }',
      '',
    ].join('\n'),
  );
  const env = { STOWAGE_CONFIG: configFile };
  await withPg((c) => c.query(`CREATE DATABASE "${database}"`));
  let server;
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'dist/src/main.js'), 'create-admin', '--username', 'bench', '--password', PASSWORD],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    // Production logging (info: one line per request) unless BENCH_LOG_LEVEL says otherwise.
    server = stowage(['serve'], { ...env, STOWAGE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' }, pin);
    server.stdout.resume();
    server.stderr.pipe(process.stderr);
    const base = `http://127.0.0.1:${port}`;
    await waitForHealth(base, server, 30_000);
    const res = await fetch(`${base}/auth/login/local`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password: PASSWORD }),
    });
    const cookie = res.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    if (me.status !== 200) throw new Error(`GET /api/me answered ${me.status}`);

    const rows = [];
    for (const [path, headers] of [
      ['/api/me', { cookie }],
      ['/healthz', {}],
    ]) {
      await load({ url: `${base}${path}`, headers, seconds: WARMUP_SECONDS, serverPid: server.pid });
      const { result, serverCpuSeconds } = await load({
        url: `${base}${path}`,
        headers,
        seconds: SECONDS,
        serverPid: server.pid,
      });
      const total = result.requests.total;
      rows.push([
        `GET ${path}`,
        fixed(result.requests.average, 0),
        latency(result.latency.p50),
        latency(result.latency.p99),
        `${result.errors}/${result.non2xx}`,
        fixed(serverCpuSeconds === undefined ? NaN : (serverCpuSeconds * 1e6) / total, 0),
      ]);
      console.log(`${path}: ${fixed(result.requests.average, 0)} req/s`);
    }
    console.log('');
    printTable(['route', 'requests/s', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'server CPU µs/req'], rows, 1);
  } finally {
    if (server) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    await withPg((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
    await clearPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
