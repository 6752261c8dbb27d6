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

const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { fixed, latency, load, printTable, tasksetWorks } = require('./lib/bench');
const { bootStowage, cleanupRunner } = require('./lib/stowage-process');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 3;
const PASSWORD = 'bench password 1234';

async function main() {
  const pin = tasksetWorks(['-c', '0', 'true']);
  if (pin && tasksetWorks(['-cp', '1', String(process.pid)]))
    console.log('server pinned to CPU 0, load generator on CPU 1');
  else console.log('note: taskset unavailable; server and load generator share the CPUs');

  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-'));
  const { cleanups, cleanup } = cleanupRunner(dir);
  try {
    // Production logging (info: one line per request) unless BENCH_LOG_LEVEL says otherwise.
    const { server, base, auth } = await bootStowage({
      dir,
      cleanups,
      pin,
      password: PASSWORD,
      config: ['ratelimit: { api_per_minute: 100000000 }'],
      env: { STOWAGE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' },
    });
    const cookie = auth.cookie;
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
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
