import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import { newShareCode } from './share-code';
import { ShareEntity } from './share.entity';

export type NewShare = Pick<
  ShareEntity,
  'backendId' | 'bucket' | 'objectKey' | 'createdBy' | 'expiresAt' | 'passwordHash' | 'maxDownloads' | 'disposition'
>;

/**
 * A share with its password hash, which is never selected otherwise, and whether its creator's
 * account is enabled: a disabled creator's links are suspended until the account is enabled again.
 */
export type ShareWithSecret = ShareEntity & { passwordHash: string | null; creatorEnabled: boolean };

/** SQL: the share's creator exists and is enabled (read on every request, never cached). */
const CREATOR_ENABLED = 'EXISTS (SELECT 1 FROM users u WHERE u.id = share.created_by AND u.enabled)';

const isUniqueViolation = (err: unknown) =>
  err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === '23505';

/** The `shares` table. Every change of a counter or flag is one conditional statement. */
@Injectable()
export class SharesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get shares(): Repository<ShareEntity> {
    return this.dataSource.getRepository(ShareEntity);
  }

  /** Inserts with a fresh code, drawing again on the (80-bit, so theoretical) collision. */
  async insert(share: NewShare): Promise<ShareEntity> {
    for (let attempt = 0; ; attempt++) {
      try {
        const code = newShareCode();
        const result = await this.shares.insert({ ...share, code });
        return this.shares.findOneByOrFail({ id: result.identifiers[0].id as string });
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= 4) throw err;
      }
    }
  }

  findById(id: string): Promise<ShareEntity | null> {
    return this.shares.findOneBy({ id });
  }

  /** The share behind a code, with its password hash and whether its creator is enabled. */
  async findByCodeWithSecret(code: string): Promise<ShareWithSecret | null> {
    const { entities, raw } = await this.shares
      .createQueryBuilder('share')
      .addSelect('share.passwordHash')
      .addSelect(CREATOR_ENABLED, 'creator_enabled')
      .where('share.code = :code', { code })
      .getRawAndEntities<{ creator_enabled: boolean }>();
    const share = entities[0] as ShareWithSecret | undefined;
    if (!share) return null;
    share.creatorEnabled = raw[0]?.creator_enabled === true;
    return share;
  }

  /** Newest first; every share, or the ones `createdBy` made. */
  list(createdBy?: string): Promise<ShareEntity[]> {
    return this.shares.find({
      where: createdBy ? { createdBy } : {},
      order: { createdAt: 'DESC', id: 'ASC' },
    });
  }

  /** Which of these shares have a password (without ever reading the hashes). */
  async withPassword(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.shares
      .createQueryBuilder('share')
      .select('share.id', 'id')
      .where('share.id IN (:...ids)', { ids })
      .andWhere('share.password_hash IS NOT NULL')
      .getRawMany<{ id: string }>();
    return new Set(rows.map((r) => r.id));
  }

  /** True when this call revoked it; false when it was already revoked. */
  async revoke(id: string): Promise<boolean> {
    const result = await this.shares
      .createQueryBuilder()
      .update()
      .set({ revoked: true, revokedAt: () => 'now()' })
      .where('id = :id AND NOT revoked', { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /**
   * Counts one download, if the share still allows one: a single conditional UPDATE, so
   * concurrent downloads on any number of replicas can never pass the cap (PostgreSQL re-checks
   * the WHERE clause against the row each waiting update finally sees). False when refused.
   */
  async claimDownload(id: string): Promise<boolean> {
    const result = await this.shares
      .createQueryBuilder()
      .update()
      .set({ downloadCount: () => 'download_count + 1', lastAccessedAt: () => 'now()' })
      .where('id = :id', { id })
      .andWhere('NOT revoked')
      .andWhere('EXISTS (SELECT 1 FROM users u WHERE u.id = shares.created_by AND u.enabled)')
      .andWhere('(expires_at IS NULL OR expires_at > now())')
      .andWhere('(max_downloads IS NULL OR download_count < max_downloads)')
      .execute();
    return (result.affected ?? 0) === 1;
  }
}
