import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestStack } from '../harness/app';
import { Session } from '../harness/session';
import { bootWithBackend, StorageFixture } from '../harness/storage';

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const RSS_LIMIT = 100 * MiB;

// Bodies generated and hashed as they are sent, responses hashed as they arrive: the benchmarks' own.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { generatedBody, digest } = require('../../scripts/lib/transfer') as {
  /** `size` pseudo-random bytes (an AES-CTR keystream of `seed`) made a chunk at a time, hashed as they go. */
  generatedBody: (size: number, seed: Buffer) => { body: Readable; sha256: () => string };
  /** Consumes a stream, keeping only its SHA-256 and length. */
  digest: (stream: Readable) => Promise<{ sha256: string; size: number }>;
};

/** The largest growth of this process's RSS (sampled every 50 ms) over its value just before `fn`. */
async function rssGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, growth: peak - before };
  } finally {
    clearInterval(timer);
  }
}

/** One streamed exchange with the app: the response body is hashed, not kept. */
function exchange(
  session: Session,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Readable } = {},
): Promise<{ status: number; sha256: string; size: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${session.baseUrl}${path}`,
      {
        method: options.method ?? 'GET',
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, ...(options.headers ?? {}) },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (part: string) => (text += part));
          res.on('end', () => resolve({ status, sha256: '', size: 0, text }));
          res.on('error', reject);
          return;
        }
        digest(res).then((d) => resolve({ status, ...d, text: '' }), reject);
      },
    );
    req.on('error', reject);
    if (options.body) options.body.on('error', (err) => req.destroy(err)).pipe(req);
    else req.end();
  });
}

describe('a 1 GiB object through the API against Ceph RGW', () => {
  let stack: TestStack;
  let fx: StorageFixture;
  const bucket = `stowage-large-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const key = 'large/one-gib.bin';
  const path = `/api/backends/local/buckets/${bucket}/object?key=${encodeURIComponent(key)}`;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: 'ceph' });
    fx = await bootWithBackend(stack, { bucket, kind: 'ceph' });
  });

  afterAll(async () => {
    try {
      if (fx) {
        const backend = fx.app.app.get(BackendRegistry).get('local');
        await backend.deleteObjects(bucket, [{ key }]).catch(() => undefined);
        await backend.deleteBucket(bucket);
      }
    } finally {
      await stack?.stop();
    }
  });

  it('uploads and downloads it streamed: same bytes, RSS growth under 100 MiB each way', async () => {
    const generated = generatedBody(SIZE, randomBytes(16));
    const upload = await rssGrowth(() =>
      exchange(fx.user, path, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) },
        body: generated.body,
      }),
    );
    expect(upload.value.text).toBe('');
    expect(upload.value.status).toBe(201);
    const written = generated.sha256();

    const download = await rssGrowth(() => exchange(fx.reader, path));
    expect(download.value.status).toBe(200);
    expect(download.value.size).toBe(SIZE);
    expect(download.value.sha256).toBe(written);

    const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
    process.stderr.write(`RSS growth: upload ${mib(upload.growth)}, download ${mib(download.growth)}\n`);
    expect(upload.growth).toBeLessThan(RSS_LIMIT);
    expect(download.growth).toBeLessThan(RSS_LIMIT);
  }, 300_000);
});
