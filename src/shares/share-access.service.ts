import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { StowageConfig } from '@stowage/config';
import { ErrorCode, isStowageError, StowageError } from '@stowage/errors';
import { AuditService } from '../audit/audit.service';
import { RequestOrigin } from '../access/actor';
import { PasswordHasher } from '../auth/password-hasher.service';
import { LOGGER } from '../logging/logging.module';
import { ObjectsService } from '../objects/objects.service';
import { FixedWindow } from '../redis/fixed-window';
import { RedisService } from '../redis/redis.service';
import { RootKeyService } from '../secrets/root-key.service';
import { ByteRange, ObjectStream } from '../storage-backends/backend';
import { Disposition, ShareInfoDto } from './dto/share.dto';
import { isShareCode } from './share-code';
import { isActiveContent, previewKind } from './share-preview';
import { mintSession, RecipientSession, sessionCookieName, verifySession } from './share-session';
import { ShareWithSecret, SharesRepository } from './shares.repository';
import { sharePath } from './shares.service';

/** Extra time a wrong share password costs, on top of the argon2id verification itself. */
export const FAILED_UNLOCK_DELAY_MS = 400;
/** How long a parallel request of the same session waits for the first one to be counted. */
const PENDING_WAIT_MS = 3000;

export type ShareEndpoint = 'info' | 'unlock' | 'raw';

/** Who is asking: recipients have no account, only an address and (maybe) a session cookie. */
export interface Recipient {
  origin: RequestOrigin & { ip: string };
  /** The value of this share's `stowage_unlock_<code>` cookie, if sent. */
  cookie?: string;
}

export interface IssuedCookie {
  name: string;
  value: string;
  path: string;
  maxAgeSeconds: number;
}

export interface RawRequest {
  range?: ByteRange;
  ifNoneMatch?: string;
  inline: boolean;
  /** A HEAD request: answers the headers and is never counted as a download. */
  headOnly?: boolean;
  signal?: AbortSignal;
}

export interface RawResult {
  object: ObjectStream;
  key: string;
  disposition: Disposition;
  cookie?: IssuedCookie;
}

interface Opened {
  share: ShareWithSecret;
  session?: RecipientSession;
}

/**
 * The recipient side of sharing: `/s/{code}/info`, `/unlock` and `/raw`. Every request checks
 * revocation, expiry, cap and password anew; every one leaves a `share.access` audit row.
 *
 * A download is counted once per recipient session: the signed `stowage_unlock_<code>` cookie
 * (minted by a successful unlock, or by the first visit of a share without password) carries a
 * random session id, and Redis remembers which sessions were already counted until the cookie
 * expires. Range resumes, previews and the download button of one visit cost one download;
 * a client without the cookie (curl, a new browser) pays for every request, as in the reference.
 */
@Injectable()
export class ShareAccessService {
  private readonly unlockFailures: FixedWindow;
  private sessionKey?: Buffer;

  constructor(
    private readonly config: StowageConfig,
    private readonly repository: SharesRepository,
    private readonly objects: ObjectsService,
    private readonly hasher: PasswordHasher,
    private readonly rootKey: RootKeyService,
    private readonly redis: RedisService,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const { share_unlock_per_ip, share_unlock_window } = config.ratelimit;
    this.unlockFailures = new FixedWindow(redis.client, share_unlock_per_ip, share_unlock_window);
  }

  /** The HMAC key of recipient cookies, derived from the root key; undefined without one. */
  private key(): Buffer | undefined {
    if (!this.rootKey.available) return undefined;
    this.sessionKey ??= this.rootKey.require().deriveKey('share-session-v1');
    return this.sessionKey;
  }

  async info(code: string, recipient: Recipient): Promise<{ info: ShareInfoDto; cookie?: IssuedCookie }> {
    return this.audited('info', recipient, async (track) => {
      const opened = await this.open(code, recipient, true, track);
      const issued = opened.session ? undefined : this.mint(opened.share);
      return { info: await this.infoOf(opened.share), cookie: issued?.cookie };
    });
  }

  async unlock(
    code: string,
    password: string,
    recipient: Recipient,
  ): Promise<{ info: ShareInfoDto; cookie?: IssuedCookie }> {
    return this.audited('unlock', recipient, async (track) => {
      const { share } = await this.open(code, recipient, false, track);
      if (share.passwordHash === null) return { info: await this.infoOf(share), cookie: this.mint(share)?.cookie };
      this.rootKey.require();
      const key = this.key()!;
      await this.takeUnlockSlot(recipient.origin.ip);
      const right = await this.hasher.verify(share.passwordHash, password).catch(async (err: unknown) => {
        // Not an attempt (the hashing queue was full): the slot goes back.
        await this.giveBackUnlockSlot(recipient.origin.ip);
        throw err;
      });
      if (!right) {
        await sleep(FAILED_UNLOCK_DELAY_MS);
        throw new StowageError('password_mismatch', 'Wrong password for this share.');
      }
      await this.giveBackUnlockSlot(recipient.origin.ip);
      return { info: await this.infoOf(share), cookie: this.mint(share, key)!.cookie };
    });
  }

  async raw(code: string, request: RawRequest, recipient: Recipient): Promise<RawResult> {
    return this.audited('raw', recipient, async (track, note) => {
      const opened = await this.open(code, recipient, true, track);
      const { share } = opened;
      const issued = opened.session ? undefined : this.mint(share);
      const session = opened.session ?? issued?.session;
      const object = await this.objects.read({ backendId: share.backendId, bucket: share.bucket }, share.objectKey, {
        range: request.range,
        ifNoneMatch: request.ifNoneMatch,
        signal: request.signal,
      });
      let counted = false;
      if (!object.notModified && !request.headOnly) {
        try {
          counted = await this.charge(share, session);
        } catch (err) {
          object.body.destroy();
          throw err;
        }
      }
      note({ counted, range: request.range !== undefined, not_modified: object.notModified === true });
      const active = isActiveContent(object.info.contentType, share.objectKey);
      const wanted = request.inline ? 'inline' : share.disposition;
      return {
        object,
        key: share.objectKey,
        disposition: active ? 'attachment' : wanted,
        cookie: issued?.cookie,
      };
    });
  }

  /**
   * Finds the share and applies every gate, in the reference's order: revoked, expired,
   * exhausted (unless this session already has its download), password.
   */
  private async open(
    code: string,
    recipient: Recipient,
    needUnlock: boolean,
    track: (share: ShareWithSecret) => void,
  ): Promise<Opened> {
    const share = isShareCode(code) ? await this.repository.findByCodeWithSecret(code) : null;
    if (!share) throw new StowageError('not_found', 'No such share.');
    track(share);
    const now = new Date();
    // A disabled creator's links are suspended (answered as revoked) until the account is enabled.
    if (share.revoked || !share.creatorEnabled) throw new StowageError('revoked');
    if (share.expiresAt && share.expiresAt.getTime() <= now.getTime()) throw new StowageError('expired');
    const key = this.key();
    const session = key ? verifySession(key, share.code, recipient.cookie, now) : undefined;
    const used = share.maxDownloads !== null && share.downloadCount >= share.maxDownloads;
    if (used && !(session && (await this.alreadyCounted(share, session)))) throw new StowageError('exhausted');
    if (needUnlock && share.passwordHash !== null && !session) throw new StowageError('password_required');
    return { share, session };
  }

  private mint(
    share: ShareWithSecret,
    key = this.key(),
  ): { cookie: IssuedCookie; session: RecipientSession } | undefined {
    if (!key) return undefined;
    const now = new Date();
    const { value, session } = mintSession(key, share.code, now, share.expiresAt);
    const maxAgeSeconds = Math.max(1, session.expiresAt - Math.floor(now.getTime() / 1000));
    return {
      cookie: { name: sessionCookieName(share.code), value, path: sharePath(share.code), maxAgeSeconds },
      session,
    };
  }

  private async infoOf(share: ShareWithSecret): Promise<ShareInfoDto> {
    const object = await this.objects.info({ backendId: share.backendId, bucket: share.bucket }, share.objectKey);
    const capped = share.maxDownloads !== null;
    // Without the cookie key every request counts, so a preview would cost a capped share a download.
    const preview = capped && !this.key() ? 'none' : previewKind(object.content_type, share.objectKey);
    return {
      code: share.code,
      name: share.objectKey.split('/').filter(Boolean).pop() ?? share.objectKey,
      size: object.size,
      ...(object.content_type ? { content_type: object.content_type } : {}),
      ...(object.etag ? { etag: object.etag } : {}),
      ...(object.last_modified ? { last_modified: object.last_modified } : {}),
      ...(share.expiresAt ? { expires_at: share.expiresAt.toISOString() } : {}),
      has_password: share.passwordHash !== null,
      ...(capped ? { max_downloads: share.maxDownloads! } : {}),
      download_count: share.downloadCount,
      ...(capped ? { downloads_left: Math.max(0, share.maxDownloads! - share.downloadCount) } : {}),
      disposition: share.disposition,
      preview_kind: preview,
      raw_url: `${sharePath(share.code)}/raw`,
    };
  }

  private countedKey(share: ShareWithSecret, session: RecipientSession): string {
    return this.redis.key('share', 'counted', share.id, session.id);
  }

  private async alreadyCounted(share: ShareWithSecret, session: RecipientSession): Promise<boolean> {
    try {
      return (await this.redis.client.get(this.countedKey(share, session))) === 'counted';
    } catch {
      return false;
    }
  }

  /**
   * Counts this request as a download unless its session already has one. The first request of
   * a session claims the session in Redis (`pending`), takes a download with the one atomic
   * UPDATE, then marks it `counted`; parallel requests of the same session wait for that outcome.
   * If Redis is unavailable every request is counted: never a free download.
   * True when this request took a download.
   */
  private async charge(share: ShareWithSecret, session: RecipientSession | undefined): Promise<boolean> {
    if (!session) return this.take(share);
    const key = this.countedKey(share, session);
    const ttl = Math.max(1000, session.expiresAt * 1000 - Date.now());
    const deadline = Date.now() + PENDING_WAIT_MS;
    try {
      for (;;) {
        if ((await this.redis.client.set(key, 'pending', 'PX', ttl, 'NX')) === 'OK') break;
        const state = await this.redis.client.get(key);
        if (state === 'counted') return false;
        if (state === null) continue;
        if (Date.now() > deadline) return this.take(share);
        await sleep(50);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'share session store unavailable; counting the download');
      return this.take(share);
    }
    try {
      await this.take(share);
    } catch (err) {
      await this.redis.client.del(key).catch(() => undefined);
      throw err;
    }
    await this.redis.client.set(key, 'counted', 'PX', ttl).catch(() => undefined);
    return true;
  }

  /** One download off the cap, atomically; the reason when the share refuses. */
  private async take(share: ShareWithSecret): Promise<true> {
    if (await this.repository.claimDownload(share.id)) return true;
    const now = await this.repository.findByCodeWithSecret(share.code);
    if (!now) throw new StowageError('not_found', 'No such share.');
    if (now.revoked || !now.creatorEnabled) throw new StowageError('revoked');
    if (now.expiresAt && now.expiresAt.getTime() <= Date.now()) throw new StowageError('expired');
    throw new StowageError('exhausted');
  }

  private unlockKey(ip: string): string {
    return this.redis.key('ratelimit', 'share-unlock', ip);
  }

  /** A slot per attempt, given back on success: only wrong passwords count against an address. */
  private async takeUnlockSlot(ip: string): Promise<void> {
    if (this.config.ratelimit.share_unlock_per_ip === 0) return;
    const wait = await this.unlockFailures.take(this.unlockKey(ip));
    if (wait > 0) throw StowageError.rateLimited(wait / 1000, 'too many wrong share passwords from this address');
  }

  private async giveBackUnlockSlot(ip: string): Promise<void> {
    if (this.config.ratelimit.share_unlock_per_ip === 0) return;
    await this.unlockFailures.giveBack(this.unlockKey(ip));
  }

  /** Runs one recipient request and records its `share.access` row, whatever the outcome. */
  private async audited<T>(
    endpoint: ShareEndpoint,
    recipient: Recipient,
    run: (track: (share: ShareWithSecret) => void, note: (facts: Record<string, unknown>) => void) => Promise<T>,
  ): Promise<T> {
    let share: ShareWithSecret | undefined;
    let facts: Record<string, unknown> = {};
    // Recipients read: their rows are best-effort, and a read goes on while the audit log is away.
    const record = (result: ErrorCode | 'ok') =>
      this.audit.note({
        ...recipient.origin,
        action: 'share.access',
        status: result === 'ok' ? 'ok' : 'error',
        backendId: share?.backendId ?? null,
        bucket: share?.bucket ?? null,
        key: share?.objectKey ?? null,
        detail: { endpoint, result, ...(share ? { share_id: share.id } : {}), ...facts },
      });
    try {
      const result = await run(
        (s) => (share = s),
        (f) => (facts = f),
      );
      await record('ok');
      return result;
    } catch (err) {
      // A refused flood is not worth a row per request; everything else is.
      if (!(isStowageError(err) && err.code === 'rate_limited' && !share))
        await record(isStowageError(err) ? err.code : 'internal');
      throw err;
    }
  }
}
