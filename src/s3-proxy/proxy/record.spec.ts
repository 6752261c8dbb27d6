import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StowageConfig } from '@stowage/config';
import type { AuditIntent, AuditRecord } from '../../audit/audit.types';
import type { RequestStatsService } from '../../metrics/request-stats.service';
import { Exchange, newExchange } from './exchange';
import type { ProxyAuditRecorder } from './proxy-audit.recorder';
import { S3ProxyError } from './proxy-error';
import type { ProxyMetrics } from './proxy-metrics';
import { ProxyRecorder } from './record';

const config = { audit: { sampling: { proxy_success_read_rate: 1 } } } as unknown as StowageConfig;
const metrics = {
  inflight: 0,
  finished: () => undefined,
  transferred: () => undefined,
  anonymousRequests: { inc: () => undefined },
} as unknown as ProxyMetrics;
const stats = { count: () => undefined } as unknown as RequestStatsService;

/** An intent whose row the test stores (with an id) or fails (undefined) when it chooses. */
function deferredIntent() {
  let settle!: (id: string | undefined) => void;
  const intent: AuditIntent = new Promise((resolve) => (settle = resolve));
  return { intent, settle };
}

/** The audit side, recording every call; each test decides how intents settle. */
function auditStub(intent: AuditIntent) {
  const calls = {
    intended: [] as AuditRecord[],
    concluded: [] as AuditRecord[],
    committed: [] as AuditRecord[],
    recorded: [] as AuditRecord[],
  };
  const audit = {
    available: true,
    intend: (event: AuditRecord) => {
      calls.intended.push(event);
      return intent;
    },
    committed: async (i: AuditIntent) => (await i) !== undefined,
    conclude: (_i: AuditIntent, event: AuditRecord) => calls.concluded.push(event),
    commit: (event: AuditRecord) => {
      calls.committed.push(event);
      return Promise.resolve();
    },
    record: (event: AuditRecord) => calls.recorded.push(event),
    repeat: () => false,
    recordRefusal: (_key: string, event: AuditRecord) => calls.recorded.push(event),
  } as unknown as ProxyAuditRecorder;
  return { audit, calls };
}

function exchange(state: { destroyed?: boolean; finished?: boolean; status?: number } = {}): Exchange {
  const req = {
    method: 'PUT',
    headers: { 'user-agent': 'agent/1' },
    url: '/photos/a.jpg',
  } as unknown as IncomingMessage;
  const res = {
    destroyed: state.destroyed ?? false,
    writableFinished: state.finished ?? true,
    statusCode: state.status ?? 200,
  } as unknown as ServerResponse;
  const x = newExchange(req, res, 'REQ1', 0, '192.0.2.1', false);
  Object.assign(x, {
    operation: 'PutObject',
    access: 'write',
    authMode: 'sigv4',
    userId: 'u1',
    backendId: 'local',
    bucket: 'photos',
    key: 'a.jpg',
    bytesIn: 5,
    payload: 'signed',
  });
  return x;
}

describe('ProxyRecorder: a write has one row, intended before it goes upstream', () => {
  it('INSERTs the pending row with what is known before the upstream answers, and its outcome at close', async () => {
    const { intent, settle } = deferredIntent();
    const { audit, calls } = auditStub(intent);
    const recorder = new ProxyRecorder(config, metrics, audit, stats);
    const x = exchange();
    recorder.intended(x);
    expect(calls.intended).toEqual([
      {
        action: 's3.proxy.putobject',
        userId: 'u1',
        backendId: 'local',
        bucket: 'photos',
        key: 'a.jpg',
        requestId: 'REQ1',
        ip: '192.0.2.1',
        userAgent: 'agent/1',
        status: 'pending',
        detail: { auth: 'sigv4', bytes_in: 5, payload: 'signed' },
      },
    ]);
    let answered: unknown = 'not yet';
    const held = recorder.committed(x, 200)!.then((r) => (answered = r));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe('not yet'); // the success waits for the row
    settle('41');
    await held;
    expect(answered).toBeUndefined();
    recorder.closed(x);
    expect(calls.concluded).toEqual([
      expect.objectContaining({
        status: 'ok',
        detail: { http_status: 200, auth: 'sigv4', bytes_in: 5, payload: 'signed' },
      }),
    ]);
    expect([calls.committed, calls.recorded]).toEqual([[], []]);
  });

  it('refuses the success (503 store_unavailable) when the intent could not be stored', async () => {
    const { audit, calls } = auditStub(Promise.resolve(undefined));
    const recorder = new ProxyRecorder(config, metrics, audit, stats);
    const x = exchange();
    recorder.intended(x);
    const refusal = await recorder.committed(x, 200);
    expect(refusal).toBeInstanceOf(S3ProxyError);
    expect((refusal as S3ProxyError).reason).toBe('store_unavailable');
    recorder.closed(x);
    // The outcome goes to the intent (which falls back to a best-effort row), never a second row.
    expect(calls.concluded).toHaveLength(1);
    expect(calls.recorded).toEqual([]);
  });

  it('does not hold a refused write, and records its failure over the same row', async () => {
    const { audit, calls } = auditStub(Promise.resolve('7'));
    const recorder = new ProxyRecorder(config, metrics, audit, stats);
    const x = exchange({ status: 404 });
    recorder.intended(x);
    expect(recorder.committed(x, 404)).toBeUndefined();
    x.result = 'error';
    recorder.closed(x);
    expect(calls.concluded).toEqual([
      expect.objectContaining({ status: 'error', detail: expect.objectContaining({ http_status: 404 }) }),
    ]);
    expect(calls.recorded).toEqual([]);
  });

  it('records a client that went away mid-answer as aborted, over its row', () => {
    const { audit, calls } = auditStub(Promise.resolve('8'));
    const recorder = new ProxyRecorder(config, metrics, audit, stats);
    const x = exchange({ finished: false });
    recorder.intended(x);
    recorder.closed(x);
    expect(calls.concluded).toEqual([expect.objectContaining({ status: 'aborted' })]);
  });

  it('starts no intent for a client already gone, nor for a read: their row is written at close', () => {
    const { audit, calls } = auditStub(Promise.resolve('9'));
    const recorder = new ProxyRecorder(config, metrics, audit, stats);
    const gone = exchange({ destroyed: true, finished: false });
    recorder.intended(gone);
    const read = exchange();
    read.access = 'read';
    read.operation = 'GetObject';
    recorder.intended(read);
    expect(calls.intended).toEqual([]);
    expect(recorder.committed(read, 200)).toBeUndefined();
    recorder.closed(gone);
    recorder.closed(read);
    expect(calls.recorded.map((e) => [e.action, e.status])).toEqual([
      ['s3.proxy.putobject', 'aborted'],
      ['s3.proxy.getobject', 'ok'],
    ]);
    expect(calls.concluded).toEqual([]);
  });

  it('commits a row of its own for a write that went out without an intent', async () => {
    const { audit, calls } = auditStub(Promise.resolve('10'));
    const recorder = new ProxyRecorder(config, metrics, audit, stats);
    const x = exchange();
    await expect(recorder.committed(x, 200)).resolves.toBeUndefined();
    recorder.closed(x);
    expect(calls.committed).toEqual([expect.objectContaining({ status: 'ok' })]);
    expect([calls.concluded, calls.recorded]).toEqual([[], []]);
  });
});
