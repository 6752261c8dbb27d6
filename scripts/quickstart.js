'use strict';

/*
 * One command to try Stowage on this machine: `npm run quickstart` (after `npm ci`).
 *
 * - uses the local PostgreSQL and Redis (STOWAGE_DATABASE_URL / STOWAGE_REDIS_URL, defaults on
 *   127.0.0.1) and creates the `stowage` database when it is missing;
 * - starts an embedded S3 server (s3rver) storing objects under ./.stowage/s3, registered as
 *   the backend `local`;
 * - writes ./.stowage/stowage.yaml and a root key file on first run, creates an admin and
 *   prints its password once;
 * - runs `stowage serve` until Ctrl-C.
 */

const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { randomBytes } = require('node:crypto');

const ROOT = join(__dirname, '..');
const DATA = join(ROOT, '.stowage');
const CONFIG = join(DATA, 'stowage.yaml');
const LISTEN_PORT = Number(process.env.STOWAGE_QUICKSTART_PORT ?? 8080);
const S3_PORT = Number(process.env.STOWAGE_QUICKSTART_S3_PORT ?? 9000);
const PROXY_PORT = Number(process.env.STOWAGE_QUICKSTART_PROXY_PORT ?? 8090);
const DATABASE_URL = process.env.STOWAGE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/stowage';
const S3_KEY = 'S3RVER';

// s3rver builds its pagination tokens with a cipher Node 20 only offers with the legacy provider.
if (!process.execArgv.includes('--openssl-legacy-provider')) {
  const result = spawnSync(process.execPath, ['--openssl-legacy-provider', __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}

async function ensureDatabase() {
  const { Client } = require('pg');
  const target = new URL(DATABASE_URL);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      console.log(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

function writeConfig() {
  if (existsSync(CONFIG)) return;
  writeFileSync(
    CONFIG,
    [
      '# Written by `npm run quickstart`; edit freely. See README.md for every key.',
      'server:',
      `  listen: "127.0.0.1:${LISTEN_PORT}"`,
      `  public_url: "http://localhost:${LISTEN_PORT}"`,
      `  secret_key_file: "${join(DATA, 'secret.key')}"`,
      'log:',
      '  level: info',
      '  format: text',
      'backends:',
      '  - id: local',
      '    name: Local disk (embedded S3)',
      '    type: s3v4',
      `    endpoint: "http://127.0.0.1:${S3_PORT}"`,
      '    region: us-east-1',
      '    access_key_env: STOWAGE_LOCAL_S3_ACCESS_KEY',
      '    secret_key_env: STOWAGE_LOCAL_S3_SECRET_KEY',
      '    path_style: true',
      '    kind: s3rver',
      's3_proxy:',
      '  enabled: true',
      `  listen: "127.0.0.1:${PROXY_PORT}"`,
      '',
    ].join('\n'),
  );
}

async function startS3() {
  const { createLocalS3 } = require('./lib/local-s3');
  const directory = join(DATA, 's3');
  mkdirSync(directory, { recursive: true });
  const server = createLocalS3({
    address: '127.0.0.1',
    port: S3_PORT,
    silent: true,
    directory,
    accessKeyId: S3_KEY,
    secretAccessKey: S3_KEY,
  });
  await server.run();
  return server;
}

function createAdminOnce(env) {
  const marker = join(DATA, 'admin-created');
  if (existsSync(marker)) return;
  const password = randomBytes(12).toString('base64url');
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'dist/src/main.js'),
      'create-admin',
      '--config',
      CONFIG,
      '--username',
      'admin',
      '--password',
      password,
      '--must-change-password',
    ],
    { env, encoding: 'utf8' },
  );
  writeFileSync(marker, new Date().toISOString());
  if (result.status === 0) {
    console.log('\n  First run: an admin was created. This password is shown only once:');
    console.log(
      `    username: admin\n    password: ${password}\n  (you will be asked to change it at first sign-in)\n`,
    );
  } else {
    console.log(`  admin not created: ${result.stderr.trim()}`);
  }
}

async function main() {
  mkdirSync(DATA, { recursive: true, mode: 0o700 });
  await ensureDatabase();
  writeConfig();
  const s3 = await startS3();
  const env = {
    ...process.env,
    STOWAGE_DATABASE_URL: DATABASE_URL,
    STOWAGE_LOCAL_S3_ACCESS_KEY: S3_KEY,
    STOWAGE_LOCAL_S3_SECRET_KEY: S3_KEY,
  };
  createAdminOnce(env);
  const server = spawn(process.execPath, [join(ROOT, 'dist/src/main.js'), 'serve', '--config', CONFIG], {
    env,
    stdio: 'inherit',
  });
  const base = `http://localhost:${LISTEN_PORT}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log(`
  Stowage is running.
    Dashboard API   ${base}/api      (sign in: POST ${base}/auth/login/local)
    Swagger UI      ${base}/api/docs
    Health          ${base}/healthz  ${base}/readyz
    Metrics         ${base}/metrics
    S3 proxy        http://localhost:${PROXY_PORT} (path-style; credentials: POST ${base}/api/me/s3-credentials)
    Local S3        http://127.0.0.1:${S3_PORT} (objects under ${join(DATA, 's3')})
  Press Ctrl-C to stop.
`);
  const stop = (signal) => server.kill(signal);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await new Promise((resolve) => server.on('exit', (c) => resolve(c ?? 0)));
  await s3.close();
  process.exit(code);
}

main().catch((err) => {
  console.error(`quickstart: ${err.message}`);
  process.exit(1);
});
