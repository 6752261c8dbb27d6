import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { LOGGER } from '../logging/logging.module';
import { RedisService } from '../redis/redis.service';

/** What changed, as announced to every replica's S3 access directory. */
export type AccessChange =
  | { kind: 'credential'; accessKey: string }
  | { kind: 'user'; userId: string }
  | { kind: 'anonymous'; bucket: string }
  | { kind: 'cors'; backendId: string; bucket: string }
  /** Anything may have changed (e.g. this replica missed notices while Redis was away). */
  | { kind: 'all' };

type Listener = (change: AccessChange) => void;

interface Notice {
  /** The announcing replica, which has already applied the change. */
  from: string;
  change: AccessChange;
}

/**
 * Announces changes to virtual credentials, anonymous bindings, bucket CORS rules and users to
 * every replica over Redis pub/sub. Listeners on this replica hear a change at once; others when
 * the notice arrives. A lost notice costs at most the directory's cache lifetime (one second),
 * so announcing never fails the change it reports.
 */
@Injectable()
export class ChangeAnnouncer {
  private readonly id = randomUUID();
  private readonly listeners = new Set<Listener>();
  private subscriber?: Redis;

  constructor(
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get channel(): string {
    return this.redis.key('s3-access', 'changed');
  }

  credentialChanged(accessKey: string): Promise<void> {
    return this.announce({ kind: 'credential', accessKey });
  }

  userChanged(userId: string): Promise<void> {
    return this.announce({ kind: 'user', userId });
  }

  anonymousChanged(bucket: string): Promise<void> {
    return this.announce({ kind: 'anonymous', bucket });
  }

  corsChanged(backendId: string, bucket: string): Promise<void> {
    return this.announce({ kind: 'cors', backendId, bucket });
  }

  async announce(change: AccessChange): Promise<void> {
    this.deliver(change);
    try {
      await this.redis.client.publish(this.channel, JSON.stringify({ from: this.id, change } satisfies Notice));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, change: change.kind }, 's3 access change not announced');
    }
  }

  /** Calls `listener` for every change made anywhere; subscribes to Redis on first use. */
  async listen(listener: Listener): Promise<void> {
    this.listeners.add(listener);
    if (this.subscriber) return;
    const subscriber = this.redis.duplicate('s3-access-subscriber');
    this.subscriber = subscriber;
    let connectedBefore = false;
    subscriber.on('ready', () => {
      // Notices sent while disconnected are lost: forget everything once back.
      if (connectedBefore) this.deliver({ kind: 'all' });
      connectedBefore = true;
    });
    subscriber.on('message', (_channel: string, raw: string) => {
      let notice: Notice;
      try {
        notice = JSON.parse(raw) as Notice;
      } catch {
        return;
      }
      if (notice.from !== this.id && notice.change) this.deliver(notice.change);
    });
    await subscriber.subscribe(this.channel);
  }

  private deliver(change: AccessChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 's3 access change listener failed');
      }
    }
  }
}
