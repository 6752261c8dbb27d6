'use strict';

// Running the built service from a benchmark: throwaway database and Redis prefix, a free port,
// the process itself (optionally pinned to CPU 0), and waiting for it to answer.

const { spawn } = require('node:child_process');
const net = require('node:net');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const PG_ADMIN_URL = process.env.STOWAGE_BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.STOWAGE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** Runs `fn` with a client connected to the PostgreSQL admin database. */
async function withPg(fn) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `node dist/src/main.js ARGS`, pinned to CPU 0 when `pin` is set. */
function stowage(args, env, pin) {
  const command = pin ? 'taskset' : process.execPath;
  const argv = [join(ROOT, 'dist/src/main.js'), ...args];
  return spawn(command, pin ? ['-c', '0', process.execPath, ...argv] : argv, { env: { ...process.env, ...env } });
}

async function waitForHealth(base, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode})`);
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('server not ready');
}

/** Deletes every Redis key under a benchmark's prefix. */
async function clearPrefix(prefix) {
  const Redis = require('ioredis');
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

module.exports = { ROOT, PG_ADMIN_URL, REDIS_URL, withPg, freePort, stowage, waitForHealth, clearPrefix };
