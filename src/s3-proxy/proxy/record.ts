import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { StowageConfig } from '@stowage/config';
import type { Exchange } from './exchange';
import type { S3Operation } from './operations';
import { ProxyAuditRecorder } from './proxy-audit.recorder';
import { ProxyMetrics } from './proxy-metrics';

/**
 * The record stage: metrics and the audit event of an exchange, once its response has closed
 * (answered, cut off, or abandoned by the client).
 */
@Injectable()
export class ProxyRecorder {
  constructor(
    private readonly config: StowageConfig,
    private readonly metrics: ProxyMetrics,
    private readonly audit: ProxyAuditRecorder,
  ) {}

  /** A request came in. */
  opened(): void {
    this.metrics.inflight++;
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
    this.recordAudit(x, status);
  }

  private recordAudit(x: Exchange, status: number): void {
    const successfulRead = x.result === 'ok' && x.access === 'read';
    if (successfulRead) {
      const rate = this.config.audit.sampling.proxy_success_read_rate;
      if (rate <= 0 || (rate < 1 && Math.random() >= rate)) return;
    }
    const action = auditAction(x.operation);
    // Refusals before any bucket is resolved (bad signatures, unknown keys) come in floods.
    const coalesceKey =
      x.result === 'denied' && x.backendId === undefined
        ? `${action}|${x.reason ?? ''}|${x.accessKey ?? ''}|${x.ip}`
        : undefined;
    if (coalesceKey !== undefined && this.audit.repeat(coalesceKey)) return;
    const agent = x.req.headers['user-agent'];
    const detail: Record<string, unknown> = { http_status: status, auth: x.authMode };
    if (x.accessKey !== undefined) detail.access_key = x.accessKey;
    if (x.reason !== undefined) detail.reason = x.reason;
    if (x.bytesIn !== undefined) detail.bytes_in = x.bytesIn;
    if (x.payload !== undefined) detail.payload = x.payload;
    const event = {
      action,
      userId: x.userId ?? null,
      backendId: x.backendId ?? null,
      bucket: x.bucket ?? null,
      key: x.key ?? null,
      requestId: x.requestId,
      ip: x.ip,
      userAgent: typeof agent === 'string' ? agent.slice(0, 512) : undefined,
      status: x.result,
      detail,
    };
    if (coalesceKey !== undefined) this.audit.recordRefusal(coalesceKey, event);
    else this.audit.record(event);
  }
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
