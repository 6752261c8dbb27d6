'use strict';

// The S3 server a benchmark runs against: a throwaway single-node Ceph RGW started with
// test/ceph/ceph-rgw-up.sh (objects in RAM), or, without the Ceph binaries, an s3rver in a child
// process. Listens on 127.0.0.1 only; stopped again by the cleanup step it registers.

const { execFile, spawn } = require('node:child_process');
const { accessSync, constants, readFileSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { delimiter, join } = require('node:path');
const { ROOT, freePort, stopChild } = require('./stowage-process');

const CEPH_BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'ceph', 'radosgw-admin', 'monmaptool', 'curl'];

/** Whether `bin` is an executable on the PATH (or in /usr/sbin, /sbin). */
function onPath(bin) {
  return [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'].some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function runScript(script, env, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile('bash', [script], { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script} failed: ${(stderr || stdout).trim().split('\n').pop() ?? err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts the S3 server under `dir` and pushes its stop onto `cleanups`. Answers its name, `kind`
 * (as in a backend's config), endpoint, keys, `pids()` (its processes, to pin them to CPUs), and
 * `collectGarbage()`, which frees the space of deleted and overwritten objects (Ceph keeps it
 * until its garbage collection runs).
 */
async function startS3(dir, cleanups) {
  const accessKey = randomBytes(10).toString('hex').toUpperCase();
  const secretKey = randomBytes(20).toString('hex');
  const missing = CEPH_BINARIES.filter((bin) => !onPath(bin));
  if (missing.length === 0) {
    const cephDir = join(dir, 'ceph');
    const [port, monPort, monV2Port] = [await freePort(), await freePort(), await freePort()];
    const env = {
      ...process.env,
      CEPH_DIR: cephDir,
      RGW_PORT: String(port),
      MON_PORT: String(monPort),
      MON_V2_PORT: String(monV2Port),
      S3_ACCESS_KEY: accessKey,
      S3_SECRET_KEY: secretKey,
    };
    cleanups.push(() => runScript(join(ROOT, 'test/ceph/ceph-rgw-down.sh'), env, 60_000));
    await runScript(join(ROOT, 'test/ceph/ceph-rgw-up.sh'), env, 180_000);
    const conf = join(cephDir, 'ceph.conf');
    return {
      pids: () =>
        readFileSync(join(cephDir, 'pids'), 'utf8')
          .split('\n')
          .map((line) => Number(line.trim()))
          .filter((pid) => pid > 0),
      name: 'Ceph RGW',
      kind: 'ceph',
      endpoint: `http://127.0.0.1:${port}`,
      accessKey,
      secretKey,
      // Deleted objects' data stays until RGW's garbage collection; memstore holds 2 GiB at most.
      collectGarbage: () =>
        new Promise((resolve) =>
          execFile('radosgw-admin', ['-c', conf, 'gc', 'process', '--include-all'], { timeout: 120_000 }, () =>
            resolve(),
          ),
        ),
    };
  }
  console.log(`note: Ceph RGW not installed (missing ${missing.join(', ')}); using s3rver instead`);
  const directory = join(dir, 's3rver');
  const code = `
    const { createLocalS3 } = require(${JSON.stringify(join(__dirname, 'local-s3'))});
    const server = createLocalS3({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(directory)},
      allowMismatchedSignatures: true });
    server.run().then(({ port }) => process.stdout.write(port + '\\n'));
    process.on('SIGTERM', () => server.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', code], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => stopChild(child));
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
    child.stdout.once('data', (data) => resolve(Number(String(data).trim())));
  });
  return {
    pids: () => [child.pid],
    name: 's3rver',
    kind: 's3rver',
    endpoint: `http://127.0.0.1:${port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    collectGarbage: async () => undefined,
  };
}

module.exports = { startS3, onPath };
