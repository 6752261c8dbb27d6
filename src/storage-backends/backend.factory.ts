import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { StowageError } from '@stowage/errors';
import { MetricsService } from '../metrics/metrics.service';
import { Backend } from './backend';
import { BackendSpec } from './backend-spec';
import { S3Driver } from './drivers';
import { EndpointPolicy } from './endpoint-policy.service';
import { BackendMetrics, instrumentBackend } from './instrumented-backend';
import { UpstreamClient } from './upstream/upstream-client';

/** Builds the (instrumented) driver for a backend spec. A provider of its own so tests can swap drivers. */
@Injectable()
export class BackendFactory {
  private readonly metrics: BackendMetrics;

  constructor(
    metrics: MetricsService,
    private readonly policy: EndpointPolicy,
    private readonly upstream: UpstreamClient,
  ) {
    this.metrics = {
      duration: new Histogram({
        name: 'stowage_backend_request_duration_seconds',
        help: 'Upstream S3 calls, by backend, operation and outcome (time to first byte for reads).',
        labelNames: ['backend', 'operation', 'outcome'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [metrics.registry],
      }),
      errors: new Counter({
        name: 'stowage_backend_errors_total',
        help: 'Upstream S3 calls that failed, by backend, operation and error code.',
        labelNames: ['backend', 'operation', 'code'] as const,
        registers: [metrics.registry],
      }),
    };
  }

  /** Throws `bad_request` for an endpoint the policy refuses outright (credentials, a denied IP). */
  create(spec: BackendSpec): Backend {
    const problem = this.policy.urlProblem(spec.endpoint);
    if (problem) throw new StowageError('bad_request', undefined, `endpoint: ${problem}`);
    return instrumentBackend(this.driver(spec), this.metrics);
  }

  private driver(spec: BackendSpec): Backend {
    return new S3Driver(
      {
        id: spec.id,
        name: spec.name,
        endpoint: spec.endpoint,
        region: spec.region || 'us-east-1',
        accessKey: spec.accessKey,
        secretKey: spec.secretKey,
        pathStyle: spec.pathStyle,
        kind: spec.kind,
        checksums: spec.checksums,
        lookup: this.policy.lookup,
      },
      this.upstream,
    );
  }
}
