'use strict';

/*
 * S3 conformance through the proxy with a namespace credential: the part of ceph/s3-tests that
 * passes against Ceph RGW directly (the list beside the runner) is run again, through Stowage's
 * S3 proxy in front of a throwaway Ceph RGW, with credentials that own the bucket-name prefixes
 * the tests make their buckets under (`main` and `alt`; both reach the same upstream identity,
 * so tests that need two upstream owners cannot pass, and are named as such).
 *
 *   npm run build:api && node scripts/conformance.js        (about 5 minutes; not run by CI)
 *
 *   CONFORMANCE_DIR     where ceph/s3-tests, run-s3-tests.sh and the passed list are
 *                       (default /work/shared/conformance)
 *   CONFORMANCE_IDS     a file of pytest node ids to run instead of the passed list
 *   CONFORMANCE_OUT     where junit.xml, pytest.log and report.md go (default: a temporary dir)
 *
 * Prints the pass ratio and every test of the list that failed through the proxy, with the first
 * line of its failure; exits 0 when the run completed (whatever the ratio), 1 when it could not.
 * Needs the Ceph binaries (test/ceph/install.sh), PostgreSQL and Redis as the benchmarks do, and
 * Debian's python3-boto3, python3-pytest, python3-munch, python3-gevent, python3-isodate and
 * python3-pytest-timeout (run-s3-tests.sh beside the suite installs them).
 */

const { execFile } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { bootStowage, cleanupRunner, freePort } = require('./lib/stowage-process');
const { startS3 } = require('./lib/s3-server');
const { reasonFor } = require('./lib/conformance-reasons');

const DIR = process.env.CONFORMANCE_DIR ?? '/work/shared/conformance';
const IDS = process.env.CONFORMANCE_IDS ?? join(DIR, 'ceph-rgw-16.2-passed.txt');
const PASSWORD = `Conformance-${randomBytes(6).toString('hex')}`;
/** The tests name their buckets `<prefix><random>-N`; the credentials own `s3t-`. */
const NAMESPACE = 's3t-';
/**
 * The bucket-name prefixes the credentials own: the suite's, and the two that its naming tests
 * put in front of it to control a name's first character (`a…`, `0…`), as an operator would
 * grant a team the prefixes its tooling uses.
 */
const PREFIXES = [NAMESPACE, `a${NAMESPACE}`, `0${NAMESPACE}`];

async function mint(base, auth, description) {
  const res = await fetch(`${base}/api/admin/s3-credentials`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      scopes: PREFIXES.map((prefix) => ({ backend_id: 'ceph', bucket_prefix: prefix })),
      description,
    }),
  });
  if (res.status !== 201) throw new Error(`minting a credential answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/**
 * The suite's configuration (as run-s3-tests.sh writes it), with Stowage credentials for `main`,
 * `alt` and `tenant`: every test's setup lists buckets as the tenant user too.
 */
function s3testsConf(port, main, alt, tenant) {
  const user = (name, id, c, email, extra = '') =>
    `[s3 ${name}]\ndisplay_name = ${name}\nuser_id = ${id}\nemail = ${email}\naccess_key = ${c.access_key}\nsecret_key = ${c.secret_key}\n${extra}`;
  return [
    `[DEFAULT]\nhost = 127.0.0.1\nport = ${port}\nis_secure = False\nssl_verify = False\n`,
    `[fixtures]\nbucket prefix = ${NAMESPACE}{random}-\niam name prefix = s3-tests-\niam path prefix = /s3-tests/\n`,
    user('main', 'tester', main, 'tester@example.com', 'api_name = default\n'),
    user('alt', '56789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234', alt, 'john.doe@example.com'),
    user(
      'tenant',
      'testx$9876543210abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      tenant,
      'tenanteduser@example.com',
      'tenant = testx\n',
    ),
    '[iam]\nemail = s3@example.com\nuser_id = 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\naccess_key = ABCDEFGHIJKLMNOPQRST\nsecret_key = abcdefghijklmnopqrstuvwxyzabcdefghijklmn\ndisplay_name = youruseridhere\n',
    '[iam root]\naccess_key = AAAAAAAAAAAAAAAAAAaa\nsecret_key = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nuser_id = RGW11111111111111111\nemail = account1@ceph.com\n',
    '[iam alt root]\naccess_key = BBBBBBBBBBBBBBBBBBbb\nsecret_key = bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\nuser_id = RGW22222222222222222\nemail = account2@ceph.com\n',
  ].join('\n');
}

/** Runs the listed tests with Debian's Python (as run-s3-tests.sh does), writing junit.xml and pytest.log. */
function runPytest(out, ids) {
  return new Promise((resolve) =>
    execFile(
      'timeout',
      [
        '-s',
        'INT',
        '-k',
        '30',
        '2400',
        '/usr/bin/python3',
        '-m',
        'pytest',
        '-p',
        'no:cacheprovider',
        '-q',
        '-rA',
        '--timeout=120',
        `--junitxml=${join(out, 'junit.xml')}`,
        ...ids,
      ],
      {
        cwd: join(DIR, 's3-tests'),
        env: { ...process.env, S3TEST_CONF: join(out, 's3tests.conf') },
        maxBuffer: 256 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        writeFileSync(join(out, 'pytest.log'), `${stdout}${stderr}`);
        resolve(stdout.split('\n').filter(Boolean).pop() ?? (err ? err.message : ''));
      },
    ),
  );
}

/** Test cases of a junit.xml: name, outcome and the first line of a failure. */
function junitCases(xml) {
  const cases = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const attrs = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
    const body = m[3] ?? '';
    const failure = /<(failure|error)\b[^>]*?message="([^"]*)"/.exec(body);
    const outcome = /<skipped\b/.test(body) ? 'skipped' : /<(failure|error)\b/.test(body) ? 'failed' : 'passed';
    const file = (attrs.classname ?? '').replace(/\./g, '/');
    cases.push({
      id: `${file}.py::${attrs.name}`,
      name: attrs.name,
      outcome,
      message: failure ? unescape(failure[2]).split('\n')[0].slice(0, 300) : '',
    });
  }
  return cases;
}

function unescape(text) {
  return text
    .replace(/&#10;/g, '\n')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-conformance-'));
  const out = process.env.CONFORMANCE_OUT ?? mkdtempSync(join(tmpdir(), 'stowage-conformance-out-'));
  mkdirSync(out, { recursive: true });
  const { cleanups, cleanup } = cleanupRunner(dir);
  try {
    const s3 = await startS3(dir, cleanups);
    if (s3.kind !== 'ceph') throw new Error('the conformance run needs Ceph RGW (test/ceph/install.sh)');
    console.log(`S3 server: ${s3.name} on ${s3.endpoint}`);
    const proxyPort = await freePort();
    const { base, auth } = await bootStowage({
      dir,
      cleanups,
      pin: false,
      username: 'conformance',
      password: PASSWORD,
      s3,
      backendId: 'ceph',
      config: [
        'log: { level: warn }',
        'ratelimit: { api_per_minute: 0 }',
        `s3_proxy: { enabled: true, listen: "127.0.0.1:${proxyPort}", sigv2_enabled: true }`,
      ],
      env: {
        STOWAGE_SECRET_KEY: randomBytes(32).toString('hex'),
      },
    });
    const main = await mint(base, auth, 'conformance main');
    const alt = await mint(base, auth, 'conformance alt');
    const tenant = await mint(base, auth, 'conformance tenant');
    console.log(`Stowage on ${base}, S3 proxy on 127.0.0.1:${proxyPort}; namespace ${NAMESPACE}`);
    const ids = readFileSync(IDS, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    console.log(`running ${ids.length} tests through the proxy (${IDS})`);
    const started = Date.now();
    writeFileSync(join(out, 's3tests.conf'), s3testsConf(proxyPort, main, alt, tenant));
    const summary = await runPytest(out, ids);
    const seconds = Math.round((Date.now() - started) / 1000);
    const junit = join(out, 'junit.xml');
    if (!existsSync(junit)) throw new Error(`the test run left no junit.xml: ${summary}`);
    const cases = junitCases(readFileSync(junit, 'utf8'));
    const passed = cases.filter((c) => c.outcome === 'passed');
    const failed = cases.filter((c) => c.outcome !== 'passed');
    const ratio = cases.length ? passed.length / cases.length : 0;
    const owners = failed.filter((c) => reasonFor(c.id)?.kind === 'owners');
    const counted = cases.length - owners.length;
    const unexplained = failed.filter((c) => reasonFor(c.id) === undefined);
    const groups = new Map();
    for (const c of failed) {
      const reason = reasonFor(c.id)?.reason ?? 'UNEXPLAINED: a defect to fix';
      groups.set(reason, [...(groups.get(reason) ?? []), c]);
    }
    const lines = [
      `# S3 conformance through the proxy (namespace credential owning ${PREFIXES.map((p) => `\`${p}\``).join(', ')})`,
      '',
      `${passed.length} of ${cases.length} tests that pass on Ceph RGW directly pass through the proxy: ratio ${ratio.toFixed(3)} (${seconds} s).`,
      `Apart from the ${owners.length} that need several upstream identities (ACL/owner tests, anonymous access by ACL): ` +
        `${passed.length} of ${counted}, ratio ${(counted ? passed.length / counted : 0).toFixed(3)}; unexplained failures: ${unexplained.length}.`,
      '',
      ...[...groups].flatMap(([reason, list]) => [
        `## ${list.length} × ${reason}`,
        '',
        ...list.map((c) => `- \`${c.id}\` (${c.outcome}): ${c.message.replace(/\|/g, '\\|')}`),
        '',
      ]),
    ];
    writeFileSync(join(out, 'report.md'), lines.join('\n'));
    console.log(lines.join('\n'));
    console.log(`details: ${out}/report.md, pytest.log, junit.xml`);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
