'use strict';

// Running the built service from a benchmark: throwaway database and Redis prefix, a free port,
// the process itself (optionally pinned to CPU 0), waiting for it to answer, signing in, and
// undoing all of it again.

const { execFileSync, spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { createWriteStream, readFileSync, rmSync, writeFileSync } = require('node:fs');
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

/**
 * A throwaway database with the schema of dist/'s migrations (no service running on it); dropped
 * again by `cleanups`. Returns its URL.
 */
async function migratedDatabase(cleanups) {
  const database = `stowage_bench_${randomBytes(4).toString('hex')}`;
  await withPg((c) => c.query(`CREATE DATABASE "${database}"`));
  cleanups.push(() => withPg((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  require('reflect-metadata');
  const { DataSource } = require('typeorm');
  const { MIGRATIONS } = require(join(ROOT, 'dist/src/database/migrations'));
  const dataSource = new DataSource({
    type: 'postgres',
    url: url.toString(),
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
  return url.toString();
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The glibc allocator settings the container image runs Stowage with (its Dockerfile's `ENV MALLOC_…`). */
const IMAGE_ALLOCATOR_ENV = Object.fromEntries(
  [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/\b(MALLOC_[A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]),
);

/**
 * `node dist/src/main.js ARGS` with the image's allocator settings, pinned to CPU 0 when `pin` is
 * set. STOWAGE_BENCH_NODE_ARGS adds flags for node itself, e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` for a profile of the server.
 */
function stowage(args, env, pin) {
  const command = pin ? 'taskset' : process.execPath;
  const nodeArgs = (process.env.STOWAGE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const argv = [...nodeArgs, join(ROOT, 'dist/src/main.js'), ...args];
  return spawn(command, pin ? ['-c', '0', process.execPath, ...argv] : argv, {
    env: { ...process.env, ...IMAGE_ALLOCATOR_ENV, ...env },
  });
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

/** Deletes every Redis key under a prefix (a benchmark's, or a test's at `url`). */
async function clearPrefix(prefix, url = REDIS_URL) {
  const Redis = require('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the child has exited. */
function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Undo steps run in reverse order, once, and `dir` removed at the end; SIGINT and SIGTERM run
 * them before exiting. Push a step onto `cleanups` right after starting what it undoes.
 */
function cleanupRunner(dir) {
  const cleanups = [];
  let cleaning;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const step of cleanups.reverse()) {
        try {
          await step();
        } catch (err) {
          console.error(`cleanup: ${err.message}`);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  return { cleanups, cleanup };
}

/** Signs in with a password; answers the headers of a session that may also write (CSRF). */
async function login(base, username, password) {
  const res = await fetch(`${base}/auth/login/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  const cookies = Object.fromEntries(
    res.headers.getSetCookie().map((line) => line.split(';')[0].split(/=(.*)/s).slice(0, 2)),
  );
  const cookie = Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
  return { cookie, 'x-csrf-token': cookies.stowage_csrf };
}

/**
 * The built service on a throwaway database and Redis prefix with an admin signed in: writes
 * `stowage.yaml` into `dir` (listen, db and redis lines, then `config`, then the one backend on
 * `s3` when given: id `backendId`, path-style, in `region`), creates the database and the admin,
 * starts `serve` and waits until it answers. Registers its undo steps.
 */
async function bootStowage({
  dir,
  cleanups,
  pin,
  config = [],
  env = {},
  username = 'bench',
  password,
  s3,
  backendId = 'b',
  region = 'us-east-1',
}) {
  const database = `stowage_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const prefix = `stowage-bench:${process.pid}:`;
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
      ...config,
      ...(s3
        ? [
            'backends:',
            `  - { id: ${backendId}, endpoint: "${s3.endpoint}", region: ${region}, kind: ${s3.kind}, path_style: true,`,
            '      access_key_env: BENCH_S3_ACCESS_KEY, secret_key_env: BENCH_S3_SECRET_KEY }',
          ]
        : []),
      '',
    ].join('\n'),
  );
  const keys = s3 ? { BENCH_S3_ACCESS_KEY: s3.accessKey, BENCH_S3_SECRET_KEY: s3.secretKey } : {};
  const fullEnv = { ...keys, ...env, STOWAGE_CONFIG: configFile };
  await withPg((c) => c.query(`CREATE DATABASE "${database}"`));
  cleanups.push(async () => {
    await withPg((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
    await clearPrefix(prefix);
  });
  execFileSync(
    process.execPath,
    [join(ROOT, 'dist/src/main.js'), 'create-admin', '--username', username, '--password', password],
    { env: { ...process.env, ...fullEnv }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const server = stowage(['serve'], fullEnv, pin);
  cleanups.push(() => stopChild(server));
  // STOWAGE_BENCH_STDOUT: a file for the server's standard output (what node's --trace-* flags print).
  if (process.env.STOWAGE_BENCH_STDOUT) server.stdout.pipe(createWriteStream(process.env.STOWAGE_BENCH_STDOUT));
  else server.stdout.resume();
  server.stderr.pipe(process.stderr);
  const base = `http://127.0.0.1:${port}`;
  await waitForHealth(base, server, 30_000);
  return { server, base, dbUrl: String(dbUrl), auth: await login(base, username, password) };
}

module.exports = {
  ROOT,
  PG_ADMIN_URL,
  REDIS_URL,
  withPg,
  migratedDatabase,
  freePort,
  stowage,
  waitForHealth,
  clearPrefix,
  stopChild,
  cleanupRunner,
  login,
  bootStowage,
};
