import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { connect, Socket } from 'node:net';
import { TestApp, TestStack } from '../harness/app';
import { bootWithProxy, createBucket, mintCredential, proxyClient, VirtualKeys } from '../harness/s3-proxy';
import { MiB } from '../harness/streams';

interface Exchange {
  socket: Socket;
  /** Resolves with what the server sent and when it closed (ms after the start), or `closed: false` after `waitMs`. */
  outcome: (waitMs: number) => Promise<{ closed: boolean; ms: number; text: string }>;
}

/** Opens a raw connection to `url` and writes `head` (and whatever `then` sends after it). */
function open(url: string, head: string): Exchange {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const started = Date.now();
  const chunks: Buffer[] = [];
  let closedAt: number | undefined;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  socket.on('close', () => (closedAt = Date.now()));
  socket.write(head);
  return {
    socket,
    outcome: async (waitMs) => {
      const deadline = started + waitMs;
      while (closedAt === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const result = {
        closed: closedAt !== undefined,
        ms: (closedAt ?? Date.now()) - started,
        text: Buffer.concat(chunks).toString('latin1'),
      };
      socket.destroy();
      return result;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('timeouts on both listeners: stalled clients are cut, slow but moving ones are not', () => {
  let stack: TestStack;
  let app: TestApp;
  let endpoint: string;
  let keys: VirtualKeys;
  let client: S3Client;
  const bucket = 'slow-uploads';

  beforeAll(async () => {
    stack = await TestStack.start();
    const fx = await bootWithProxy(stack, {
      config: {
        server: { idle_timeout: '1s', small_body_timeout: '3s', headers_timeout: '2s' },
        s3_proxy: { idle_timeout: '1s', small_body_timeout: '3s', headers_timeout: '2s' },
      },
    });
    app = fx.app;
    endpoint = fx.endpoint;
    await createBucket(fx.admin, 'local', bucket);
    keys = await mintCredential(fx.user, [{ backend_id: 'local', bucket }]);
    client = proxyClient(endpoint, keys);
  });
  afterAll(async () => {
    client?.destroy();
    await stack.stop();
  });

  const stalledLogs = () => app.logs.filter((l) => l.includes('stalled client cut off'));

  describe('dashboard', () => {
    it('cuts a login whose body stalls (100 bytes announced, 6 sent) with 408 after the idle timeout', async () => {
      const before = stalledLogs().length;
      const x = open(
        app.url,
        'POST /auth/login/local HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
      );
      const result = await x.outcome(5000);
      expect(result.closed).toBe(true);
      expect(result.ms).toBeGreaterThanOrEqual(900);
      expect(result.ms).toBeLessThan(3500);
      expect(result.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(result.text).toContain('"code":"request_timeout"');
      expect(stalledLogs().length).toBeGreaterThan(before);
    });

    it('cuts a small body that trickles in (one byte every 400 ms) after the small-body timeout', async () => {
      const x = open(
        app.url,
        'POST /auth/login/local HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
      );
      const trickle = setInterval(() => x.socket.writable && x.socket.write(' '), 400);
      const result = await x.outcome(6000);
      clearInterval(trickle);
      expect(result.closed).toBe(true);
      expect(result.ms).toBeGreaterThanOrEqual(2900);
      expect(result.text).toMatch(/^HTTP\/1\.1 408 /);
    });

    it('cuts a request head that never ends (408)', async () => {
      const x = open(app.url, 'GET /api/health HTTP/1.1\r\nHost: x\r\n');
      const result = await x.outcome(8000);
      expect(result.closed).toBe(true);
      expect(result.text).toMatch(/^HTTP\/1\.1 408 /);
    });
  });

  describe('S3 listener', () => {
    const presignedPut = async (key: string) =>
      new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 }));

    it('cuts a stalled upload (4 MiB announced, 64 KiB sent) after the idle timeout, with 408', async () => {
      const before = stalledLogs().length;
      const url = await presignedPut('stalled.bin');
      const x = open(
        endpoint,
        `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${4 * MiB}\r\n\r\n`,
      );
      x.socket.write(Buffer.alloc(64 * 1024, 1));
      const result = await x.outcome(5000);
      expect(result.closed).toBe(true);
      expect(result.ms).toBeLessThan(3500);
      expect(result.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(result.text).toContain('<Code>RequestTimeout</Code>');
      expect(stalledLogs().length).toBeGreaterThan(before);
    });

    it('does not cut a slow upload that keeps moving (2 MiB in 256 KiB pieces every 400 ms, 1 s idle timeout)', async () => {
      const url = await presignedPut('slow.bin');
      const x = open(
        endpoint,
        `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${2 * MiB}\r\nConnection: close\r\n\r\n`,
      );
      for (let i = 0; i < 8; i++) {
        await sleep(400);
        x.socket.write(Buffer.alloc(256 * 1024, i));
      }
      const result = await x.outcome(10_000);
      expect(result.text).toMatch(/^HTTP\/1\.1 200 /);
      expect(result.ms).toBeGreaterThan(3000);
    });
  });
});
