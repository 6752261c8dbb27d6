import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { StowageError } from '@stowage/errors';
import { lookup } from 'node:dns';
import type { EndpointPolicy } from '../../endpoint-policy.service';
import { UpstreamClient } from '../../upstream/upstream-client';
import { S3Driver } from './s3.driver';
import { sizedBody } from './sized-body';

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('sizedBody', () => {
  it('passes a body of exactly the declared size through untouched', async () => {
    const sized = sizedBody(Readable.from([Buffer.from('hello '), Buffer.from('world')]), 11);
    expect((await drain(sized.body)).toString()).toBe('hello world');
    expect(sized.signal.aborted).toBe(false);
    expect(sized.failure()).toBeUndefined();
  });

  it('aborts, and never ends the body, when the source ends short of its declared size', async () => {
    const sized = sizedBody(Readable.from([Buffer.from('short')]), 100);
    await expect(drain(sized.body)).rejects.toBeInstanceOf(StowageError);
    expect(sized.signal.aborted).toBe(true);
    expect(sized.failure()).toMatchObject({ code: 'backend_error', status: 502 });
    expect(sized.failure()!.detail).toContain('5 of its declared 100 bytes');
  });

  it('aborts when the source carries more than declared', async () => {
    const sized = sizedBody(Readable.from([Buffer.from('too long')]), 3);
    await expect(drain(sized.body)).rejects.toBeInstanceOf(StowageError);
    expect(sized.signal.aborted).toBe(true);
  });

  it('aborts the moment the source errors or is destroyed (a client that hung up)', async () => {
    for (const end of [(s: PassThrough) => s.destroy(new Error('aborted')), (s: PassThrough) => s.destroy()]) {
      const source = new PassThrough();
      const sized = sizedBody(source, 1000);
      sized.body.resume();
      source.write(Buffer.alloc(10));
      end(source);
      await new Promise((r) => setImmediate(r));
      expect(sized.signal.aborted).toBe(true);
      expect(sized.failure()!.detail).toMatch(/after 10 of 1000 bytes/);
    }
  });
});

it('sizedBody aborts at once for a source that was already destroyed', () => {
  const source = new PassThrough();
  source.destroy();
  const sized = sizedBody(source, 10);
  expect(sized.signal.aborted).toBe(true);
  expect(sized.failure()!.detail).toMatch(/cut off after 0 of 10 bytes/);
});

describe('S3Driver uploads whose body fails', () => {
  let server: Server;
  let port: number;
  let received: Array<{ url: string; complete: boolean; bytes: number }>;

  beforeAll(async () => {
    received = [];
    server = createServer((req, res) => {
      const entry = { url: req.url ?? '', complete: false, bytes: 0 };
      received.push(entry);
      req.on('data', (c: Buffer) => (entry.bytes += c.length));
      req.on('end', () => {
        entry.complete = true;
        res.setHeader('ETag', '"e"');
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  const upstream = new UpstreamClient({ lookup } as unknown as EndpointPolicy);
  afterAll(async () => {
    await upstream.onApplicationShutdown();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const driver = () =>
    new S3Driver(
      {
        id: 'b',
        name: 'b',
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        accessKey: 'A',
        secretKey: 'S',
        pathStyle: true,
        kind: 'aws',
        checksums: 'when_required',
      },
      upstream,
    );

  it.each([
    ['putObject', (d: S3Driver, body: Readable) => d.putObject({ bucket: 'b', key: 'k', body, size: 1000 })],
    ['uploadPart', (d: S3Driver, body: Readable) => d.uploadPart('b', 'k', 'u1', 1, body, 1000)],
  ])('%s: a source destroyed mid-body aborts the upstream request at once, which never completes', async (_n, send) => {
    const before = received.length;
    const source = new PassThrough();
    const started = Date.now();
    const pending = send(driver(), source);
    source.write(Buffer.alloc(100));
    await new Promise((r) => setTimeout(r, 100));
    source.destroy();
    const err = (await pending.catch((e: unknown) => e)) as StowageError;
    expect(err).toBeInstanceOf(StowageError);
    expect(err.code).toBe('backend_error');
    expect(Date.now() - started).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 100));
    expect(received.slice(before).every((r) => !r.complete)).toBe(true);
  });

  it('a source that ends early is never sent as a complete request', async () => {
    const before = received.length;
    const err = (await driver()
      .putObject({ bucket: 'b', key: 'k', body: Readable.from([Buffer.alloc(10)]), size: 1000 })
      .catch((e: unknown) => e)) as StowageError;
    expect(err.code).toBe('backend_error');
    await new Promise((r) => setTimeout(r, 100));
    expect(received.slice(before).every((r) => !r.complete)).toBe(true);
  });
});
