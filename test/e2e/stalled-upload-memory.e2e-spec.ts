import { connect, Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TestApp, TestStack } from '../harness/app';
import { bootWithProxy, createBucket, mintCredential, VirtualKeys } from '../harness/s3-proxy';
import { buildSignedChunkedPut } from '../harness/s3-proxy-matrix';
import { MiB } from '../harness/streams';

const BUCKET = 'stalled-memory';
const UPLOADS = 8;
const SENT = Math.floor(5.5 * MiB);

/** Opens a signed aws-chunked PUT of 8 MiB in `chunk`-sized chunks, sends the head and 5.5 MiB of the body, then stalls. */
function stalledSignedChunkedPut(endpoint: string, keys: VirtualKeys, key: string, chunk: number): Socket {
  const data = Buffer.alloc(8 * MiB, 3);
  const { url, headers, body } = buildSignedChunkedPut(endpoint, keys, BUCKET, key, data, { chunkSize: chunk });
  const head =
    `PUT ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => undefined);
  socket.resume();
  socket.write(head);
  // A copy, so the whole encoded body is garbage at once and only what the client still holds counts.
  socket.write(Buffer.from(body.subarray(0, SENT)));
  return socket;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** External memory (Buffers) after a full collection, in MiB. */
function buffersMiB(): number {
  gc();
  return process.memoryUsage().arrayBuffers / MiB;
}

describe('memory pinned by stalled signed aws-chunked uploads', () => {
  let stack: TestStack;
  let app: TestApp;
  let endpoint: string;
  let keys: VirtualKeys;

  beforeAll(async () => {
    stack = await TestStack.start();
    const fx = await bootWithProxy(stack, { config: { s3_proxy: { idle_timeout: '3s' } } });
    app = fx.app;
    endpoint = fx.endpoint;
    await createBucket(fx.admin, 'local', BUCKET);
    keys = await mintCredential(fx.user, [{ backend_id: 'local', bucket: BUCKET }]);
  });
  afterAll(() => stack.stop());

  /** Starts 8 stalled uploads; answers what they pin while stalled and once the listener has cut them. */
  async function measure(chunk: number) {
    const baseline = buffersMiB();
    const sockets = Array.from({ length: UPLOADS }, (_, i) =>
      stalledSignedChunkedPut(endpoint, keys, `k${chunk}-${i}`, chunk),
    );
    const closed = sockets.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
    // Wait until the client side holds nothing: each socket flushed what it sent, or was closed.
    // What is pinned after that is the server's (on a loaded machine this can take a while).
    for (let i = 0; i < 100 && !sockets.every((s) => s.destroyed || s.writableLength === 0); i++) await settle(100);
    await settle(500);
    const stalled = buffersMiB() - baseline;
    await Promise.race([Promise.all(closed), settle(8000)]);
    // The cut connections' buffers go as soon as their streams are torn down.
    let released = buffersMiB() - baseline;
    for (let i = 0; i < 20 && released >= 2; i++) {
      await settle(250);
      released = buffersMiB() - baseline;
    }
    console.log(
      `8 stalled uploads, ${chunk / MiB} MiB chunks: +${stalled.toFixed(1)} MiB pinned, +${released.toFixed(1)} MiB after`,
    );
    return { stalled, released, closed: sockets.every((s) => s.destroyed) };
  }

  it('refuses a signed chunk over 1 MiB at its header, so 8 uploads stalled mid-chunk (8 MiB chunks) pin next to nothing', async () => {
    const result = await measure(8 * MiB);
    expect(result.closed).toBe(true);
    // Before chunks were bounded this was 80+ MiB; what is left is at most a read buffer or two.
    expect(result.stalled).toBeLessThan(12);
    expect(result.released).toBeLessThan(2);
  });

  it('8 uploads stalled in 1 MiB signed chunks pin about a chunk each, and only until the idle timeout cuts them', async () => {
    const before = app.logs.filter((l) => l.includes('stalled client cut off')).length;
    const result = await measure(MiB);
    expect(result.closed).toBe(true);
    expect(app.logs.filter((l) => l.includes('stalled client cut off')).length - before).toBeGreaterThanOrEqual(
      UPLOADS,
    );
    expect(result.stalled).toBeLessThan(UPLOADS * 2);
    expect(result.released).toBeLessThan(2);
  });
});
