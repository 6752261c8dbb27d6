import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service';

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The S3 proxy's metrics (`stowage_s3_*`), registered on the app's registry. */
@Injectable()
export class ProxyMetrics {
  readonly requests: Counter<'method' | 'operation' | 'status' | 'result' | 'auth_mode'>;
  readonly duration: Histogram<'operation'>;
  readonly upstreamDuration: Histogram<'operation'>;
  readonly bytesIn: Counter<'operation'>;
  readonly bytesOut: Counter<'operation'>;
  readonly authFailures: Counter<'reason'>;
  readonly scopeViolations: Counter;
  readonly anonymousRequests: Counter<'operation' | 'status'>;
  readonly anonymousRejects: Counter<'reason'>;
  /** Requests in flight; read by the gauge when scraped, not updated per request. */
  inflight = 0;
  private readonly authFailureChildren = new Map<string, Counter.Internal>();
  private readonly requestChildren = new Map<string, Counter.Internal>();
  private readonly durationChildren = new Map<string, Histogram.Internal<'operation'>>();

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'stowage_s3_request_total',
      help: 'S3 proxy requests, by method, operation, status, result and auth mode.',
      labelNames: ['method', 'operation', 'status', 'result', 'auth_mode'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'stowage_s3_request_duration_seconds',
      help: 'S3 proxy request time, end to end.',
      labelNames: ['operation'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'stowage_s3_upstream_duration_seconds',
      help: 'Time until the upstream answered with its status and headers.',
      labelNames: ['operation'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.bytesIn = new Counter({
      name: 'stowage_s3_bytes_in_total',
      help: 'Body bytes received from S3 clients (decoded).',
      labelNames: ['operation'] as const,
      registers,
    });
    this.bytesOut = new Counter({
      name: 'stowage_s3_bytes_out_total',
      help: 'Body bytes sent to S3 clients.',
      labelNames: ['operation'] as const,
      registers,
    });
    this.authFailures = new Counter({
      name: 'stowage_s3_auth_failure_total',
      help: 'S3 proxy requests refused by signature verification, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    this.scopeViolations = new Counter({
      name: 'stowage_s3_scope_violation_total',
      help: 'Authenticated S3 proxy requests refused because the bucket is outside the credential scope.',
      registers,
    });
    this.anonymousRequests = new Counter({
      name: 'stowage_s3_anonymous_request_total',
      help: 'Anonymous S3 proxy requests served through a binding.',
      labelNames: ['operation', 'status'] as const,
      registers,
    });
    this.anonymousRejects = new Counter({
      name: 'stowage_s3_anonymous_reject_total',
      help: 'Anonymous S3 proxy requests refused, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    const inflight = () => this.inflight;
    new Gauge({
      name: 'stowage_s3_inflight_requests',
      help: 'S3 proxy requests in flight.',
      registers,
      collect() {
        this.set(inflight());
      },
    });
  }

  /** Counts a finished request and its duration; label children are cached (the hot path). */
  finished(method: string, operation: string, status: number, result: string, authMode: string, seconds: number): void {
    const key = `${method} ${operation} ${status} ${result} ${authMode}`;
    let counter = this.requestChildren.get(key);
    if (!counter) {
      counter = this.requests.labels({ method, operation, status: String(status), result, auth_mode: authMode });
      if (this.requestChildren.size < 10_000) this.requestChildren.set(key, counter);
    }
    counter.inc();
    let histogram = this.durationChildren.get(operation);
    if (!histogram) {
      histogram = this.duration.labels({ operation });
      this.durationChildren.set(operation, histogram);
    }
    histogram.observe(seconds);
  }

  authFailure(reason: string): void {
    let child = this.authFailureChildren.get(reason);
    if (!child) {
      child = this.authFailures.labels({ reason });
      this.authFailureChildren.set(reason, child);
    }
    child.inc();
  }
}
