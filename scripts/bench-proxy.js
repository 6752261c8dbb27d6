'use strict';

/*
 * The embedded S3 proxy against the S3 server behind it: the same signed requests sent through
 * the proxy (virtual credential) and straight to the server (its own keys), in one process.
 *   forwarded cases  GetObject 1 KiB, PutObject 1 KiB, HeadObject, ListObjectsV2 (100 objects),
 *                    GetObject 1 MiB (MB/s), PutObject 64 MiB (MB/s, one stream): throughput
 *                    under load, proxy/direct ratio, and the latency the proxy adds (p50, p99
 *                    at one connection); upstream drift during a case is shared out fairly:
 *                    throughput runs take turns in rounds (direct, proxy | proxy, direct | ...),
 *                    latency requests and the 64 MiB uploads alternate between the two sides
 *   proxy only       bad-signature rejects (valid access key, wrong signature: 403 before any
 *                    upstream call) and the synthesised ListBuckets, with server CPU per request;
 *                    then, without targets, refusals of an unknown access key, of a bucket outside
 *                    the credential's scope and of a malformed Authorization header; beside them,
 *                    the host's floor: a bare node:http server on the same core
 *                    giving the same 403 answer to the same requests (what node:http and the
 *                    kernel cost on this machine before any Stowage code runs)
 *   memory           peak RSS of the service, and its RSS growth while one large object
 *                    (BENCH_OBJECT_MIB, default 1024) goes up and down through the proxy,
 *                    generated and hashed on the fly; the SHA-256 read back must equal the one sent
 *
 *   npm run bench:proxy     (builds first)
 *   BENCH_SECONDS (15) a side and case, in BENCH_ROUNDS (3) turns, BENCH_WARMUP_SECONDS (2),
 *   BENCH_LATENCY_SECONDS (3) a side, BENCH_CONNECTIONS (50), BENCH_LOG_LEVEL (info),
 *   BENCH_LAYOUT (split; see below)
 *
 * Requests are signed once per run with the project's SigV4 code (dist/libs/sigv4) and replayed,
 * which the proxy accepts within the 15-minute clock-skew window; uploads sign their SHA-256.
 * The S3 server is a throwaway single-node Ceph RGW (test/ceph/ceph-rgw-up.sh, objects in RAM);
 * without the Ceph binaries, an s3rver. Uses the machine's PostgreSQL and Redis
 * (STOWAGE_BENCH_PG_ADMIN_URL, STOWAGE_BENCH_REDIS_URL): a throwaway database and Redis key
 * prefix, removed again. Stowage runs from dist/ pinned to CPU 0 with production settings (log
 * level info, audit sampling of successful proxy reads 0, the container image's allocator
 * settings); this process moves to the other CPUs. Loopback only; everything started is stopped
 * again, also on failure.
 *
 * BENCH_LAYOUT: `split` (default) pins the S3 server to the load generator's CPUs, so Stowage has
 * CPU 0 to itself, as a proxy on its own host would, and both sides of a comparison face the same
 * upstream; `shared` leaves the S3 server free to run on CPU 0 too, where every cycle the proxy
 * spends is also taken from the upstream (a proxy squeezed onto the storage server's host).
 
 */

const { spawn } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const http = require('node:http');
const { tmpdir, cpus, loadavg } = require('node:os');
const { join } = require('node:path');
const { randomBytes } = require('node:crypto');
const { cpuLayout, fixed, load, percentile, printTable, processCpuSeconds } = require('./lib/bench');
const { ROOT, bootStowage, cleanupRunner, freePort, stopChild } = require('./lib/stowage-process');
const { startS3 } = require('./lib/s3-server');
const { digest, generatedBody, generatedSha256, peakRssOf, rssOf, watchRss } = require('./lib/transfer');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 3);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const OBJECT_MIB = Number(process.env.BENCH_OBJECT_MIB ?? 1024);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const LAYOUT = process.env.BENCH_LAYOUT ?? 'split';
// BENCH_ONLY: comma-separated parts of case names to run (e.g. "GetObject 1 KiB,bad signature,large").
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim().toLowerCase()) : undefined;
const wanted = (name) => !ONLY || ONLY.some((part) => name.toLowerCase().includes(part));
const PASSWORD = 'bench password 1234';
const REGION = 'us-east-1';
const MiB = 1024 * 1024;
const LIST_OBJECTS = 100;
const BIG_PUT_SIZE = 64 * MiB;
/** Most measured 64 MiB uploads per side (fewer when 3 × BENCH_SECONDS run out first), and warm-up rounds. */
const BIG_PUT_MAX = Number(process.env.BENCH_BIG_PUTS ?? 40);
const BIG_PUT_WARMUP = 4;
const SETTLE_MS = 100;

const sigv4 = require(join(ROOT, 'dist/libs/sigv4'));

/**
 * SigV4 headers (host, x-amz-date, x-amz-content-sha256, authorization) for one request to
 * `target`; `secretKey` overrides the target's secret (to sign wrongly on purpose).
 */
function signedHeaders(target, { method, path, query = '', payloadHash = sigv4.EMPTY_SHA256, secretKey }) {
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers = {
    host: new URL(target.endpoint).host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
  };
  const names = Object.keys(headers).sort();
  const canonical = sigv4.buildCanonicalRequest({ method, path, query, headers, signedHeaders: names, payloadHash });
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const key = sigv4.deriveSigningKey(secretKey ?? target.secretKey, day, REGION, 's3');
  const signature = sigv4.signString(key, sigv4.buildStringToSign(amzDate, scope, canonical));
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${target.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/**
 * One signed request; `body` is a Buffer or a stream (then `payloadHash` and `size` are needed).
 * Resolves with the status, headers, the SHA-256 and size of the response body, and its first
 * 64 KiB as text.
 */
function s3Call(target, { method = 'GET', path, query = '', body, size, payloadHash }) {
  const buffer = Buffer.isBuffer(body) ? body : undefined;
  const hash = payloadHash ?? (buffer ? sigv4.sha256Hex(buffer) : sigv4.EMPTY_SHA256);
  const headers = signedHeaders(target, { method, path, query, payloadHash: hash });
  const length = buffer ? buffer.length : size;
  if (length !== undefined) headers['content-length'] = String(length);
  const url = `${target.endpoint}${path}${query ? `?${query}` : ''}`;
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        if (text.length < 65536) text += chunk.toString('utf8', 0, Math.min(chunk.length, 65536 - text.length));
      });
      digest(res).then(
        ({ sha256, size: received }) =>
          resolve({ status: res.statusCode, headers: res.headers, sha256, size: received, text }),
        reject,
      );
    });
    request.on('error', reject);
    if (buffer) request.end(buffer);
    else if (body) body.on('error', (err) => request.destroy(err)).pipe(request);
    else request.end();
  });
}

/** Throws with the request and the answer when a call's status is not `expected`. */
function expectStatus(what, answer, expected = 200) {
  if (answer.status !== expected) {
    throw new Error(`${what} answered ${answer.status} (expected ${expected}): ${answer.text.slice(0, 500)}`);
  }
  return answer;
}

/** autocannon reads a body after every answer's headers; HEAD answers have none. */
function skipResponseBodies(client) {
  const parser = client.parser;
  const slot = parser.constructor.kOnHeadersComplete;
  let handler;
  Object.defineProperty(parser, slot, {
    configurable: true,
    get: () => handler,
    set: (fn) => {
      handler = (...args) => {
        fn(...args);
        return true;
      };
    },
  });
}

/**
 * A bare node:http server on CPU 0 (when pinning works), answering every request with the status
 * and body of `answer` and the headers the proxy sends with it: the floor under the proxy's own
 * answers on this host.
 */
async function bareHttpServer({ pin, answer, cleanups }) {
  const script = `
    const body = process.env.FLOOR_BODY;
    const status = Number(process.env.FLOOR_STATUS);
    const server = require('node:http').createServer((req, res) => {
      res.writeHead(status, {
        'content-type': 'application/xml',
        'content-length': String(Buffer.byteLength(body)),
        'x-amz-request-id': '0000000000000000',
      });
      res.end(body);
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
    process.on('SIGTERM', () => process.exit(0));`;
  const args = ['-e', script];
  const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', '0', process.execPath, ...args] : args, {
    env: { ...process.env, FLOOR_BODY: answer.body, FLOOR_STATUS: String(answer.status) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => stopChild(child));
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare node:http server exited (${code})`)));
    child.stdout.once('data', (line) => resolve(Number(String(line).trim())));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => stopChild(child) };
}

/**
 * Requests/s of one request replayed at full load after a warm-up, the server's CPU µs per
 * request, and `errors/unexpected answers` (answers other than `status`).
 */
async function loadedRate({ url, headers, status, serverPid }) {
  await load({ url, headers, seconds: WARMUP_SECONDS });
  const { result, serverCpuSeconds } = await load({ url, headers, seconds: SECONDS, serverPid });
  const expected = result.statusCodeStats[status]?.count ?? 0;
  return {
    rate: result.requests.average,
    cpuPerRequest: (serverCpuSeconds * 1e6) / result.requests.total,
    failures: `${result.errors}/${result.requests.total - expected}`,
  };
}

const ms = (value) => fixed(value, 2);
const signedMs = (value) => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(2)}` : '-');

async function main() {
  const { pin, pinS3Server } = cpuLayout(LAYOUT);
  console.log(
    `${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-proxy-'));
  const { cleanups, cleanup } = cleanupRunner(dir);

  try {
    const s3 = await startS3(dir, cleanups);
    console.log(`S3 server: ${s3.name} on ${s3.endpoint}`);
    pinS3Server(s3);
    const proxyPort = await freePort();
    const { server, base, auth } = await bootStowage({
      dir,
      cleanups,
      pin,
      password: PASSWORD,
      s3,
      region: REGION,
      config: [
        `log: { level: ${LOG_LEVEL} }`,
        'ratelimit: { api_per_minute: 0 }',
        `s3_proxy: { enabled: true, listen: "127.0.0.1:${proxyPort}" }`,
        'audit: { sampling: { proxy_success_read_rate: 0 } }',
      ],
      env: {
        STOWAGE_SECRET_KEY: randomBytes(32).toString('hex'),
        STOWAGE_LOG_LEVEL: LOG_LEVEL,
      },
    });
    console.log(`Stowage on ${base}, S3 proxy on 127.0.0.1:${proxyPort}, log level ${LOG_LEVEL}`);

    const bucket = `bench-${randomBytes(4).toString('hex')}`;
    const listBucket = `${bucket}-list`;
    for (const name of [bucket, listBucket]) {
      const created = await fetch(`${base}/api/backends/b/buckets`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (created.status !== 201) throw new Error(`creating bucket ${name} answered ${created.status}`);
    }
    const minted = await fetch(`${base}/api/me/s3-credentials`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        scopes: [
          { backend_id: 'b', bucket },
          { backend_id: 'b', bucket: listBucket },
        ],
        description: 'bench',
      }),
    });
    if (minted.status !== 201)
      throw new Error(`minting a credential answered ${minted.status}: ${await minted.text()}`);
    const credential = await minted.json();

    const proxy = {
      name: 'proxy',
      endpoint: `http://127.0.0.1:${proxyPort}`,
      accessKey: credential.access_key,
      secretKey: credential.secret_key,
    };
    const direct = { name: 'direct', endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey };

    // Objects: 1 KiB and 1 MiB to read, and a bucket of LIST_OBJECTS to list.
    const small = randomBytes(1024);
    const medium = randomBytes(MiB);
    expectStatus(
      'seeding small.bin',
      await s3Call(direct, { method: 'PUT', path: `/${bucket}/small.bin`, body: small }),
    );
    expectStatus(
      'seeding medium.bin',
      await s3Call(direct, { method: 'PUT', path: `/${bucket}/medium.bin`, body: medium }),
    );
    for (let i = 0; i < LIST_OBJECTS; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, LIST_OBJECTS - i) }, (_, j) =>
          s3Call(direct, {
            method: 'PUT',
            path: `/${listBucket}/object-${String(i + j).padStart(3, '0')}.bin`,
            body: small,
          }).then((answer) => expectStatus('seeding the list bucket', answer)),
        ),
      );
    }

    const sha = (buffer) => sigv4.sha256Hex(buffer);
    const cases = [
      {
        name: 'GetObject 1 KiB',
        method: 'GET',
        path: `/${bucket}/small.bin`,
        check: (a) => a.sha256 === sha(small),
      },
      {
        name: 'PutObject 1 KiB',
        method: 'PUT',
        path: `/${bucket}/put-small.bin`,
        body: small,
        check: () => true,
      },
      {
        name: 'HeadObject',
        method: 'HEAD',
        path: `/${bucket}/small.bin`,
        check: (a) => a.headers['content-length'] === '1024' && a.size === 0,
      },
      {
        name: `ListObjectsV2 (${LIST_OBJECTS})`,
        method: 'GET',
        path: `/${listBucket}`,
        query: 'list-type=2',
        check: (a) => (a.text.match(/<Key>/g) ?? []).length === LIST_OBJECTS,
      },
      {
        name: 'GetObject 1 MiB',
        method: 'GET',
        path: `/${bucket}/medium.bin`,
        check: (a) => a.sha256 === sha(medium),
        megabytes: true,
        connections: Math.min(CONNECTIONS, 8),
      },
    ];

    const rows = [];
    let bigPut;
    const problems = [];
    for (const c of cases.filter((c) => wanted(c.name))) {
      const connections = c.connections ?? CONNECTIONS;
      const request = { method: c.method, ...(c.body ? { body: c.body } : {}) };
      if (c.method === 'HEAD') request.setupClient = skipResponseBodies;
      const sides = {};
      for (const target of [direct, proxy]) {
        const answer = await s3Call(target, c);
        if (answer.status !== 200 || !c.check(answer)) {
          problems.push(
            `${c.name} ${target.name}: ${c.method} ${c.path}${c.query ? `?${c.query}` : ''} answered ${answer.status}, ` +
              `${answer.size} bytes, sha256 ${answer.sha256}: ${answer.text.slice(0, 300)}`,
          );
        }
        sides[target.name] = {
          url: `${target.endpoint}${c.path}${c.query ? `?${c.query}` : ''}`,
          headers: signedHeaders(target, {
            method: c.method,
            path: c.path,
            query: c.query,
            payloadHash: c.body ? sha(c.body) : undefined,
          }),
          serverPid: target === proxy ? server.pid : undefined,
          totals: { amount: 0, requests: 0, seconds: 0, cpuSeconds: 0, failures: 0 },
        };
      }
      // The sides take turns in rounds, the order swapping every round (direct, proxy | proxy,
      // direct | ...): the upstream's own drift over the case (background work after the previous
      // case, cache warm-up, its slower and faster spells) then weighs on both sides alike.
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of round % 2 === 0 ? ['direct', 'proxy'] : ['proxy', 'direct']) {
          const { url, headers, serverPid, totals } = sides[name];
          const warmup = round === 0 ? WARMUP_SECONDS : Math.min(WARMUP_SECONDS, 0.5);
          await load({ url, headers, request, connections, seconds: warmup });
          const run = await load({ url, headers, request, connections, seconds: SECONDS / ROUNDS, serverPid });
          const { result } = run;
          totals.amount += c.megabytes ? result.throughput.total / 1e6 : result.requests.total;
          totals.requests += result.requests.total;
          totals.seconds += result.duration;
          totals.cpuSeconds += run.serverCpuSeconds ?? NaN;
          totals.failures += result.errors + result.non2xx + result.timeouts;
          console.log(
            `${c.name} ${name}, round ${round + 1}/${ROUNDS}: ` +
              `${fixed(c.megabytes ? result.throughput.average / 1e6 : result.requests.average, 0)} ` +
              `${c.megabytes ? 'MB/s' : 'req/s'} at ${connections} connections; errors/non-2xx ${result.errors}/${result.non2xx}`,
          );
        }
      }
      const measured = {};
      for (const [name, { totals }] of Object.entries(sides)) {
        measured[name] = {
          rate: totals.amount / totals.seconds,
          cpuPerRequest: (totals.cpuSeconds * 1e6) / totals.requests,
          failures: totals.failures,
        };
      }
      const latency = await pairedLatency([direct, proxy], c, LATENCY_SECONDS);
      for (const [name, l] of Object.entries(latency))
        Object.assign(measured[name], l, { failures: measured[name].failures + l.failures });
      console.log(
        `${c.name} at 1 connection, in turns: direct p50 ${ms(latency.direct.p50)} ms, proxy p50 ${ms(latency.proxy.p50)} ms ` +
          `over ${latency.proxy.count} requests each`,
      );
      rows.push({ name: c.name, unit: c.megabytes ? 'MB/s' : 'req/s', ...compare(measured) });
    }

    // PutObject 64 MiB: one stream at a time, direct and proxy taking turns (the order swapping
    // every round), so the upstream's drift (memstore filling up, garbage collection) falls on
    // both sides alike. The body is one buffer made beforehand, so the load generator, which
    // shares its CPU with the S3 server, spends nothing on making it.
    if (wanted('PutObject 64 MiB')) {
      const seed = randomBytes(16);
      const { body: generated, sha256: bodySha256 } = generatedBody(BIG_PUT_SIZE, seed);
      const chunks = [];
      for await (const chunk of generated) chunks.push(chunk);
      const bigBody = Buffer.concat(chunks, BIG_PUT_SIZE);
      const payloadHash = bodySha256();
      const put = (target) =>
        s3Call(target, { method: 'PUT', path: `/${bucket}/put-64m-${target.name}.bin`, body: bigBody, payloadHash });
      const sides = {
        proxy: { target: proxy, times: [], ownTimes: [], failures: 0, cpu: 0 },
        direct: { target: direct, times: [], failures: 0, cpu: 0 },
      };
      const etags = {};
      // Warm-up rounds: the S3 server's allocator grows to its working size (fresh pages are
      // slow on VMs), connections open, and the proxy's code paths are compiled.
      for (let round = 0; round < BIG_PUT_WARMUP; round++) {
        for (const side of Object.values(sides)) {
          const warm = await put(side.target);
          if (warm.status !== 200)
            problems.push(`PutObject 64 MiB ${side.target.name}: answered ${warm.status}: ${warm.text.slice(0, 300)}`);
          etags[side.target.name] = warm.headers.etag;
        }
        if (round % 2 === 1) await s3.collectGarbage();
      }
      await s3.collectGarbage();
      // The proxy's own time per upload: its request duration minus its wait on the upstream (both
      // sums on /metrics, read after each upload). Every upload starts after a short pause, so what
      // the previous one left behind (the scrape, Ceph's background work) is done before either
      // side's clock starts.
      let soFar = await proxyTimes(base, 'PutObject');
      const started = process.hrtime.bigint();
      for (let round = 0; round < BIG_PUT_MAX; round++) {
        if (round >= 4 && Number(process.hrtime.bigint() - started) / 1e9 >= 3 * SECONDS) break;
        const order = round % 2 === 0 ? [sides.direct, sides.proxy] : [sides.proxy, sides.direct];
        for (const side of order) {
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          const cpuBefore = processCpuSeconds(server.pid);
          const t0 = process.hrtime.bigint();
          const answer = await put(side.target);
          const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
          side.cpu += processCpuSeconds(server.pid) - cpuBefore;
          side.times.push(elapsed);
          if (side === sides.proxy) {
            const now = await proxyTimes(base, 'PutObject');
            side.ownTimes.push((now.request - soFar.request - (now.upstream - soFar.upstream)) * 1000);
            soFar = now;
          }
          if (answer.status !== 200 || answer.headers.etag !== etags[side.target.name]) side.failures++;
        }
        // Overwritten objects hold memstore space until Ceph's garbage collection (outside the timing).
        if (round % 4 === 3) await s3.collectGarbage();
      }
      const measured = {};
      for (const [name, side] of Object.entries(sides)) {
        const seconds = side.times.reduce((a, b) => a + b, 0) / 1000;
        const times = [...side.times].sort((a, b) => a - b);
        measured[name] = {
          rate: (times.length * BIG_PUT_SIZE) / 1e6 / seconds,
          p50: percentile(times, 50),
          p99: percentile(times, 99),
          cpuPerRequest: name === 'proxy' ? (side.cpu * 1e6) / times.length : NaN,
          failures: side.failures,
        };
        const m = measured[name];
        console.log(
          `PutObject 64 MiB ${name}: ${fixed(m.rate, 0)} MB/s over ${times.length} uploads, ` +
            `p50 ${ms(m.p50)} ms, p99 ${ms(m.p99)} ms, failures ${side.failures}`,
        );
      }
      if (etags.proxy !== etags.direct) {
        problems.push(`PutObject 64 MiB: ETag through the proxy ${etags.proxy}, direct ${etags.direct}`);
      }
      const ownTimes = [...sides.proxy.ownTimes].sort((a, b) => a - b);
      bigPut = {
        uploads: ownTimes.length,
        ownP50: percentile(ownTimes, 50),
        ownP99: percentile(ownTimes, 99),
        ...medianDifferenceInterval(sides.proxy.times, sides.direct.times),
      };
      rows.push({ name: 'PutObject 64 MiB', unit: 'MB/s', ...compare(measured) });
      await s3.collectGarbage();
    }

    // Answers the proxy gives itself, on the pinned core. The issue sets targets for the first
    // two; the other refusals show what a flood of each kind of bad request costs.
    const own = [];
    let floorAnswer;
    const signed = { method: 'GET', path: `/${bucket}/small.bin` };
    for (const { name, spec, status, code, target = false, authorization } of [
      {
        name: 'bad signature (403)',
        spec: { ...signed, secretKey: 'x'.repeat(40) },
        status: 403,
        code: 'SignatureDoesNotMatch',
        target: true,
      },
      { name: 'ListBuckets (synthesised)', spec: { method: 'GET', path: '/' }, status: 200, target: true },
      {
        name: 'unknown access key (403)',
        spec: { ...signed, accessKey: 'STWG' + '0'.repeat(16) },
        status: 403,
        code: 'InvalidAccessKeyId',
      },
      {
        name: 'out-of-scope bucket (403)',
        spec: { ...signed, path: '/not-granted/small.bin' },
        status: 403,
        code: 'AccessDenied',
      },
      {
        name: 'malformed Authorization (400)',
        spec: signed,
        status: 400,
        code: 'AuthorizationHeaderMalformed',
        authorization: 'AWS4-HMAC-SHA256 Credential=nonsense, Signature=0',
      },
    ].filter((c) => wanted(c.name))) {
      const headers = signedHeaders(spec.accessKey ? { ...proxy, accessKey: spec.accessKey } : proxy, spec);
      if (authorization) headers.authorization = authorization;
      const url = `${proxy.endpoint}${spec.path}`;
      const once = await fetch(url, { headers });
      const text = await once.text();
      const ok =
        once.status === status &&
        (code ? text.includes(`<Code>${code}</Code>`) : text.includes(bucket) && text.includes(listBucket));
      if (!ok) problems.push(`${name}: GET ${spec.path} answered ${once.status}: ${text.slice(0, 300)}`);
      const run = await loadedRate({ url, headers, status, serverPid: server.pid });
      const single = await load({ url, headers, connections: 1, seconds: LATENCY_SECONDS, precise: true });
      own.push([
        name,
        fixed(run.rate, 0),
        ms(single.latency.p50),
        ms(single.latency.p99),
        fixed(run.cpuPerRequest, 0),
        run.failures,
        target ? (run.rate >= 10_000 ? 'met' : 'MISSED') : '-',
      ]);
      console.log(`${name}: ${fixed(run.rate, 0)} req/s`);
      if (code === 'SignatureDoesNotMatch') floorAnswer = { headers, path: spec.path, status, body: text };
    }
    if (floorAnswer) {
      const bare = await bareHttpServer({ pin, answer: floorAnswer, cleanups });
      const { headers, path, status } = floorAnswer;
      const run = await loadedRate({ url: `${bare.url}${path}`, headers, status, serverPid: bare.pid });
      own.push([
        'host floor: bare node:http, same 403',
        fixed(run.rate, 0),
        '-',
        '-',
        fixed(run.cpuPerRequest, 0),
        run.failures,
        '(context)',
      ]);
      await bare.stop();
    }

    // A large object up and down through the proxy.
    const size = OBJECT_MIB * MiB;
    const seed = randomBytes(16);
    const sent = await generatedSha256(size, seed);
    const rssBefore = rssOf(server.pid);
    const up = await watchRss(server.pid, () =>
      s3Call(proxy, {
        method: 'PUT',
        path: `/${bucket}/large.bin`,
        body: generatedBody(size, seed).body,
        size,
        payloadHash: sent,
      }),
    );
    if (up.value.status !== 200) {
      problems.push(`PutObject ${OBJECT_MIB} MiB through the proxy answered ${up.value.status}: ${up.value.text}`);
    }
    const down = await watchRss(server.pid, () => s3Call(proxy, { path: `/${bucket}/large.bin` }));
    const back = down.value;
    if (back.status !== 200 || back.size !== size || back.sha256 !== sent) {
      problems.push(
        `GetObject ${OBJECT_MIB} MiB through the proxy answered ${back.status}, ${back.size} bytes, sha256 ${back.sha256} ` +
          `(sent ${size} bytes, sha256 ${sent})`,
      );
    }
    const large = [
      ['upload', up],
      ['download', down],
    ].map(([direction, run]) => [
      direction,
      fixed(size / 1e6 / run.seconds, 0),
      fixed(run.before / MiB, 1),
      fixed(run.peak / MiB, 1),
      fixed(run.growth / MiB, 1),
      run.growth < 64 * MiB ? 'met' : 'MISSED',
    ]);
    const peakRss = peakRssOf(server.pid);

    console.log(`\n== S3 proxy vs direct (${s3.name}) ==`);
    console.log(
      `throughput: ${SECONDS} s a side in ${ROUNDS} turns at ${CONNECTIONS} connections (GetObject 1 MiB: ${Math.min(CONNECTIONS, 8)}; ` +
        `PutObject 64 MiB: one stream, direct and proxy in turns, up to ${BIG_PUT_MAX} uploads a side) after ${WARMUP_SECONDS} s warm-up; ` +
        `latency: ${LATENCY_SECONDS} s a side at 1 connection, direct and proxy in turns (PutObject 64 MiB: per upload)`,
    );
    printTable(
      [
        'case',
        'unit',
        'proxy',
        'direct',
        'ratio',
        'proxy p50/p99 ms',
        'direct p50/p99 ms',
        '+p50 ms',
        '+p99 ms',
        'server CPU µs/req',
        'failures',
        'targets',
      ],
      rows.map((r) => [
        r.name,
        r.unit,
        fixed(r.proxy.rate, 0),
        fixed(r.direct.rate, 0),
        fixed(r.ratio, 2),
        `${ms(r.proxy.p50)}/${ms(r.proxy.p99)}`,
        `${ms(r.direct.p50)}/${ms(r.direct.p99)}`,
        signedMs(r.addedP50),
        signedMs(r.addedP99),
        fixed(r.proxy.cpuPerRequest, 0),
        `${r.proxy.failures}/${r.direct.failures}`,
        r.ratio >= 0.9 && r.addedP50 <= 1 ? 'met' : 'MISSED',
      ]),
      2,
    );
    console.log('(targets: ratio >= 0.90 and added p50 <= 1 ms on every forwarded case; failures: proxy/direct)');
    if (bigPut) {
      console.log(
        `PutObject 64 MiB over ${bigPut.uploads} uploads a side: the +p50 above has a 95% interval of ` +
          `${signedMs(bigPut.low)} … ${signedMs(bigPut.high)} ms (the upstream's own spread); the proxy's own time ` +
          `per upload (its request duration minus its wait on the upstream): p50 ${ms(bigPut.ownP50)} ms, ` +
          `p99 ${ms(bigPut.ownP99)} ms`,
      );
    }
    console.log('');
    printTable(
      ['proxy only', 'requests/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'errors/unexpected', 'targets'],
      own,
      1,
    );
    console.log(
      '(target, for bad signatures and ListBuckets: >= 10,000 requests/s on the one pinned core; the other refusals ' +
        'have none; the host floor is no target: it shows what node:http and the kernel alone cost on this machine, ' +
        'so figures from different hosts can be compared)\n',
    );
    printTable(['large object', 'MB/s', 'RSS before MiB', 'RSS peak MiB', 'RSS growth MiB', 'targets'], large, 1);
    console.log(
      `(${OBJECT_MIB} MiB through the proxy; sha256 ${back.sha256 === sent ? 'matches' : 'DIFFERS'}; target: growth < 64 MiB each way)`,
    );
    console.log(
      `Stowage peak RSS over the whole run: ${fixed(peakRss / MiB, 1)} MiB (RSS before the large object ${fixed(rssBefore / MiB, 1)} MiB)`,
    );
    if (problems.length > 0) {
      console.log('\nproblems:');
      for (const problem of problems) console.log(`- ${problem}`);
      process.exitCode = 1;
    }
  } finally {
    agent.destroy();
    await cleanup();
  }
}

/**
 * Latency at one connection: the targets take turns request by request (the order swapping
 * every round) for `seconds` each, so all of them meet the upstream in the same state; drift
 * that would land on whichever target runs at a worse moment cancels out. Each target keeps one
 * keep-alive connection and replays one signed request, as the throughput runs do.
 */
async function pairedLatency(targets, c, seconds) {
  const sides = targets.map((target) => ({
    target,
    agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    url: `${target.endpoint}${c.path}${c.query ? `?${c.query}` : ''}`,
    headers: {
      ...signedHeaders(target, {
        method: c.method,
        path: c.path,
        query: c.query,
        payloadHash: c.body ? sigv4.sha256Hex(c.body) : undefined,
      }),
      ...(c.body ? { 'content-length': String(c.body.length) } : {}),
    },
    times: [],
    failures: 0,
  }));
  const once = (side) =>
    new Promise((resolve) => {
      const request = http.request(side.url, { method: c.method, headers: side.headers, agent: side.agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      request.on('error', () => resolve(0));
      request.end(c.body);
    });
  const until = process.hrtime.bigint() + BigInt(Math.round(seconds * targets.length * 1e9));
  for (let round = 0; process.hrtime.bigint() < until; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const t0 = process.hrtime.bigint();
      const status = await once(side);
      if (round > 0) side.times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (status !== 200) side.failures++;
    }
  }
  const result = {};
  for (const side of sides) {
    side.agent.destroy();
    const times = side.times.sort((a, b) => a - b);
    result[side.target.name] = {
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      count: times.length,
      failures: side.failures,
    };
  }
  return result;
}

/**
 * Seconds the proxy has spent on `operation` so far, from /metrics: `request`, from a request's
 * headers to its answer's end, and `upstream`, from sending it upstream to the upstream's status
 * line (the sums of the two histograms).
 */
async function proxyTimes(base, operation) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = (name) => {
    const match = new RegExp(`^${name}_sum\\{operation="${operation}"\\} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  return {
    request: sum('stowage_s3_request_duration_seconds'),
    upstream: sum('stowage_s3_upstream_duration_seconds'),
  };
}

/**
 * A 95% bootstrap interval for median(a) − median(b): how far the difference of two medians
 * moves by chance alone with samples this size and this spread.
 */
function medianDifferenceInterval(a, b, resamples = 4000) {
  const median = (values) =>
    percentile(
      [...values].sort((x, y) => x - y),
      50,
    );
  const resample = (values) => values.map(() => values[Math.floor(Math.random() * values.length)]);
  const differences = Array.from({ length: resamples }, () => median(resample(a)) - median(resample(b))).sort(
    (x, y) => x - y,
  );
  return { low: percentile(differences, 2.5), high: percentile(differences, 97.5) };
}

/** Ratio and added latency of the proxy over direct. */
function compare(measured) {
  const { proxy, direct } = measured;
  return {
    proxy,
    direct,
    ratio: proxy.rate / direct.rate,
    addedP50: proxy.p50 - direct.p50,
    addedP99: proxy.p99 - direct.p99,
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
