import { lookup } from 'node:dns';
import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BackendKind } from '@stowage/config';
import { S3Driver, S3DriverConfig } from '../../src/storage-backends/drivers';
import type { EndpointPolicy } from '../../src/storage-backends/endpoint-policy.service';
import { UpstreamClient } from '../../src/storage-backends/upstream/upstream-client';

/**
 * A local HTTP upstream for unit tests of the S3 driver's wire format: it answers with a test's
 * handler and records every request, so a test can check what the driver sent and how it reads
 * answers no real S3 server gives on demand (hostile documents, 200 with <Error>, silence).
 * Behaviour against real S3 servers is the driver contract's (test/harness/s3-driver-contract.ts).
 */

export const LOCAL_SECRET = 'super-secret-key-value';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A driver on `endpoint` with its own signed upstream client (idle timeout 1 s). */
export function localDriver(endpoint: string, kind: BackendKind = 'ceph', extra: Partial<S3DriverConfig> = {}) {
  const client = new UpstreamClient({ lookup } as unknown as EndpointPolicy);
  const driver = new S3Driver(
    {
      id: 'b1',
      name: 'Backend one',
      endpoint,
      region: 'us-east-1',
      accessKey: 'AKIDEXAMPLE',
      secretKey: LOCAL_SECRET,
      pathStyle: true,
      kind,
      checksums: 'when_required',
      requestTimeoutMs: 1_000,
      ...extra,
    },
    client,
  );
  const close = async () => {
    driver.close();
    await client.onApplicationShutdown();
  };
  return { client, driver, close };
}

export interface LocalUpstream {
  driver: S3Driver;
  /** Every request received, in order. */
  seen: IncomingMessage[];
  /** The body of each request in `seen`, once it has arrived. */
  bodies: Promise<string>[];
  close(): Promise<void>;
}

/** A local upstream answering with `handler`, and a driver of `kind` in front of it. */
export async function localUpstream(
  handler: Handler,
  kind: BackendKind = 'ceph',
  extra: Partial<S3DriverConfig> = {},
): Promise<LocalUpstream> {
  const seen: IncomingMessage[] = [];
  const bodies: Promise<string>[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req);
    const chunks: Buffer[] = [];
    bodies.push(
      new Promise((resolve) => {
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      }),
    );
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const local = localDriver(`http://127.0.0.1:${port}`, kind, extra);
  const close = async () => {
    await local.close();
    server.closeAllConnections();
    server.close();
  };
  return { driver: local.driver, seen, bodies, close };
}

/** An S3 error document. */
export const errorXml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

/** Answers `status` with an XML body once the request's own body has arrived. */
export function answerXml(res: ServerResponse, req: IncomingMessage, status: number, xml: string, headers = {}): void {
  req.resume();
  const send = () => {
    res.writeHead(status, { 'content-type': 'application/xml', ...headers });
    res.end(xml);
  };
  if (req.complete) send();
  else req.on('end', send);
}

/**
 * A `start(handler, kind?)` for the tests of one `describe`: each local upstream it starts is
 * closed after the test that started it (call at the top of the `describe`).
 */
export function localUpstreamsPerTest(): (handler: Handler, kind?: BackendKind) => Promise<LocalUpstream> {
  const open: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((close) => close()));
  });
  return async (handler, kind) => {
    const up = await localUpstream(handler, kind);
    open.push(up.close);
    return up;
  };
}
