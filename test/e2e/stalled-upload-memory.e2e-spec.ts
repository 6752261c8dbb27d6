import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TestApp, TestStack } from '../harness/app';
import { bootWithProxy, createBucket, mintCredential, VirtualKeys } from '../harness/s3-proxy';
import { buildSignedChunkedPut } from '../harness/s3-proxy-matrix';
import { MiB } from '../harness/streams';

const BUCKET = 'stalled-memory';
const UPLOADS = 8;
const SENT = Math.floor(5.5 * MiB);

/** The request head and the first 5.5 MiB of a signed aws-chunked PUT of 8 MiB in `chunk`-sized chunks. */
function stalledUploadBytes(endpoint: string, keys: VirtualKeys, key: string, chunk: number): Buffer {
  const data = Buffer.alloc(8 * MiB, 3);
  const { url, headers, body } = buildSignedChunkedPut(endpoint, keys, BUCKET, key, data, { chunkSize: chunk });
  const head =
    `PUT ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  return Buffer.concat([Buffer.from(head), body.subarray(0, SENT)]);
}

// The clients run in a process of their own, so the memory measured here is the server's alone.
const CLIENT = `
const { connect } = require('node:net');
const { readFileSync } = require('node:fs');
const [port, ...files] = process.argv.slice(1);
files.forEach((file, i) => {
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('close', () => process.stdout.write('closed ' + i + '\\n'));
  socket.resume();
  socket.write(readFileSync(file), () => process.stdout.write('sent ' + i + '\\n'));
});
process.stdin.on('end', () => process.exit(0)).resume();
`;

/** Starts the stalled uploads in a child process; resolves once each was sent or closed. */
/** Writes each request to a file of a new directory (so no buffer of it stays in this process). */
function writeRequests(endpoint: string, keys: VirtualKeys, chunk: number): { dir: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'stalled-'));
  const files = Array.from({ length: UPLOADS }, (_, i) => {
    const file = join(dir, `${i}`);
    writeFileSync(file, stalledUploadBytes(endpoint, keys, `k${chunk}-${i}`, chunk));
    return file;
  });
  return { dir, files };
}

async function stallUploads(port: number, { dir, files }: { dir: string; files: string[] }) {
  const child = spawn(process.execPath, ['-e', CLIENT, String(port), ...files], { stdio: ['pipe', 'pipe', 'inherit'] });
  const sent = new Set<number>();
  const closed = new Set<number>();
  let output = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    const lines = output.split('\n');
    output = lines.pop()!;
    for (const line of lines) {
      const [what, i] = line.split(' ');
      (what === 'sent' ? sent : closed).add(Number(i));
    }
    waiters.splice(0).forEach((w) => w());
  });
  const until = async (done: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  await until(() => files.every((_, i) => sent.has(i) || closed.has(i)), 10_000);
  return {
    allClosed: (ms: number) => until(() => closed.size === files.length, ms).then(() => closed.size === files.length),
    stop: () => {
      child.stdin.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * External memory (Buffers) after full collections, in MiB. V8 frees the memory of collected
 * buffers on a background thread, so read until two readings agree.
 */
async function buffersMiB(): Promise<number> {
  let last = Number.NaN;
  for (let i = 0; i < 20; i++) {
    gc();
    await settle(50);
    const now = process.memoryUsage().arrayBuffers / MiB;
    if (Math.abs(now - last) < 0.25) return now;
    last = now;
  }
  return last;
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
    const requests = writeRequests(endpoint, keys, chunk);
    const baseline = await buffersMiB();
    const clients = await stallUploads(Number(new URL(endpoint).port), requests);
    try {
      await settle(500);
      const stalled = (await buffersMiB()) - baseline;
      const closed = await clients.allClosed(8000);
      // The cut connections' buffers go as soon as their streams are torn down.
      let released = (await buffersMiB()) - baseline;
      for (let i = 0; i < 20 && released >= 2; i++) {
        await settle(250);
        released = (await buffersMiB()) - baseline;
      }
      console.log(
        `8 stalled uploads, ${chunk / MiB} MiB chunks: +${stalled.toFixed(1)} MiB pinned, +${released.toFixed(1)} MiB after`,
      );
      return { stalled, released, closed };
    } finally {
      clients.stop();
    }
  }

  it('refuses a signed chunk over 1 MiB at its header, so 8 uploads stalled mid-chunk (8 MiB chunks) pin next to nothing', async () => {
    const result = await measure(8 * MiB);
    expect(result.closed).toBe(true);
    // Before chunks were bounded this was 80+ MiB; what is left is at most a read buffer or two.
    expect(result.stalled).toBeLessThan(8);
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
