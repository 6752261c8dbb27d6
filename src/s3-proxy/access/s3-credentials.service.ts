import { Injectable } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { AuditService } from '../../audit/audit.service';
import { Actor } from '../../access/actor';
import { RootKeyService } from '../../secrets/root-key.service';
import { BackendRegistry } from '../../storage-backends/backend-registry.service';
import { UsersRepository } from '../../users/users.repository';
import { S3CredentialEntity } from '../s3-credential.entity';
import { BucketScope } from './access.types';
import { scopesProblem } from './scopes';
import { credentialSecretContext, generateAccessKey, generateSecretKey } from './access-keys';
import { ProxyUrls } from './proxy-urls';
import {
  CreateS3CredentialDto,
  PatchS3CredentialDto,
  S3CredentialDto,
  S3CredentialViewDto,
  ScopeInputDto,
  BucketScopeDto,
} from './dto/s3-credential.dto';
import { ChangeAnnouncer } from '../../change-announcer/change-announcer.service';
import {
  AccessKeyTakenError,
  AdminDisabledError,
  CredentialOwnerScope,
  S3CredentialsRepository,
  UnknownUserError,
} from './s3-credentials.repository';

const MINT_ATTEMPTS = 3;

const notFound = () => new StowageError('not_found', 'Credential not found.');
const adminDisabled = () =>
  new StowageError('forbidden', 'An administrator disabled this credential; only an administrator can enable it.');

/** A credential row as the API shows it; `urls` and `host` (the request's host name) give its URLs. */
export function toCredentialDto(row: S3CredentialEntity, urls: ProxyUrls, host?: string): S3CredentialDto {
  const sorted = [...(row.scopes ?? [])].sort(
    (a, b) => a.bucket.localeCompare(b.bucket) || a.backendId.localeCompare(b.backendId),
  );
  const scopes = sorted.map((s) =>
    s.kind === 'namespace'
      ? { backend_id: s.backendId, bucket_prefix: s.bucket }
      : { backend_id: s.backendId, bucket: s.bucket, ...(s.keyPrefix !== null ? { key_prefix: s.keyPrefix } : {}) },
  );
  const exact = sorted.filter((s) => s.kind !== 'namespace');
  const backends = new Set(scopes.map((s) => s.backend_id));
  const endpoint = urls.endpoint(host);
  return {
    access_key: row.accessKey,
    backend_id: backends.size === 1 ? scopes[0].backend_id : '',
    buckets: exact.map((s) => s.bucket),
    namespaces: sorted.filter((s) => s.kind === 'namespace').map((s) => s.bucket),
    scopes,
    endpoint_url: endpoint,
    bucket_urls: exact.map((s) => urls.bucket(endpoint, s.backendId, s.bucket)),
    ...(row.userId ? { user_id: row.userId } : {}),
    description: row.description,
    enabled: row.enabled,
    ...(row.disabledBy ? { disabled_by: row.disabledBy } : {}),
    ...(row.expiresAt ? { expires_at: row.expiresAt.toISOString() } : {}),
    ...(row.lastUsedAt ? { last_used_at: row.lastUsedAt.toISOString() } : {}),
    created_at: row.createdAt.toISOString(),
    ...(row.createdBy ? { created_by: row.createdBy } : {}),
    updated_at: row.updatedAt.toISOString(),
    ...(row.updatedBy ? { updated_by: row.updatedBy } : {}),
  };
}

/**
 * Minting, changing and revoking virtual S3 credentials. The secret is generated here, sealed
 * with the root key and shown once, in the answer to the request that created it. Every change
 * is audited and announced to every replica's S3 access directory.
 */
@Injectable()
export class S3CredentialsService {
  constructor(
    private readonly repository: S3CredentialsRepository,
    private readonly registry: BackendRegistry,
    private readonly users: UsersRepository,
    private readonly rootKey: RootKeyService,
    private readonly events: ChangeAnnouncer,
    private readonly audit: AuditService,
    config: StowageConfig,
  ) {
    this.urls = new ProxyUrls(config.s3_proxy, config.server);
  }

  private readonly urls: ProxyUrls;

  /** `host`: the host name of the API request, for the credentials' URLs (see {@link ProxyUrls}). */
  async list(owner: CredentialOwnerScope, host?: string): Promise<S3CredentialDto[]> {
    return (await this.repository.list(owner)).map((row) => toCredentialDto(row, this.urls, host));
  }

  /** Every stored credential as the proxy sees them (there is no other source). */
  async view(host?: string): Promise<S3CredentialViewDto[]> {
    return (await this.list('any', host)).map((c) => ({ ...c, source: 'db' as const }));
  }

  /**
   * Mints a credential for `ownerId` (null: nobody's). `self` marks the self-service routes,
   * where the owner is the caller.
   */
  async create(input: CreateS3CredentialDto, ownerId: string | null, actor: Actor, self: boolean, host?: string) {
    const sealer = this.rootKey.require();
    const scopes = this.resolveScopes(input, undefined, self);
    if (!scopes) throw new StowageError('bad_request', undefined, 'buckets: at least one bucket is required');
    const expiresAt = this.futureDate(input.expires_at);
    if (ownerId && !self && !(await this.users.findById(ownerId)))
      throw new StowageError('not_found', 'User not found.', 'user_id');
    const secretKey = generateSecretKey();
    let accessKey = '';
    for (let attempt = 1; ; attempt++) {
      accessKey = generateAccessKey();
      try {
        await this.repository.insert({
          accessKey,
          secretKeySealed: sealer.seal(secretKey, credentialSecretContext(accessKey)),
          userId: ownerId,
          description: input.description ?? '',
          expiresAt,
          createdBy: actor.identity.id,
          scopes,
        });
        break;
      } catch (err) {
        if (err instanceof UnknownUserError) throw new StowageError('not_found', 'User not found.', 'user_id');
        if (!(err instanceof AccessKeyTakenError) || attempt >= MINT_ATTEMPTS) throw err;
      }
    }
    await this.events.credentialChanged(accessKey);
    await this.record(actor, 's3_credential.create', accessKey, ownerId, scopes, {
      self,
      ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
    });
    const row = await this.repository.find(accessKey, 'any');
    if (!row) throw notFound();
    return { ...toCredentialDto(row, this.urls, host), secret_key: secretKey };
  }

  async update(
    accessKey: string,
    input: PatchS3CredentialDto,
    owner: CredentialOwnerScope,
    actor: Actor,
    host?: string,
  ): Promise<S3CredentialDto> {
    const current = await this.repository.find(accessKey, owner);
    if (!current) throw notFound();
    const backends = new Set((current.scopes ?? []).map((s) => s.backendId));
    const scopes = this.resolveScopes(input, backends.size === 1 ? [...backends][0] : undefined, owner !== 'any');
    const expiresAt =
      input.expires_at === undefined ? undefined : input.expires_at ? this.futureDate(input.expires_at) : null;
    if (owner !== 'any' && input.enabled === true && current.disabledBy === 'admin') throw adminDisabled();
    const changed = await this.repository
      .update(accessKey, owner, {
        ...(input.description != null ? { description: input.description } : {}),
        ...(input.enabled != null ? { enabled: input.enabled } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(scopes ? { scopes } : {}),
        updatedBy: actor.identity.id,
      })
      .catch((err: unknown) => {
        throw err instanceof AdminDisabledError ? adminDisabled() : err;
      });
    if (!changed) throw notFound();
    await this.events.credentialChanged(accessKey);
    const changes = Object.entries(input)
      .filter(([, value]) => value !== undefined)
      .map(([key]) => key);
    await this.record(actor, 's3_credential.update', accessKey, current.userId, scopes, {
      self: owner !== 'any',
      changes,
      ...(input.enabled != null ? { enabled: input.enabled } : {}),
    });
    const row = await this.repository.find(accessKey, owner);
    if (!row) throw notFound();
    return toCredentialDto(row, this.urls, host);
  }

  async revoke(accessKey: string, owner: CredentialOwnerScope, actor: Actor): Promise<void> {
    const removed = await this.repository.delete(accessKey, owner);
    if (!removed) throw notFound();
    await this.events.credentialChanged(accessKey);
    await this.record(actor, 's3_credential.delete', accessKey, removed.userId, undefined, {
      self: owner !== 'any',
    });
  }

  /**
   * The scopes a request asks for, checked: names valid, backends known, one scope per bucket
   * name (the proxy picks the backend from the bucket name alone). Undefined when not given.
   */
  private resolveScopes(input: ScopeInputDto, currentBackend?: string, self = false): BucketScope[] | undefined {
    let scopes: BucketScope[];
    if (input.scopes != null) {
      if (input.buckets != null || input.backend_id != null)
        throw new StowageError('bad_request', undefined, 'scopes: give either scopes, or backend_id with buckets');
      scopes = input.scopes.map((s) => scopeOfInput(s, self));
    } else if (input.buckets != null) {
      const backendId = input.backend_id ?? currentBackend;
      if (!backendId) throw new StowageError('bad_request', undefined, 'backend_id: required with buckets');
      scopes = input.buckets.map((bucket) => ({ backendId, bucket }));
    } else if (input.backend_id != null) {
      throw new StowageError('bad_request', undefined, 'buckets: required with backend_id');
    } else {
      return undefined;
    }
    const seen = new Set<string>();
    for (const { bucket } of scopes) {
      if (seen.has(bucket))
        throw new StowageError('bad_request', undefined, `buckets: ${bucket} is listed more than once`);
      seen.add(bucket);
    }
    const problem = scopesProblem(scopes);
    if (problem?.field === 'name') throw new StowageError('invalid_bucket_name', undefined, problem.message);
    if (problem) throw new StowageError('bad_request', undefined, `scopes: ${problem.message}`);
    for (const backendId of new Set(scopes.map((s) => s.backendId))) this.registry.get(backendId);
    return scopes;
  }

  private futureDate(value: string | undefined): Date | null {
    if (!value) return null;
    const date = new Date(value);
    if (Number.isNaN(date.getTime()) || date.getTime() <= Date.now())
      throw new StowageError('bad_request', undefined, 'expires_at: must be in the future');
    return date;
  }

  private record(
    actor: Actor,
    action: string,
    accessKey: string,
    ownerId: string | null,
    scopes: readonly BucketScope[] | undefined,
    detail: Record<string, unknown>,
  ) {
    const backends = scopes ? [...new Set(scopes.map((s) => s.backendId))] : [];
    return this.audit.recordBy(actor, {
      action,
      backendId: backends.length === 1 ? backends[0] : null,
      detail: {
        access_key: accessKey,
        ...(ownerId ? { owner_id: ownerId } : {}),
        ...(scopes ? { scopes: scopes.map(scopeDetail) } : {}),
        ...detail,
      },
    });
  }
}

/** One scope of a request, as the proxy keeps it; a namespace is for administrators to grant. */
function scopeOfInput(s: BucketScopeDto, self: boolean): BucketScope {
  if ((s.bucket == null) === (s.bucket_prefix == null))
    throw new StowageError('bad_request', undefined, 'scopes: each scope names either bucket or bucket_prefix');
  if (s.bucket_prefix != null) {
    if (s.key_prefix != null)
      throw new StowageError('bad_request', undefined, 'scopes: key_prefix goes with bucket, not bucket_prefix');
    if (self) throw new StowageError('forbidden', 'Only an administrator can grant a namespace (bucket_prefix).');
    return { backendId: s.backend_id, bucket: s.bucket_prefix, namespace: true };
  }
  const bucket = s.bucket as string;
  return s.key_prefix != null
    ? { backendId: s.backend_id, bucket, keyPrefix: s.key_prefix }
    : { backendId: s.backend_id, bucket };
}

function scopeDetail(s: BucketScope): Record<string, string> {
  if (s.namespace) return { backend_id: s.backendId, bucket_prefix: s.bucket };
  return {
    backend_id: s.backendId,
    bucket: s.bucket,
    ...(s.keyPrefix !== undefined ? { key_prefix: s.keyPrefix } : {}),
  };
}
