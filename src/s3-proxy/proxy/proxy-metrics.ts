import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service';
import { CounterTally, HistogramTally } from '../../metrics/tallies';

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The S3 proxy's metrics (`stowage_s3_*`), registered on the app's registry. */
@Injectable()
export class ProxyMetrics {
  // Counted on every request: tallies, read out when scraped.
  private readonly requests: CounterTally<'method' | 'operation' | 'status' | 'result' | 'auth_mode'>;
  private readonly duration: HistogramTally<'operation'>;
  private readonly upstreamDuration: HistogramTally<'operation'>;
  private readonly bytesIn: CounterTally<'operation'>;
  private readonly bytesOut: CounterTally<'operation'>;
  private readonly authFailures: CounterTally<'reason'>;
  readonly scopeViolations: Counter;
  readonly anonymousRequests: Counter<'operation' | 'status'>;
  readonly anonymousRejects: Counter<'reason'>;
  /** Requests in flight; read by the gauge when scraped, not updated per request. */
  inflight = 0;

  constructor(metrics: MetricsService) {
    const registry = metrics.registry;
    const registers = [registry];
    this.requests = new CounterTally({
      name: 'stowage_s3_request_total',
      help: 'S3 proxy requests, by method, operation, status, result and auth mode.',
      labelNames: ['method', 'operation', 'status', 'result', 'auth_mode'] as const,
      registry,
    });
    this.duration = new HistogramTally(
      'stowage_s3_request_duration_seconds',
      'S3 proxy request time, end to end.',
      DURATION_BUCKETS,
      registry,
    );
    this.upstreamDuration = new HistogramTally(
      'stowage_s3_upstream_duration_seconds',
      'Time until the upstream answered with its status and headers.',
      DURATION_BUCKETS,
      registry,
    );
    this.bytesIn = new CounterTally({
      name: 'stowage_s3_bytes_in_total',
      help: 'Body bytes received from S3 clients (decoded).',
      labelNames: ['operation'] as const,
      registry,
    });
    this.bytesOut = new CounterTally({
      name: 'stowage_s3_bytes_out_total',
      help: 'Body bytes sent to S3 clients.',
      labelNames: ['operation'] as const,
      registry,
    });
    this.authFailures = new CounterTally({
      name: 'stowage_s3_auth_failure_total',
      help: 'S3 proxy requests refused by signature verification, by reason.',
      labelNames: ['reason'] as const,
      registry,
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

  /** Counts a finished request and its duration. */
  finished(method: string, operation: string, status: number, result: string, authMode: string, seconds: number): void {
    this.requests.add(`${method} ${operation} ${status} ${result} ${authMode}`, () => ({
      method,
      operation,
      status: String(status),
      result,
      auth_mode: authMode,
    }));
    this.duration.observe(operation, () => ({ operation }), seconds);
  }

  /** How long the upstream took to answer with its status and headers. */
  upstreamAnswered(operation: string, seconds: number): void {
    this.upstreamDuration.observe(operation, () => ({ operation }), seconds);
  }

  transferred(operation: string, bytesIn: number, bytesOut: number): void {
    if (bytesIn > 0) this.bytesIn.add(operation, () => ({ operation }), bytesIn);
    if (bytesOut > 0) this.bytesOut.add(operation, () => ({ operation }), bytesOut);
  }

  authFailure(reason: string): void {
    this.authFailures.add(reason, () => ({ reason }));
  }
}
