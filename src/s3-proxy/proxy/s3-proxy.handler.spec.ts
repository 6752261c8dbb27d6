import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { StowageConfig } from '@stowage/config';
import { SigV4Error, VerifiedRequest } from '@stowage/sigv4';
import type { BackendRegistry } from '../../storage-backends/backend-registry.service';
import type { S3AccessDirectory, VirtualCredential } from '../access/access.types';
import type { ProxyAuthenticator } from './authenticate';
import type { Authenticated, Step } from './exchange';
import type { ProxyForwarder } from './forward';
import { ProxyGate } from './gate';
import type { ProxyPostObject } from './post-object';
import type { ProxyMetrics } from './proxy-metrics';
import type { ProxyRecorder } from './record';
import type { RpsLimiter } from './rps-limiter';
import { S3ProxyHandler } from './s3-proxy.handler';

const config = {
  server: { trusted_proxies: [] },
  s3_proxy: { host_suffixes: [], per_key_rps: 0, global_rps: 0, anonymous_enabled: false, anonymous_rps: 20 },
} as unknown as StowageConfig;

const credential: VirtualCredential = {
  accessKey: 'AKSTOWAGETEST',
  secretKey: 'secret',
  userId: 'u1',
  enabled: true,
  expiresAt: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  scopes: [{ backendId: 'local', bucket: 'photos' }],
};
const signedIn: Authenticated = { verified: { mode: 'header' } as unknown as VerifiedRequest, virtual: credential };

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

function request(method: string, url: string, headers: Record<string, string> = {}) {
  const all = { host: 's3.test', authorization: 'AWS4-HMAC-SHA256 …', ...headers };
  const req = {
    method,
    url,
    headers: all,
    rawHeaders: Object.entries(all).flat(),
    socket: { remoteAddress: '127.0.0.1' },
    complete: true,
  } as unknown as IncomingMessage;
  const answer: Answer = {};
  const res = {
    headersSent: false,
    on: () => res,
    writeHead(status: number, head: Record<string, string>) {
      answer.status = status;
      answer.headers = head;
      res.headersSent = true;
    },
    end(body?: string) {
      answer.body = body;
    },
  };
  return { req, res: res as unknown as ServerResponse, answer };
}

/** The handler with a real gate; the authenticator answers as told, forwarding must not happen. */
function pipeline(authenticate: () => Step<Authenticated>) {
  const metrics = {
    scopeViolations: { inc: jest.fn() },
    anonymousRejects: { inc: jest.fn() },
  } as unknown as ProxyMetrics;
  const directory = {
    bucketCors: () => undefined,
    anonymousBinding: () => undefined,
  } as unknown as S3AccessDirectory;
  const registry = { list: () => [], entry: () => ({ spec: { id: 'local' } }) } as unknown as BackendRegistry;
  const limiter = {
    acquire: () => {
      throw new Error('no limit is set');
    },
  } as unknown as RpsLimiter;
  const gate = new ProxyGate(config, directory, registry, limiter, metrics);
  const forward = jest.fn(() => Promise.resolve(undefined));
  const handler = new S3ProxyHandler(
    config,
    { authenticate } as unknown as ProxyAuthenticator,
    gate,
    { forward } as unknown as ProxyForwarder,
    { opened: jest.fn(), closed: jest.fn(), admit: () => undefined } as unknown as ProxyRecorder,
    {} as unknown as ProxyPostObject,
    { error: jest.fn(), warn: jest.fn() } as unknown as Logger,
  );
  return { handler, gate, forward, metrics };
}

describe('S3 proxy pipeline', () => {
  it('answers a refused signature before handle() returns, as one XML error', () => {
    const { handler, forward } = pipeline(() => new SigV4Error('SignatureDoesNotMatch', 'no match'));
    const { req, res, answer } = request('GET', '/photos/a.jpg');
    handler.handle(req, res);
    expect(answer.status).toBe(403);
    expect(answer.headers?.['content-type']).toBe('application/xml');
    expect(answer.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(forward).not.toHaveBeenCalled();
  });

  it('answers ListBuckets from memory before handle() returns', () => {
    const { handler, forward } = pipeline(() => signedIn);
    const { req, res, answer } = request('GET', '/');
    handler.handle(req, res);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<Name>photos</Name>');
    expect(forward).not.toHaveBeenCalled();
  });

  it('answers a refused route (dot segment in the key) before handle() returns, without authenticating', () => {
    const authenticate = jest.fn(() => signedIn);
    const { handler } = pipeline(authenticate);
    const { req, res, answer } = request('GET', '/photos/a/../b');
    handler.handle(req, res);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<Code>InvalidArgument</Code>');
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('the gate returns a scope refusal as a value, synchronously; the handler renders it and forwards nothing', () => {
    const { handler, gate, forward, metrics } = pipeline(() => signedIn);
    const { req, res, answer } = request('GET', '/other/a.jpg');
    const decision = gate.decide(
      { req, res } as never,
      {
        target: { bucket: 'other', key: 'a.jpg', rawPath: '/other/a.jpg', rawQuery: '', virtualHosted: false },
        params: [],
        classified: { operation: 'GetObject', disposition: 'forward', access: 'read' },
        entry: 'signed',
      },
      signedIn,
    );
    expect(decision).toBeInstanceOf(Error);
    expect((decision as { code?: string }).code).toBe('AccessDenied');
    handler.handle(req, res);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('<Code>AccessDenied</Code>');
    expect(forward).not.toHaveBeenCalled();
    expect(metrics.scopeViolations.inc).toHaveBeenCalledTimes(2);
  });

  it('forwards an in-scope request with the decision the gate made', async () => {
    const { handler, forward } = pipeline(() => signedIn);
    const { req, res } = request('GET', '/photos/a.jpg');
    handler.handle(req, res);
    await new Promise((resolve) => setImmediate(resolve));
    expect(forward).toHaveBeenCalledTimes(1);
    expect(forward.mock.calls[0]).toEqual([
      expect.anything(),
      expect.objectContaining({ entry: 'signed' }),
      expect.objectContaining({ kind: 'forward', verified: signedIn.verified, copySource: undefined }),
    ]);
  });
});
