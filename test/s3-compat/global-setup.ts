import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RGW_ENV } from '../harness/ceph';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { onPath } = require('../../scripts/lib/s3-server') as { onPath: (bin: string) => boolean };

/**
 * Gives the S3-compatibility suite a Ceph RGW. When STOWAGE_TEST_RGW_ENDPOINT, _ACCESS_KEY and
 * _SECRET_KEY name a running one it is used as is; otherwise a single-node cluster is started with
 * test/ceph/ceph-rgw-up.sh in a temporary directory, on free ports, with fresh credentials. Either
 * way the three variables are set in process.env, which the test files inherit. What was started
 * is recorded for global-teardown.ts, and a detached watchdog stops the cluster should this process
 * die without reaching the teardown.
 */

export const CEPH_SCRIPTS = resolve(__dirname, '../ceph');
const REQUIRED_BINARIES = ['radosgw', 'ceph-mon', 'ceph-osd', 'ceph', 'radosgw-admin', 'monmaptool', 'curl'];
const START_TIMEOUT_MS = 180_000;

/** What setup started, for the teardown (globals set here are visible to it, not to tests). */
export interface StartedCluster {
  cephDir: string;
  watchdogPid: number | undefined;
}
export const CLUSTER_KEY = '__stowageCephCluster';
type WithCluster = typeof globalThis & { [CLUSTER_KEY]?: StartedCluster };

export default async function globalSetup(): Promise<void> {
  const given = Object.values(RGW_ENV).filter((name) => process.env[name]);
  if (given.length === Object.keys(RGW_ENV).length) {
    process.stderr.write(`\nUsing the Ceph RGW at ${process.env[RGW_ENV.endpoint]}\n`);
    return;
  }
  if (given.length > 0) {
    const missing = Object.values(RGW_ENV).filter((name) => !process.env[name]);
    throw oneLine(
      `To reuse a running Ceph RGW set all of ${Object.values(RGW_ENV).join(', ')} (missing ${missing.join(', ')})`,
    );
  }
  const missing = REQUIRED_BINARIES.filter((bin) => !onPath(bin));
  if (missing.length > 0) {
    throw oneLine(
      `Ceph RGW is not installed (missing ${missing.join(', ')}): run \`bash test/ceph/install.sh\` as root, ` +
        `or point ${RGW_ENV.endpoint}, ${RGW_ENV.accessKey} and ${RGW_ENV.secretKey} at a running RGW`,
    );
  }

  const started = Date.now();
  const cephDir = mkdtempSync(join(tmpdir(), 'stowage-ceph-'));
  const [rgwPort, monPort, monV2Port] = await freePorts(3);
  const accessKey = randomBytes(10).toString('hex').toUpperCase();
  const secretKey = randomBytes(20).toString('hex');
  const env = {
    ...process.env,
    CEPH_DIR: cephDir,
    RGW_PORT: String(rgwPort),
    MON_PORT: String(monPort),
    MON_V2_PORT: String(monV2Port),
    S3_ACCESS_KEY: accessKey,
    S3_SECRET_KEY: secretKey,
  };
  try {
    await run(join(CEPH_SCRIPTS, 'ceph-rgw-up.sh'), env, START_TIMEOUT_MS);
  } catch (err) {
    // The daemons that did start are stopped; the directory stays for its logs.
    await run(join(CEPH_SCRIPTS, 'ceph-rgw-down.sh'), { ...process.env, CEPH_DIR: cephDir }, 60_000).catch(
      () => undefined,
    );
    const reason = (err as Error).message;
    throw oneLine(`Ceph RGW did not start: ${reason}${reason.includes(cephDir) ? '' : ` (logs in ${cephDir}/log)`}`);
  }

  (globalThis as WithCluster)[CLUSTER_KEY] = { cephDir, watchdogPid: startWatchdog(cephDir) };
  process.env[RGW_ENV.endpoint] = `http://127.0.0.1:${rgwPort}`;
  process.env[RGW_ENV.accessKey] = accessKey;
  process.env[RGW_ENV.secretKey] = secretKey;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`\nCeph RGW up on ${process.env[RGW_ENV.endpoint]} in ${seconds} s (${cephDir})\n`);
}

/** An Error that Jest prints as its message alone, without a stack trace. */
function oneLine(message: string): Error {
  const err = new Error(message);
  err.stack = message;
  return err;
}

/** Ports the OS reports free right now; all are held open together so they differ. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((done, fail) => {
            server.once('error', fail);
            server.listen(0, '127.0.0.1', () => {
              const address = server.address();
              if (address && typeof address === 'object') done(address.port);
              else fail(new Error('no port'));
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  }
}

/** Runs a bash script; rejects with the last line of its error output (else of its output). */
export function run(script: string, env: NodeJS.ProcessEnv, timeout: number): Promise<string> {
  return new Promise((done, fail) => {
    execFile('bash', [script], { env, timeout, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) return done(stdout);
      const last = (text: string) =>
        text
          .split('\n')
          .filter((line) => line.trim())
          .pop();
      const name = script.split('/').pop();
      if (err.killed) return fail(new Error(`${name} timed out after ${timeout / 1000} s`));
      fail(new Error(last(stderr) ?? last(stdout) ?? `${name} exited with ${err.code}`));
    });
  });
}

/**
 * A detached shell that waits for this process to exit and then stops the cluster. The teardown
 * kills it first and stops the cluster itself; it matters only when Jest is killed or crashes.
 */
function startWatchdog(cephDir: string): number | undefined {
  const down = join(CEPH_SCRIPTS, 'ceph-rgw-down.sh');
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec bash "$2" >/dev/null 2>&1';
  const child = spawn('bash', ['-c', script, 'stowage-ceph-watchdog', String(process.pid), down], {
    env: { ...process.env, CEPH_DIR: cephDir, CEPH_RGW_PURGE: '1' },
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child.pid;
}
