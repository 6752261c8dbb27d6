'use strict';

/*
 * Object transfer throughput and small-request rates of the real service against a real S3 server,
 * each compared with the same operation sent straight to that server:
 *   (a) upload and download of one large object (BENCH_OBJECT_MIB, default 1024 MiB), streamed:
 *       MB/s through Stowage and direct, their ratio, SHA-256 of what was written and read, and
 *       the Stowage server's peak RSS growth during each transfer
 *   (b) requests/s, p50 and p99 of listing a bucket of ~100 objects and of reading a 1 KiB object
 *       (direct: presigned URLs)
 *
 *   npm run bench:objects            (builds first; BENCH_SECONDS=20 for longer load runs)
 *   BENCH_ROUNDS (2): rounds of the large transfers, after one untimed warm-up upload; the paths
 *   take turns going first and each path's figure is its median round (the lower of two)
 *
 * The S3 server is a throwaway single-node Ceph RGW started with test/ceph/ceph-rgw-up.sh (objects
 * in RAM); without the Ceph binaries, an s3rver in a child process. Uses the machine's PostgreSQL
 * and Redis (STOWAGE_BENCH_PG_ADMIN_URL, STOWAGE_BENCH_REDIS_URL): a throwaway database and Redis
 * key prefix are created and removed again. Loopback only; everything started is stopped again,
 * also on failure.
 *
 * CPUs: Stowage runs from dist/ alone on CPU 0; this process (the load generator) and, with
 * BENCH_LAYOUT=split (the default, as in bench:proxy), the S3 server share the others, so Stowage
 * has a core to itself as a replica on its own host would and both paths face the same upstream.
 * BENCH_LAYOUT=shared lets the S3 server run on CPU 0 too: every cycle Stowage spends is then taken
 * from the upstream. Each transfer also prints the CPU time the Stowage server spent per GiB.
 */

const { mkdtempSync } = require('node:fs');
const http = require('node:http');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { randomBytes } = require('node:crypto');
const { cpuLayout, fixed, latency, load, printTable } = require('./lib/bench');
const { bootStowage, cleanupRunner } = require('./lib/stowage-process');
const { startS3 } = require('./lib/s3-server');
const { digest, generatedBody, watchRss } = require('./lib/transfer');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const OBJECT_MIB = Number(process.env.BENCH_OBJECT_MIB ?? 1024);
const WARMUP_SECONDS = 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PASSWORD = 'bench password 1234';
const MiB = 1024 * 1024;
const SMALL_OBJECTS = 100;

/** One HTTP request whose response is hashed and discarded; rejects on a non-2xx status. */
function stowageRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers }, (res) => {
      if (res.statusCode >= 300) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (part) => (text += part));
        res.on('end', () => reject(new Error(`${method} ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`)));
        return;
      }
      digest(res).then(resolve, reject);
    });
    request.on('error', reject);
    if (body) body.on('error', (err) => request.destroy(err)).pipe(request);
    else request.end();
  });
}

async function main() {
  const { pin, pinS3Server } = cpuLayout();

  const dir = mkdtempSync(join(tmpdir(), 'stowage-bench-objects-'));
  const { cleanups, cleanup } = cleanupRunner(dir);

  try {
    const s3 = await startS3(dir, cleanups);
    console.log(`S3 server: ${s3.name} on ${s3.endpoint}`);
    pinS3Server(s3);

    const { server, base, auth } = await bootStowage({
      dir,
      cleanups,
      pin,
      password: PASSWORD,
      s3,
      config: ['log: { level: warn }', 'ratelimit: { api_per_minute: 0 }'],
      env: { STOWAGE_LOG_LEVEL: 'warn' },
    });

    const bucket = `bench-${randomBytes(4).toString('hex')}`;
    const created = await fetch(`${base}/api/backends/b/buckets`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: bucket }),
    });
    if (created.status !== 201) throw new Error(`creating the bucket answered ${created.status}`);

    const {
      S3Client,
      PutObjectCommand,
      GetObjectCommand,
      DeleteObjectCommand,
      ListObjectsV2Command,
    } = require('@aws-sdk/client-s3');
    const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');
    const { NodeHttpHandler } = require('@smithy/node-http-handler');
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true }) }),
    });
    cleanups.push(() => client.destroy());

    // (a) one large object, through Stowage and then directly.
    const size = OBJECT_MIB * MiB;
    const seed = randomBytes(16);
    const objectUrl = (key) => `${base}/api/backends/b/buckets/${bucket}/object?key=${encodeURIComponent(key)}`;
    const transfers = [];
    const record = (path, direction, written, read, run) => {
      const mbps = size / 1e6 / run.seconds;
      transfers.push({ path, direction, mbps, growth: run.growth, ok: written === read });
      console.log(
        `${path} ${direction}: ${fixed(mbps, 0)} MB/s, peak server RSS +${fixed(run.growth / MiB, 1)} MiB, ` +
          `server CPU ${fixed(run.cpuSeconds / (size / 2 ** 30), 2)} s per GiB` +
          (read === undefined ? '' : `, sha256 ${written === read ? 'matches' : 'DIFFERS'}`),
      );
    };

    const stowageRound = async () => {
      const key = 'large/stowage.bin';
      const gen = generatedBody(size, seed);
      const up = await watchRss(server.pid, () =>
        stowageRequest(objectUrl(key), {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(size) },
          body: gen.body,
        }),
      );
      const written = gen.sha256();
      record('Stowage', 'upload', written, written, up);
      const down = await watchRss(server.pid, () => stowageRequest(objectUrl(key), { headers: auth }));
      if (down.value.size !== size) throw new Error(`Stowage download returned ${down.value.size} bytes`);
      record('Stowage', 'download', written, down.value.sha256, down);
      const del = await fetch(objectUrl(key), { method: 'DELETE', headers: auth });
      if (del.status !== 204) throw new Error(`DELETE answered ${del.status}`);
      await s3.collectGarbage();
    };
    const directRound = async () => {
      const key = 'large/direct.bin';
      const gen = generatedBody(size, seed);
      const up = await watchRss(server.pid, () =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gen.body, ContentLength: size })),
      );
      const written = gen.sha256();
      record('direct', 'upload', written, written, up);
      const down = await watchRss(server.pid, async () => {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return digest(out.Body);
      });
      if (down.value.size !== size) throw new Error(`direct download returned ${down.value.size} bytes`);
      record('direct', 'download', written, down.value.sha256, down);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      await s3.collectGarbage();
    };

    // A fresh upstream writes its first gigabyte markedly slower than later ones (Ceph RGW: about
    // half the rate), so one untimed transfer of the same size warms it up, and the paths then
    // take turns going first; each path's figure is its median round.
    console.log(`\nlarge object: ${OBJECT_MIB} MiB, ${ROUNDS} rounds after one untimed warm-up transfer`);
    {
      const gen = generatedBody(size, seed);
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'large/warm-up.bin', Body: gen.body, ContentLength: size }),
      );
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'large/warm-up.bin' }));
      await s3.collectGarbage();
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [stowageRound, directRound] : [directRound, stowageRound];
      for (const run of order) await run();
    }

    // (b) a bucket of SMALL_OBJECTS objects of 1 KiB: listing and reading one.
    const small = randomBytes(1024);
    for (let i = 0; i < SMALL_OBJECTS; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, SMALL_OBJECTS - i) }, (_, j) =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `small-${String(i + j).padStart(3, '0')}.bin`,
              Body: small,
              ContentLength: small.length,
            }),
          ),
        ),
      );
    }
    const smallKey = 'small-000.bin';
    // The direct listing asks what Stowage asks its backend for (delimiter "/", up to 1000 keys).
    const routes = [
      ['GET objects (list 100)', 'Stowage', `${base}/api/backends/b/buckets/${bucket}/objects`, auth],
      [
        'GET objects (list 100)',
        'direct',
        await getSignedUrl(client, new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: 1000 }), {
          expiresIn: 3600,
        }),
        {},
      ],
      ['GET object 1 KiB', 'Stowage', objectUrl(smallKey), auth],
      [
        'GET object 1 KiB',
        'direct',
        await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: smallKey }), { expiresIn: 3600 }),
        {},
      ],
    ];
    const listing = await (await fetch(routes[0][2], { headers: auth })).json();
    const listed = (listing.objects ?? listing.items ?? listing.contents ?? []).length;
    console.log(`\nbucket listing through Stowage: ${listed} objects`);
    const rows = [];
    for (const [route, path, url, headers] of routes) {
      await load({ url, headers, seconds: WARMUP_SECONDS, serverPid: server.pid });
      const { result } = await load({ url, headers, seconds: SECONDS, serverPid: server.pid });
      rows.push([
        route,
        path,
        fixed(result.requests.average, 0),
        latency(result.latency.p50),
        latency(result.latency.p99),
        `${result.errors}/${result.non2xx}`,
      ]);
      console.log(`${route} ${path}: ${fixed(result.requests.average, 0)} req/s`);
    }

    const mbps = (path, direction) => {
      const runs = transfers.filter((t) => t.path === path && t.direction === direction);
      const sorted = [...runs].sort((a, b) => a.mbps - b.mbps);
      return {
        mbps: sorted[Math.floor((sorted.length - 1) / 2)].mbps,
        growth: Math.max(...runs.map((t) => t.growth)),
        ok: runs.every((t) => t.ok),
      };
    };
    console.log(`\nS3 server: ${s3.name}; large object ${OBJECT_MIB} MiB`);
    printTable(
      ['transfer', 'Stowage MB/s', 'direct MB/s', 'Stowage/direct', 'sha256', 'Stowage peak RSS growth MiB'],
      ['upload', 'download'].map((direction) => {
        const ours = mbps('Stowage', direction);
        const theirs = mbps('direct', direction);
        return [
          direction,
          fixed(ours.mbps, 0),
          fixed(theirs.mbps, 0),
          fixed(ours.mbps / theirs.mbps, 2),
          ours.ok && theirs.ok ? 'equal' : 'DIFFERS',
          fixed(ours.growth / MiB, 1),
        ];
      }),
      1,
    );
    console.log('(targets: Stowage/direct >= 0.8, RSS growth < 100 MiB)\n');
    printTable(['route', 'path', 'requests/s', 'p50 ms', 'p99 ms', 'errors/non-2xx'], rows, 2);
    if (transfers.some((t) => !t.ok)) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
