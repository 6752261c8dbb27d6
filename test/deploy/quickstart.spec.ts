import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './tools';
import { freePort } from '../harness/ports';

// `npm run quickstart` on a machine where neither PostgreSQL nor Redis answers: unusual ports
// that nothing listens on, so the shared servers on 5432 and 6379 are never touched.

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: NodeJS.ProcessEnv): Started {
  let output = '';
  // Its own process group, so that the test can send SIGINT as a terminal's Ctrl-C does.
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'quickstart.js')], { cwd: ROOT, env, detached: true });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms: number, started: Started) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} within ${ms} ms; output:\n${started.output()}`);
}

describe('quick start on a fresh machine', () => {
  let dir: string;
  let ports: Record<'pg' | 'redis' | 'api' | 's3' | 'proxy', number>;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'main.js'))) {
      const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (build.status !== 0) throw new Error('build failed');
    }
    ports = {
      pg: await freePort(),
      redis: await freePort(),
      api: await freePort(),
      s3: await freePort(),
      proxy: await freePort(),
    };
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stowage-quickstart-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const envFor = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    STOWAGE_QUICKSTART_DIR: dir,
    STOWAGE_DATABASE_URL: `postgres://postgres@127.0.0.1:${ports.pg}/stowage`,
    STOWAGE_REDIS_URL: `redis://127.0.0.1:${ports.redis}/0`,
    STOWAGE_QUICKSTART_PORT: String(ports.api),
    STOWAGE_QUICKSTART_S3_PORT: String(ports.s3),
    STOWAGE_QUICKSTART_PROXY_PORT: String(ports.proxy),
    ...extra,
  });

  it('prints what to install and starts nothing when redis-server is missing', async () => {
    const run = start(envFor({ PATH: join(dir, 'empty-path') }));
    const code = await run.exited;
    expect(code).toBe(1);
    expect(run.output()).toContain(`No Redis answers on 127.0.0.1:${ports.redis} and redis-server is not installed`);
    expect(run.output()).toContain('sudo apt-get install redis-server');
    expect(existsSync(join(dir, 'postgres'))).toBe(false);
    expect(await listening(ports.pg)).toBe(false);
  });

  it('starts an embedded PostgreSQL and a redis-server, then Stowage, and stops them all on Ctrl-C', async () => {
    const run = start(envFor());
    try {
      await until(() => run.output().includes('Stowage is running.'), 'the quick start announced itself', 100_000, run);
      expect(run.output()).toContain(`starting an embedded PostgreSQL on 127.0.0.1:${ports.pg}`);
      expect(run.output()).toContain(`starting redis-server on 127.0.0.1:${ports.redis}`);
      expect(existsSync(join(dir, 'postgres', 'PG_VERSION'))).toBe(true);
      const base = `http://127.0.0.1:${ports.api}`;
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      // The dashboard it announces first is served at /.
      expect(run.output()).toMatch(/Dashboard {7}http:\/\/localhost:\d+\/ /);
      const dashboard = await fetch(`${base}/`);
      expect([dashboard.status, dashboard.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      const password = /password: (\S+)/.exec(run.output())?.[1];
      // What the quick start said instead (an "admin not created" line names the reason).
      if (password === undefined) console.log(run.output());
      expect(password).toBeDefined();
      const login = await fetch(`${base}/auth/login/local`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(login.status).toBe(200);
    } finally {
      if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGINT');
      await run.exited;
    }
    await until(
      async () => !(await listening(ports.pg)) && !(await listening(ports.redis)),
      'PostgreSQL and Redis stopped',
      20_000,
      run,
    );
    expect(await listening(ports.api)).toBe(false);
  });
});
