import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { StowageConfig } from '@stowage/config';
import { OUTAGE_RETRY_AFTER_SECONDS } from '@stowage/errors';
import type { AuditRecord } from '../../audit/audit.types';
import { RequestStatsService } from '../../metrics/request-stats.service';
import type { Exchange, Refusal } from './exchange';
import type { S3Operation } from './operations';
import { ProxyAuditRecorder } from './proxy-audit.recorder';
import { S3ProxyError } from './proxy-error';
import { ProxyMetrics } from './proxy-metrics';

/**
 * The record stage: metrics and the audit event of an exchange. A write's row is INSERTed as
 * `pending` as the write goes upstream (`intended`), so that its commit runs while the upstream
 * works; the success is held until the row is committed (`committed`, called by the forward
 * stage once the upstream has answered), and the outcome is written over the row when the
 * response closes. Every other row is written once the response has closed (answered, cut off,
 * or abandoned by the client), without holding the answer. One row per exchange either way.
 */
@Injectable()
export class ProxyRecorder {
  constructor(
    private readonly config: StowageConfig,
    private readonly metrics: ProxyMetrics,
    private readonly audit: ProxyAuditRecorder,
    private readonly stats: RequestStatsService,
  ) {}

  /** A request came in. */
  opened(): void {
    this.metrics.inflight++;
  }

  /**
   * Before a write goes upstream: refused with 503 while the audit log is known to be away, so
   * the change is not made at all rather than made and then not confirmed.
   */
  admit(x: Exchange): Refusal | undefined {
    if (x.access === 'read' || this.audit.available) return undefined;
    return storeUnavailable();
  }

  /**
   * A write is about to go upstream: the durable INSERT of its row starts now, as `pending`.
   * Not for reads, nor once the client has gone (its row is then written at close, as any other).
   */
  intended(x: Exchange): void {
    if (x.access === 'read' || x.res.destroyed) return;
    x.intent = this.audit.intend(this.event(x));
  }

  /**
   * A write the upstream accepted: its audit row is committed before the success goes out (its
   * intent's, usually committed by now; else one written now). Resolves to the refusal to answer
   * instead (503) when the row cannot be stored; undefined (nothing to wait for) for reads and
   * refused writes.
   */
  committed(x: Exchange, status: number): Promise<Refusal | undefined> | undefined {
    if (x.access === 'read' || status >= 300) return undefined;
    if (x.intent) return this.audit.committed(x.intent).then((stored) => (stored ? undefined : storeUnavailable()));
    return this.audit.commit(this.event(x, status)).then(
      () => {
        x.audited = true;
        return undefined;
      },
      () => storeUnavailable(),
    );
  }

  /** Its response closed. */
  closed(x: Exchange): void {
    const { req, res } = x;
    this.metrics.inflight--;
    if (!res.writableFinished && x.result === 'ok') x.result = 'aborted';
    const status = res.statusCode;
    const operation = x.operation;
    this.metrics.finished(
      req.method ?? '',
      operation,
      status,
      x.result,
      x.authMode,
      (performance.now() - x.started) / 1000,
    );
    this.metrics.transferred(operation, x.bytesIn ?? 0, x.result === 'ok' ? (x.bytesOut ?? 0) : 0);
    if (x.authMode === 'anonymous' && x.backendId !== undefined) {
      this.metrics.anonymousRequests.inc({ operation, status: String(status) });
    }
    this.stats.count(status, x.backendId, status >= 500 ? { method: req.method ?? '', path: pathOf(x) } : undefined);
    if (x.intent) this.audit.conclude(x.intent, this.event(x, status));
    else if (!x.audited) this.recordAudit(x, status);
  }

  private recordAudit(x: Exchange, status: number): void {
    const successfulRead = x.result === 'ok' && x.access === 'read';
    if (successfulRead) {
      const rate = this.config.audit.sampling.proxy_success_read_rate;
      if (rate <= 0 || (rate < 1 && Math.random() >= rate)) return;
    }
    // Refusals before any bucket is resolved (bad signatures, unknown keys) come in floods.
    const coalesceKey =
      x.result === 'denied' && x.backendId === undefined
        ? `${x.operation}|${x.reason ?? ''}|${x.accessKey ?? ''}|${x.ip}`
        : undefined;
    if (coalesceKey !== undefined && this.audit.repeat(coalesceKey)) return;
    const event = this.event(x, status);
    if (coalesceKey !== undefined) this.audit.recordRefusal(coalesceKey, event);
    else this.audit.record(event);
  }

  /** The exchange's audit event; without `status` (not answered yet), a `pending` one. */
  private event(x: Exchange, status?: number): AuditRecord {
    const agent = x.req.headers['user-agent'];
    const detail: Record<string, unknown> =
      status === undefined ? { auth: x.authMode } : { http_status: status, auth: x.authMode };
    if (x.accessKey !== undefined) detail.access_key = x.accessKey;
    if (x.reason !== undefined) detail.reason = x.reason;
    if (x.bytesIn !== undefined) detail.bytes_in = x.bytesIn;
    if (x.payload !== undefined) detail.payload = x.payload;
    return {
      action: auditAction(x.operation),
      userId: x.userId ?? null,
      backendId: x.backendId ?? null,
      bucket: x.bucket ?? null,
      key: x.key ?? null,
      requestId: x.requestId,
      ip: x.ip,
      userAgent: typeof agent === 'string' ? agent.slice(0, 512) : undefined,
      status: status === undefined ? 'pending' : x.result,
      detail,
    };
  }
}

function storeUnavailable(): S3ProxyError {
  return new S3ProxyError(
    'ServiceUnavailable',
    'The audit log cannot be written; the change was not confirmed. Please try again.',
    'store_unavailable',
    { retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS },
  );
}

/** The request's path without its query, for the dashboard's list of recent errors. */
function pathOf(x: Exchange): string {
  const url = x.req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

const auditActions = new Map<S3Operation, string>();

/** `s3.proxy.<operation>`, built once per operation. */
function auditAction(operation: S3Operation): string {
  let action = auditActions.get(operation);
  if (action === undefined) {
    action = `s3.proxy.${operation.toLowerCase()}`;
    auditActions.set(operation, action);
  }
  return action;
}
