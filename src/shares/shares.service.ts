import { Injectable } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { AuditService } from '../audit/audit.service';
import { Actor, SessionActor } from '../access/actor';
import { PasswordHasher } from '../auth/password-hasher.service';
import { Identity } from '../access/identity';
import { ObjectsService } from '../objects/objects.service';
import { CreateShareDto, ShareDto } from './dto/share.dto';
import { EXPIRY_PRESETS } from './share-code';
import { ShareEntity } from './share.entity';
import { SharesRepository } from './shares.repository';

const iso = (date: Date | null) => (date ? date.toISOString() : undefined);

export function sharePath(code: string): string {
  return `/s/${code}`;
}

/** Creating, listing and revoking share links: the signed-in side of sharing. */
@Injectable()
export class SharesService {
  constructor(
    private readonly config: StowageConfig,
    private readonly repository: SharesRepository,
    private readonly objects: ObjectsService,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
  ) {}

  toDto(share: ShareEntity, hasPassword: boolean): ShareDto {
    const base = this.config.server.public_url.replace(/\/+$/, '');
    return {
      id: share.id,
      code: share.code,
      url: `${base}${sharePath(share.code)}`,
      backend_id: share.backendId,
      bucket: share.bucket,
      key: share.objectKey,
      created_by: share.createdBy,
      created_at: share.createdAt.toISOString(),
      ...(share.expiresAt ? { expires_at: iso(share.expiresAt) } : {}),
      has_password: hasPassword,
      ...(share.maxDownloads !== null ? { max_downloads: share.maxDownloads } : {}),
      download_count: share.downloadCount,
      revoked: share.revoked,
      ...(share.revokedAt ? { revoked_at: iso(share.revokedAt) } : {}),
      ...(share.lastAccessedAt ? { last_accessed_at: iso(share.lastAccessedAt) } : {}),
      disposition: share.disposition,
    };
  }

  private expiryOf(body: CreateShareDto): Date | null {
    if (body.expires_at && body.expires_in)
      throw new StowageError('bad_request', undefined, 'send expires_at or expires_in, not both');
    if (body.expires_in) {
      const ms = EXPIRY_PRESETS[body.expires_in];
      return ms === null ? null : new Date(Date.now() + ms);
    }
    if (!body.expires_at) return null;
    const at = new Date(body.expires_at);
    if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now())
      throw new StowageError('bad_request', undefined, 'expires_at: must be in the future');
    return at;
  }

  async create(body: CreateShareDto, actor: Actor): Promise<ShareDto> {
    const expiresAt = this.expiryOf(body);
    // The object must exist now: a typo should fail here, not at the recipient's first click.
    await this.objects.info({ backendId: body.backend_id, bucket: body.bucket }, body.key);
    const passwordHash = body.password ? await this.hasher.hash(body.password) : null;
    const share = await this.repository.insert({
      backendId: body.backend_id,
      bucket: body.bucket,
      objectKey: body.key,
      createdBy: actor.identity.id,
      expiresAt,
      passwordHash,
      maxDownloads: body.max_downloads ? body.max_downloads : null,
      disposition: body.disposition ?? 'attachment',
    });
    await this.audit.recordBy(actor, {
      action: 'share.create',
      backendId: share.backendId,
      bucket: share.bucket,
      key: share.objectKey,
      detail: {
        share_id: share.id,
        has_password: passwordHash !== null,
        max_downloads: share.maxDownloads,
        expires_at: iso(share.expiresAt) ?? null,
        disposition: share.disposition,
      },
    });
    return this.toDto(share, passwordHash !== null);
  }

  async list(caller: Identity, scope: 'mine' | 'all' = 'mine'): Promise<ShareDto[]> {
    if (scope === 'all' && caller.role !== 'admin')
      throw new StowageError('forbidden', 'Only admins may list every share.');
    const shares = await this.repository.list(scope === 'all' ? undefined : caller.id);
    const protectedIds = await this.repository.withPassword(shares.map((s) => s.id));
    return shares.map((s) => this.toDto(s, protectedIds.has(s.id)));
  }

  /** Creator or admin; anyone else is told it does not exist. Revoking twice changes nothing. */
  async revoke(id: string, actor: SessionActor): Promise<void> {
    const share = await this.repository.findById(id);
    if (!share || (share.createdBy !== actor.identity.id && actor.identity.role !== 'admin'))
      throw new StowageError('not_found', 'No such share.');
    if (!(await this.repository.revoke(id))) return;
    await this.audit.recordBy(actor, {
      action: 'share.revoke',
      backendId: share.backendId,
      bucket: share.bucket,
      key: share.objectKey,
      detail: { share_id: share.id, created_by: share.createdBy },
    });
  }
}
