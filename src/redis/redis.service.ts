import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { LOGGER } from '../logging/logging.module';

/** Longest a command on the main connection waits for its answer. */
const COMMAND_TIMEOUT_MS = 2000;
/** How often the main connection is checked for a server that stopped answering. */
const WATCHDOG_EVERY_MS = 1000;

/**
 * The Redis connection every shared counter, limiter, lock and cache uses, plus a factory for
 * the extra connections BullMQ needs for blocking commands. All keys go through `key()` so
 * several deployments (or test runs) can share one Redis.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis;
  private readonly extra = new Set<Redis>();
  private readonly watchdog: NodeJS.Timeout;
  private probing = false;

  constructor(
    private readonly config: StowageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.client = this.connect('main', {
      // Fail fast while Redis is away instead of queueing commands behind a dead socket.
      enableOfflineQueue: false,
      // Commands issued in the same tick share one write: fewer syscalls on the hot path.
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      // A command on a connection that hangs (no RST: network partition) fails after two seconds.
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    this.watchdog = setInterval(() => void this.probe(), WATCHDOG_EVERY_MS);
    this.watchdog.unref();
  }

  /**
   * A Redis that stops answering without closing the connection (hung host, network partition)
   * would hold every command queued behind the one in flight: auto-pipelined commands are sent
   * only when the previous batch is answered, so their own timeout has not even started. When a
   * PING is not answered in time the connection is dropped and re-opened; until it is ready
   * again, commands fail at once (no offline queue) and callers fall back or answer 503.
   */
  private async probe(): Promise<void> {
    if (this.probing || this.client.status !== 'ready') return;
    this.probing = true;
    try {
      await this.ping(COMMAND_TIMEOUT_MS);
    } catch (err) {
      if (this.client.status === 'ready') {
        this.logger.warn({ err: (err as Error).message }, 'redis stopped answering; reconnecting');
        this.client.disconnect(true);
      }
    } finally {
      this.probing = false;
    }
  }

  get prefix(): string {
    return this.config.redis.key_prefix;
  }

  key(...parts: Array<string | number>): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  /** Options for BullMQ and other libraries that open (and close) their own connections. */
  connectionOptions(): RedisOptions {
    const url = new URL(this.config.redis.url);
    return {
      ...this.baseOptions(),
      host: url.hostname,
      port: Number(url.port || 6379),
      db: Number(url.pathname.slice(1) || 0),
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      tls: url.protocol === 'rediss:' ? {} : undefined,
      maxRetriesPerRequest: null,
    };
  }

  /** A separate connection (e.g. for subscribe), closed with the service. */
  duplicate(purpose: string): Redis {
    const connection = this.connect(purpose, { maxRetriesPerRequest: null });
    this.extra.add(connection);
    return connection;
  }

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis did not answer within ${timeoutMs}ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.watchdog);
    await Promise.all([...this.extra, this.client].map((c) => c.quit().catch(() => c.disconnect())));
  }

  private baseOptions(): RedisOptions {
    return {
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    };
  }

  private connect(purpose: string, options: RedisOptions): Redis {
    const connection = new Redis(this.config.redis.url, {
      ...this.baseOptions(),
      ...options,
      connectionName: `stowage-${purpose}`,
    });
    let lastError = '';
    connection.on('error', (err: Error) => {
      // ioredis reports every reconnect attempt; log each distinct failure once.
      if (err.message !== lastError) this.logger.warn({ redis: purpose, err: err.message }, 'redis connection error');
      lastError = err.message;
    });
    connection.on('ready', () => {
      if (lastError) this.logger.info({ redis: purpose }, 'redis connection restored');
      lastError = '';
    });
    return connection;
  }
}
