import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../logging/logging.module';
import { RedisService } from '../redis/redis.service';

const HOUR_MS = 3_600_000;
const HOURS = 24;
/** How often this replica adds its counts to the shared ones. */
const FLUSH_EVERY_MS = 1000;
/** Recent server errors kept (all replicas together). */
const MAX_RECENT_ERRORS = 50;
/** Hour buckets outlive the 24-hour window by a margin, then Redis drops them. */
const BUCKET_TTL_SECONDS = 26 * 3600;
const MAX_PATH = 200;
/** Counts waiting for a flush are bounded: past this many distinct fields, new backends fold into `other`. */
const MAX_FIELDS = 1000;

export interface RecentError {
  when: string;
  method: string;
  path: string;
  status: number;
  user_id?: string;
  backend?: string;
}

export interface HourlyPoint {
  unix_hour: number;
  requests: number;
  errors: number;
}

export interface RequestSnapshot {
  total_24h: number;
  errors_24h: number;
  /** 24 points, oldest first. */
  hourly: HourlyPoint[];
  /** Requests per backend over the last 24 hours. */
  by_backend: Record<string, number>;
  /** Newest first. */
  recent_errors: RecentError[];
}

/**
 * Requests of every replica by hour, for the admin dashboard: each replica adds its counts
 * (total, 5xx, per backend) to one Redis hash per hour every second, and pushes its server
 * errors onto one capped list, so the dashboard of any replica shows the sum of all of them.
 * Counting never waits for Redis; while Redis is away the counts of that time are lost (they
 * are a dashboard, not a ledger: the audit log is).
 */
@Injectable()
export class RequestStatsService implements OnModuleInit, OnApplicationShutdown {
  private counts = new Map<string, number>();
  private errors: RecentError[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private now(): number {
    return Date.now();
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Counts one request; `error` describes it when it is a server error (5xx). */
  count(status: number, backend: string | undefined, error?: Omit<RecentError, 'when' | 'status'>): void {
    const hour = Math.floor(this.now() / HOUR_MS);
    this.add(`${hour}|t`);
    if (status >= 500) {
      this.add(`${hour}|e`);
      if (error && this.errors.length < MAX_RECENT_ERRORS) {
        this.errors.push({
          when: new Date(this.now()).toISOString(),
          method: error.method,
          path: error.path.length > MAX_PATH ? `${error.path.slice(0, MAX_PATH)}…` : error.path,
          status,
          ...(error.user_id ? { user_id: error.user_id } : {}),
          ...(backend ? { backend } : {}),
        });
      }
    }
    if (backend) this.add(`${hour}|b:${this.counts.size < MAX_FIELDS ? backend : 'other'}`);
  }

  private add(field: string): void {
    this.counts.set(field, (this.counts.get(field) ?? 0) + 1);
  }

  /** Adds this replica's pending counts to the shared ones. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.counts.size === 0 && this.errors.length === 0) return;
    const counts = this.counts;
    const errors = this.errors;
    this.counts = new Map();
    this.errors = [];
    const multi = this.redis.client.multi();
    const hours = new Set<string>();
    for (const [key, n] of counts) {
      const [hour, field] = [key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1)];
      multi.hincrby(this.hourKey(hour), field, n);
      hours.add(hour);
    }
    for (const hour of hours) multi.expire(this.hourKey(hour), BUCKET_TTL_SECONDS);
    if (errors.length > 0) {
      multi.lpush(this.errorsKey(), ...errors.map((e) => JSON.stringify(e)));
      multi.ltrim(this.errorsKey(), 0, MAX_RECENT_ERRORS - 1);
    }
    try {
      await multi.exec();
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'request counts not shared (redis away)');
    }
  }

  /** The last 24 hours of every replica. */
  async snapshot(): Promise<RequestSnapshot> {
    await this.flush();
    const current = Math.floor(this.now() / HOUR_MS);
    const hours = Array.from({ length: HOURS }, (_, i) => current - (HOURS - 1) + i);
    const pipeline = this.redis.client.pipeline();
    for (const hour of hours) pipeline.hgetall(this.hourKey(String(hour)));
    pipeline.lrange(this.errorsKey(), 0, MAX_RECENT_ERRORS - 1);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0] as Error;
    const snapshot: RequestSnapshot = { total_24h: 0, errors_24h: 0, hourly: [], by_backend: {}, recent_errors: [] };
    hours.forEach((hour, i) => {
      const fields = (results[i][1] ?? {}) as Record<string, string>;
      const point = { unix_hour: hour, requests: Number(fields.t ?? 0), errors: Number(fields.e ?? 0) };
      snapshot.hourly.push(point);
      snapshot.total_24h += point.requests;
      snapshot.errors_24h += point.errors;
      for (const [field, value] of Object.entries(fields)) {
        if (!field.startsWith('b:')) continue;
        const backend = field.slice(2);
        snapshot.by_backend[backend] = (snapshot.by_backend[backend] ?? 0) + Number(value);
      }
    });
    const recent = (results[HOURS][1] ?? []) as string[];
    snapshot.recent_errors = recent.map((line) => JSON.parse(line) as RecentError);
    return snapshot;
  }

  private hourKey(hour: string): string {
    return this.redis.key('stats', 'requests', hour);
  }

  private errorsKey(): string {
    return this.redis.key('stats', 'errors');
  }
}
