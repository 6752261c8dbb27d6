import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { DataSource, In, Not } from 'typeorm';
import { StowageConfig } from '@stowage/config';
import { dependencyOutage, outageMessage, StowageError } from '@stowage/errors';
import { LOGGER } from '../logging/logging.module';
import { RedisService } from '../redis/redis.service';
import { UserCache } from '../users/user-cache.service';
import { UserSnapshot } from '../users/user-snapshot';
import { CSRF_COOKIE, SESSION_COOKIE } from './auth.constants';
import { Identity } from '../access/identity';
import { SessionEntity } from './session.entity';
import { newToken, sha256Hex } from './session-token';

/** The session as cached in Redis (short keys: it is read on every request). */
interface CachedSession {
  /** user id */
  u: string;
  /** SHA-256 of the CSRF token */
  c: string;
  /** identity source */
  s: string;
  /** hard expiry, epoch ms */
  e: number;
  /** last time last_seen_at was written to PostgreSQL, epoch ms */
  t: number;
}

/**
 * A sign-in that failed because PostgreSQL or Redis is away, as `session_error` answered 503
 * with Retry-After; any other failure unchanged.
 */
export function signInOutage(err: unknown): unknown {
  if (err instanceof StowageError) return err;
  const dependency = dependencyOutage(err);
  if (!dependency) return err;
  return StowageError.outage('session_error', `Cannot sign in right now. ${outageMessage(dependency)}`, err);
}

/** How often a busy session's last_seen_at reaches PostgreSQL. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Resolves a session in one Redis round trip: reads it, slides its idle expiry (never past
 * the hard expiry) and fetches the cached user snapshot.
 */
const RESOLVE_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local session = cjson.decode(raw)
local now = tonumber(ARGV[2])
if session.e <= now then
  redis.call('DEL', KEYS[1])
  return nil
end
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[1]), session.e - now))
return { raw, redis.call('GET', ARGV[3] .. session.u) }
`;

type ResolveCommand = (
  key: string,
  idleMs: number,
  now: number,
  userKeyPrefix: string,
) => Promise<[string, string | null] | null>;

/**
 * Login sessions: the cookie holds an opaque token; PostgreSQL holds its hash with the hard
 * expiry; Redis holds the live copy whose TTL is the idle timeout. Nothing is kept in process
 * memory, so revoking a session takes effect on every replica at once.
 */
@Injectable()
export class SessionsService {
  private readonly resolveCommand: ResolveCommand;

  constructor(
    private readonly config: StowageConfig,
    private readonly redis: RedisService,
    private readonly users: UserCache,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const client = redis.client as unknown as Record<string, unknown> & {
      defineCommand: typeof redis.client.defineCommand;
    };
    if (typeof client.stowageResolveSession !== 'function') {
      client.defineCommand('stowageResolveSession', { numberOfKeys: 1, lua: RESOLVE_SCRIPT });
    }
    this.resolveCommand = (client.stowageResolveSession as ResolveCommand).bind(client);
  }

  private get repo() {
    return this.dataSource.getRepository(SessionEntity);
  }

  private keyOf(sessionId: string): string {
    return this.redis.key('session', sessionId);
  }

  /**
   * Starts a session for `user` and sets its cookies on the reply; `session_error` (503) when
   * PostgreSQL cannot record it.
   */
  async issue(user: UserSnapshot, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      await this.start(user, request, reply);
    } catch (err) {
      throw signInOutage(err);
    }
  }

  private async start(user: UserSnapshot, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = newToken();
    const csrf = newToken();
    const sessionId = sha256Hex(token);
    const csrfHash = sha256Hex(csrf);
    const now = Date.now();
    const expiresAt = new Date(now + this.config.auth.session.lifetime);
    const agent = request.headers['user-agent'];
    await this.repo.insert({
      idHash: sessionId,
      userId: user.id,
      identitySource: user.identitySource,
      csrfHash,
      ip: request.ip,
      userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null,
      expiresAt,
    });
    await this.cache(sessionId, {
      u: user.id,
      c: sha256Hex(csrf),
      s: user.identitySource,
      e: expiresAt.getTime(),
      t: now,
    });
    const secure = request.protocol === 'https';
    void reply
      .setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, expires: expiresAt })
      .setCookie(CSRF_COOKIE, csrf, { path: '/', httpOnly: false, sameSite: 'lax', secure, expires: expiresAt });
  }

  /** The identity behind a session cookie, or undefined when it is unknown, expired or idle. */
  async resolve(token: string): Promise<Identity | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const sessionId = sha256Hex(token);
    const now = Date.now();
    let session: CachedSession | undefined;
    let user: UserSnapshot | undefined;
    let cacheUp = true;
    try {
      const found = await this.resolveCommand(
        this.keyOf(sessionId),
        this.config.auth.session.idle_timeout,
        now,
        this.users.keyOf(''),
      );
      if (found) {
        session = JSON.parse(found[0]) as CachedSession;
        user = this.users.parse(found[1]);
      }
    } catch (err) {
      cacheUp = false;
      this.logger.warn({ err: (err as Error).message }, 'session cache unavailable; reading PostgreSQL');
    }
    session ??= await this.restore(sessionId, now, cacheUp);
    if (!session) return undefined;
    user ??= await this.users.load(session.u);
    if (!user || !user.enabled) return undefined;
    if (now - session.t > TOUCH_INTERVAL_MS) this.touch(sessionId, session, now);
    return { ...user, sessionId, csrfHash: session.c };
  }

  /** Ends one session. */
  async revoke(sessionId: string): Promise<void> {
    await this.repo.delete({ idHash: sessionId });
    await this.redis.client.del(this.keyOf(sessionId));
  }

  /** Ends every session of a user, except optionally the caller's own. */
  async revokeUser(userId: string, keepSessionId?: string): Promise<number> {
    const where = keepSessionId ? { userId, idHash: Not(keepSessionId) } : { userId };
    const rows = await this.repo.find({ where, select: { idHash: true } });
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.idHash);
    await this.repo.delete({ idHash: In(ids) });
    await this.redis.client.del(...ids.map((id) => this.keyOf(id)));
    return ids.length;
  }

  /**
   * Deletes sessions past their hard expiry, or idle for longer than the idle timeout (plus
   * the interval at which activity reaches PostgreSQL). Returns how many were removed.
   */
  async purgeExpired(): Promise<number> {
    const idleSeconds = Math.ceil((this.config.auth.session.idle_timeout + 2 * TOUCH_INTERVAL_MS) / 1000);
    const result = await this.repo
      .createQueryBuilder()
      .delete()
      .where('expires_at < now()')
      .orWhere(`last_seen_at < now() - make_interval(secs => :idle)`, { idle: idleSeconds })
      .execute();
    return result.affected ?? 0;
  }

  clearCookies(request: FastifyRequest, reply: FastifyReply): void {
    const secure = request.protocol === 'https';
    void reply
      .clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure })
      .clearCookie(CSRF_COOKIE, { path: '/', httpOnly: false, sameSite: 'lax', secure });
  }

  private async cache(sessionId: string, session: CachedSession): Promise<void> {
    const ttl = Math.min(this.config.auth.session.idle_timeout, session.e - Date.now());
    if (ttl <= 0) return;
    await this.redis.client.set(this.keyOf(sessionId), JSON.stringify(session), 'PX', ttl).catch((err: Error) => {
      this.logger.warn({ err: err.message }, 'could not cache session');
    });
  }

  /**
   * Rebuilds the Redis copy from PostgreSQL (after a Redis restart or eviction); with `cacheUp`
   * false (Redis just failed) it does not wait on Redis again.
   */
  private async restore(sessionId: string, now: number, cacheUp: boolean): Promise<CachedSession | undefined> {
    const row = await this.repo.findOneBy({ idHash: sessionId });
    if (!row) return undefined;
    const idleDeadline = row.lastSeenAt.getTime() + this.config.auth.session.idle_timeout;
    if (row.expiresAt.getTime() <= now || idleDeadline <= now) {
      await this.repo.delete({ idHash: sessionId });
      return undefined;
    }
    const session: CachedSession = {
      u: row.userId,
      c: row.csrfHash,
      s: row.identitySource,
      e: row.expiresAt.getTime(),
      t: now,
    };
    if (cacheUp) await this.cache(sessionId, session);
    return session;
  }

  private touch(sessionId: string, session: CachedSession, now: number): void {
    session.t = now;
    void Promise.all([
      this.repo.update({ idHash: sessionId }, { lastSeenAt: new Date(now) }),
      this.redis.client.set(
        this.keyOf(sessionId),
        JSON.stringify(session),
        'PX',
        Math.min(this.config.auth.session.idle_timeout, session.e - now),
        'XX',
      ),
    ]).catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record session activity'));
  }
}
