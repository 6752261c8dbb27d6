import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import { BackendRegistry } from './backend-registry.service';
import { describeCause, probeFailureText } from './probe-failure';

export interface ProbeRecord {
  at: string;
  healthy: boolean;
  latency_ms: number;
  error?: string;
}

export const PROBE_INTERVAL_MS = 30_000;
const PROBE_TIMEOUT_MS = 5_000;
const HISTORY_LENGTH = 20;

/**
 * Probes every backend on an interval and keeps the last 20 results per backend in Redis, so
 * every replica shows the same history. A short Redis lock makes one replica probe per round.
 */
@Injectable()
export class BackendHealthService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: BackendRegistry,
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    metrics.gauge(
      'stowage_backend_up',
      'Whether the last probe of each backend (by any replica) succeeded: 1 or 0.',
      ['backend'],
      async (set) => {
        for (const { backend } of this.registry.list()) {
          const [last] = await Promise.race([
            this.history(backend.id),
            new Promise<ProbeRecord[]>((r) => setTimeout(() => r([]), 1000).unref()),
          ]);
          if (last) set({ backend: backend.id }, last.healthy ? 1 : 0);
        }
      },
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.probeRound(), PROBE_INTERVAL_MS);
    this.timer.unref();
    void this.probeRound();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private historyKey(id: string): string {
    return this.redis.key('health', id);
  }

  /** Probes one backend now and records the result. */
  async probe(id: string): Promise<ProbeRecord> {
    const backend = this.registry.get(id);
    const started = process.hrtime.bigint();
    let record: ProbeRecord;
    try {
      await backend.probe(PROBE_TIMEOUT_MS);
      record = {
        at: new Date().toISOString(),
        healthy: true,
        latency_ms: Number(process.hrtime.bigint() - started) / 1e6,
      };
    } catch (err) {
      // Readers of the history (readonly users too) get the neutral text; the log keeps the reason.
      this.logger.warn({ backend: id, err: describeCause(err) }, 'backend probe failed');
      record = {
        at: new Date().toISOString(),
        healthy: false,
        latency_ms: Number(process.hrtime.bigint() - started) / 1e6,
        error: probeFailureText(err),
      };
    }
    record.latency_ms = Math.round(record.latency_ms * 10) / 10;
    await this.redis.client
      .multi()
      .lpush(this.historyKey(id), JSON.stringify(record))
      .ltrim(this.historyKey(id), 0, HISTORY_LENGTH - 1)
      .exec()
      .catch(() => undefined);
    return record;
  }

  /** Newest first. */
  async history(id: string): Promise<ProbeRecord[]> {
    try {
      const raw = await this.redis.client.lrange(this.historyKey(id), 0, HISTORY_LENGTH - 1);
      return raw.map((r) => JSON.parse(r) as ProbeRecord);
    } catch {
      return [];
    }
  }

  private async probeRound(): Promise<void> {
    for (const { backend } of this.registry.list()) {
      try {
        const lock = await this.redis.client.set(
          this.redis.key('health', 'lock', backend.id),
          '1',
          'PX',
          PROBE_INTERVAL_MS - 1000,
          'NX',
        );
        if (lock === 'OK') await this.probe(backend.id);
      } catch (err) {
        this.logger.warn({ backend: backend.id, err: (err as Error).message }, 'backend probe round failed');
      }
    }
  }
}
