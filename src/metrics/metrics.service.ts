import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** HTTP methods kept as label values; anything else is counted as `OTHER`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const KIB = 1024;

/** `2xx` for 204, and so on. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** The method as a bounded label value. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'OTHER';
}

/**
 * The Prometheus registry of this app instance, with the dashboard's HTTP metrics and the
 * standard `process_*` / `nodejs_*` collectors. Feature modules register their own metrics
 * here (`metrics.registry`); names start with `stowage_`. Every label is bounded: methods and
 * status classes are fixed sets, `backend` is a configured backend id (or empty), `route` a
 * route template, never a raw path.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly registers = [this.registry];

  readonly requests = new Counter({
    name: 'stowage_requests_total',
    help: 'Dashboard API requests handled, by method, status class and backend.',
    labelNames: ['method', 'status_class', 'backend'] as const,
    registers: this.registers,
  });

  readonly requestDuration = new Histogram({
    name: 'stowage_request_duration_seconds',
    help: 'Dashboard API request time, end to end, by method and backend.',
    labelNames: ['method', 'backend'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: this.registers,
  });

  readonly responseBytes = new Histogram({
    name: 'stowage_response_bytes',
    help: 'Bytes of each dashboard API response, by method and backend.',
    labelNames: ['method', 'backend'] as const,
    buckets: [
      KIB,
      16 * KIB,
      256 * KIB,
      KIB ** 3 / 256,
      (16 * KIB ** 3) / 256,
      KIB ** 3 / 4,
      KIB ** 3,
      16 * KIB ** 3,
    ].map(Math.round),
    registers: this.registers,
  });

  readonly httpRequestDuration = new Histogram({
    name: 'stowage_http_request_duration_seconds',
    help: 'Dashboard API request durations, by route template.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: this.registers,
  });

  readonly auditWriteFailures = new Counter({
    name: 'stowage_audit_write_failures_total',
    help: 'Audit rows that could not be written.',
    registers: this.registers,
  });

  readonly auditCommitDuration = new Histogram({
    name: 'stowage_audit_commit_duration_seconds',
    help: 'Time of one group-committed audit INSERT.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registers: this.registers,
  });

  readonly auditCommitWait = new Histogram({
    name: 'stowage_audit_commit_wait_seconds',
    help: 'Time a mutation waits for its audit row to be committed before it is acknowledged (an S3-proxy write: from the upstream answer).',
    labelNames: ['result'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5],
    registers: this.registers,
  });

  readonly auditCommitRows = new Histogram({
    name: 'stowage_audit_commit_rows',
    help: 'Audit rows per group-committed INSERT.',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: this.registers,
  });

  readonly auditPurged = new Counter({
    name: 'stowage_audit_purged_rows_total',
    help: 'Audit rows removed by retention.',
    registers: this.registers,
  });

  /** Counted by the quota checks when they refuse a write. */
  readonly quotaRefusals = new Counter({
    name: 'stowage_quota_refusals_total',
    help: 'Writes refused because a bucket quota would be exceeded, by plane (dashboard or s3) and backend.',
    labelNames: ['plane', 'backend'] as const,
    registers: this.registers,
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters (promtool refuses them); the same counts are in the unsuffixed
    // `nodejs_active_handles{type}`, `nodejs_active_requests{type}` and `nodejs_active_resources{type}`.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }
  }

  /** Counts one dashboard API request. */
  observeHttp(method: string, route: string, status: number, seconds: number, backend: string, bytes: number): void {
    const m = methodLabel(method);
    const cls = statusClass(status);
    this.requests.inc({ method: m, status_class: cls, backend });
    this.requestDuration.observe({ method: m, backend }, seconds);
    this.responseBytes.observe({ method: m, backend }, bytes);
    this.httpRequestDuration.observe({ method: m, route, status: String(status) }, seconds);
  }

  /** A gauge read from `read` when scraped (`async` readers may ask Redis or the database). */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (set: (labels: Partial<Record<L, string>>, value: number) => void) => void | Promise<void>,
  ): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: this.registers,
      async collect() {
        this.reset();
        await read((labels, value) => this.set(labels as Record<L, string>, value));
      },
    });
  }

  /** `stowage_audit_pending_rows`, read from `read` when scraped. */
  auditPending(read: () => number): void {
    this.gauge('stowage_audit_pending_rows', 'Audit rows waiting for their group commit.', [], (set) =>
      set({}, read()),
    );
  }
}
