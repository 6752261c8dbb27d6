import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { snapshotOf, UserSnapshot } from './user-snapshot';
import { UsersRepository } from './users.repository';

// Short enough that a change made while Redis was unreachable still lands within a minute.
const TTL_SECONDS = 60;

/**
 * User snapshots in Redis. Every change to a user deletes its entry, so a role change or a
 * disable takes effect on the next request on every replica.
 */
@Injectable()
export class UserCache {
  constructor(
    private readonly redis: RedisService,
    private readonly users: UsersRepository,
  ) {}

  keyOf(id: string): string {
    return this.redis.key('user', id);
  }

  /** Decodes a cached entry (as read by a pipelined lookup); undefined when absent. */
  parse(raw: string | null | undefined): UserSnapshot | undefined {
    return raw ? (JSON.parse(raw) as UserSnapshot) : undefined;
  }

  async get(id: string): Promise<UserSnapshot | undefined> {
    try {
      const cached = this.parse(await this.redis.client.get(this.keyOf(id)));
      if (cached) return cached;
    } catch {
      // Redis unavailable: PostgreSQL is the source of truth.
    }
    return this.load(id);
  }

  async load(id: string): Promise<UserSnapshot | undefined> {
    const user = await this.users.findById(id);
    if (!user) return undefined;
    const snapshot = snapshotOf(user);
    await this.redis.client.set(this.keyOf(id), JSON.stringify(snapshot), 'EX', TTL_SECONDS).catch(() => undefined);
    return snapshot;
  }

  async invalidate(id: string): Promise<void> {
    await this.redis.client.del(this.keyOf(id)).catch(() => undefined);
  }
}
