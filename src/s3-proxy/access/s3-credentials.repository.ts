import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere, QueryFailedError, Raw } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { S3CredentialScopeEntity } from '../s3-credential-scope.entity';
import { S3CredentialEntity } from '../s3-credential.entity';
import { BucketScope } from './access.types';

/** Whose credentials a query may touch: one user's, or (for admins) anyone's. */
export type CredentialOwnerScope = { userId: string } | 'any';

export interface NewCredential {
  accessKey: string;
  secretKeySealed: Buffer;
  userId: string | null;
  description: string;
  expiresAt: Date | null;
  createdBy: string;
  scopes: readonly BucketScope[];
}

export interface CredentialPatch {
  description?: string;
  enabled?: boolean;
  expiresAt?: Date | null;
  updatedBy: string;
  /** Replaces every scope when given. */
  scopes?: readonly BucketScope[];
}

/** A credential holding a namespace scope (never its secret). */
export interface NamespaceHolder {
  backendId: string;
  bucketPrefix: string;
  accessKey: string;
  userId: string | null;
  username: string | null;
  enabled: boolean;
}

export class AccessKeyTakenError extends Error {}
/** An owner tried to re-enable a credential an admin disabled. */
export class AdminDisabledError extends Error {}
export class UnknownUserError extends Error {}

function pgCode(err: unknown): string | undefined {
  return err instanceof QueryFailedError ? (err.driverError as { code?: string }).code : undefined;
}

/**
 * Virtual credentials and their bucket scopes. The sealed secret is written here and never read
 * back (the S3 access directory opens it); every query carries the owner scope it needs.
 */
@Injectable()
export class S3CredentialsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private where(accessKey: string, owner: CredentialOwnerScope): FindOptionsWhere<S3CredentialEntity> {
    return owner === 'any' ? { accessKey } : { accessKey, userId: owner.userId };
  }

  list(owner: CredentialOwnerScope): Promise<S3CredentialEntity[]> {
    return this.dataSource.getRepository(S3CredentialEntity).find({
      where: owner === 'any' ? {} : { userId: owner.userId },
      relations: { scopes: true },
      order: { createdAt: 'ASC', accessKey: 'ASC' },
    });
  }

  /** Every credential holding a namespace scope, with its owner's name (optionally of one namespace). */
  async namespaceHolders(ns?: { backendId: string; prefix: string }): Promise<NamespaceHolder[]> {
    const rows = (await this.dataSource.query(
      `SELECT s.backend_id, s.bucket AS bucket_prefix, c.access_key, c.user_id, u.username, c.enabled
       FROM s3_credential_scopes s
       JOIN s3_credentials c ON c.access_key = s.access_key
       LEFT JOIN users u ON u.id = c.user_id
       WHERE s.kind = 'namespace' AND ($1::text IS NULL OR (s.backend_id = $1 AND s.bucket = $2))
       ORDER BY s.backend_id, s.bucket, c.access_key`,
      [ns?.backendId ?? null, ns?.prefix ?? null],
    )) as Array<{
      backend_id: string;
      bucket_prefix: string;
      access_key: string;
      user_id: string | null;
      username: string | null;
      enabled: boolean;
    }>;
    return rows.map((r) => ({
      backendId: r.backend_id,
      bucketPrefix: r.bucket_prefix,
      accessKey: r.access_key,
      userId: r.user_id,
      username: r.username,
      enabled: r.enabled,
    }));
  }

  find(accessKey: string, owner: CredentialOwnerScope): Promise<S3CredentialEntity | null> {
    return this.dataSource
      .getRepository(S3CredentialEntity)
      .findOne({ where: this.where(accessKey, owner), relations: { scopes: true } });
  }

  async insert(credential: NewCredential): Promise<void> {
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.getRepository(S3CredentialEntity).insert({
          accessKey: credential.accessKey,
          secretKeySealed: credential.secretKeySealed,
          userId: credential.userId,
          description: credential.description,
          expiresAt: credential.expiresAt,
          createdBy: credential.createdBy,
          updatedBy: credential.createdBy,
        });
        await this.insertScopes(manager, credential.accessKey, credential.scopes);
      });
    } catch (err) {
      if (pgCode(err) === '23505') throw new AccessKeyTakenError();
      if (pgCode(err) === '23503') throw new UnknownUserError();
      throw err;
    }
  }

  /** Applies a patch to a credential the owner scope reaches; false when there is none. */
  update(accessKey: string, owner: CredentialOwnerScope, patch: CredentialPatch): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const values: QueryDeepPartialEntity<S3CredentialEntity> = { updatedBy: patch.updatedBy, updatedAt: new Date() };
      if (patch.description !== undefined) values.description = patch.description;
      const where = this.where(accessKey, owner);
      if (patch.enabled === true) {
        values.enabled = true;
        values.disabledBy = null;
        // Only an admin lifts an admin's disable; checked in the same statement that changes it.
        if (owner !== 'any') where.disabledBy = Raw((column) => `${column} IS DISTINCT FROM 'admin'`);
      } else if (patch.enabled === false) {
        values.enabled = false;
        values.disabledBy =
          owner === 'any' ? 'admin' : () => `CASE WHEN "disabled_by" = 'admin' THEN 'admin' ELSE 'owner' END`;
      }
      if (patch.expiresAt !== undefined) values.expiresAt = patch.expiresAt;
      const result = await manager.getRepository(S3CredentialEntity).update(where, values);
      if (!result.affected) {
        if (
          patch.enabled === true &&
          owner !== 'any' &&
          (await manager.getRepository(S3CredentialEntity).exist({ where: this.where(accessKey, owner) }))
        )
          throw new AdminDisabledError();
        return false;
      }
      if (patch.scopes) {
        await manager.getRepository(S3CredentialScopeEntity).delete({ accessKey });
        await this.insertScopes(manager, accessKey, patch.scopes);
      }
      return true;
    });
  }

  /** Deletes a credential the owner scope reaches (its scopes go with it); answers what it was. */
  async delete(accessKey: string, owner: CredentialOwnerScope): Promise<S3CredentialEntity | null> {
    const row = await this.find(accessKey, owner);
    if (!row) return null;
    const result = await this.dataSource.getRepository(S3CredentialEntity).delete(this.where(accessKey, owner));
    return result.affected ? row : null;
  }

  private async insertScopes(manager: EntityManager, accessKey: string, scopes: readonly BucketScope[]) {
    if (scopes.length === 0) return;
    await manager.getRepository(S3CredentialScopeEntity).insert(
      scopes.map((s) => ({
        accessKey,
        backendId: s.backendId,
        bucket: s.bucket,
        kind: s.namespace ? ('namespace' as const) : ('bucket' as const),
        keyPrefix: s.keyPrefix ?? null,
      })),
    );
  }
}
