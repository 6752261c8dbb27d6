import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageError } from '@stowage/errors';
import { bucketPrefixProblem } from '@stowage/s3-naming';
import { Actor } from '../../access/actor';
import { AuditService } from '../../audit/audit.service';
import { LOGGER } from '../../logging/logging.module';
import { byteLimitsOf } from '../../quotas/quota-limits';
import { QuotaReservations } from '../../quotas/quota-reservations.service';
import { NamespaceLimits, NamespaceQuotaState, NamespaceRef, QuotaStore } from '../../quotas/quota-store';
import { BackendRegistry } from '../../storage-backends/backend-registry.service';
import type { NamespaceDto, NamespaceListDto, NamespaceQuotaDto, SetNamespaceQuotaDto } from './dto/namespace.dto';
import { NamespaceHolder, S3CredentialsRepository } from './s3-credentials.repository';

/** How long the namespaces list and a quota change wait for an upstream's ListBuckets. */
const LIST_BUCKETS_TIMEOUT_MS = 5000;

/**
 * Namespaces (bucket-name prefixes credentials hold) and their quotas: total bytes, enforced by
 * the reservation functions on every write, and the bucket count, taken by the proxy's
 * CreateBucket and recounted from the upstream when a quota is set and at every size scan.
 */
@Injectable()
export class NamespacesService {
  constructor(
    private readonly registry: BackendRegistry,
    private readonly store: QuotaStore,
    private readonly reservations: QuotaReservations,
    private readonly credentials: S3CredentialsRepository,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Every namespace a credential holds or a quota names, with holders, quota and usage. */
  async list(): Promise<NamespaceListDto> {
    const [holders, quotas] = await Promise.all([this.credentials.namespaceHolders(), this.store.namespaceQuotas()]);
    const namespaces = new Map<
      string,
      { ref: NamespaceRef; holders: NamespaceHolder[]; quota?: NamespaceQuotaState }
    >();
    const entryOf = (ref: NamespaceRef) => {
      const key = `${ref.backendId}\u0000${ref.prefix}`;
      let entry = namespaces.get(key);
      if (!entry) namespaces.set(key, (entry = { ref, holders: [] }));
      return entry;
    };
    for (const h of holders) entryOf({ backendId: h.backendId, prefix: h.bucketPrefix }).holders.push(h);
    for (const q of quotas) entryOf({ backendId: q.quota.backendId, prefix: q.quota.bucketPrefix }).quota = q;
    const entries = [...namespaces.values()].sort(
      (a, b) => a.ref.backendId.localeCompare(b.ref.backendId) || a.ref.prefix.localeCompare(b.ref.prefix),
    );
    // Namespaces without a quota keep no count: their buckets are listed upstream (once per backend).
    const uncounted = new Set(entries.filter((e) => !e.quota).map((e) => e.ref.backendId));
    const bucketNames = new Map<string, string[]>();
    await Promise.all(
      [...uncounted].map(async (backendId) => {
        const names = await this.bucketNames(backendId);
        if (names) bucketNames.set(backendId, names);
      }),
    );
    const out: NamespaceDto[] = [];
    for (const { ref, holders: held, quota } of entries) {
      const state = quota ?? (await this.store.namespaceUsage(ref));
      const names = bucketNames.get(ref.backendId);
      const count = quota ? undefined : names?.filter((name) => inNamespace(name, ref.prefix)).length;
      out.push({
        ...toDto(ref, quota, state),
        ...(count !== undefined ? { bucket_count: count } : {}),
        credentials: held.map((h) => ({
          access_key: h.accessKey,
          ...(h.userId ? { user_id: h.userId } : {}),
          ...(h.username ? { username: h.username } : {}),
          enabled: h.enabled,
        })),
      });
    }
    return { namespaces: out };
  }

  async get(ref: NamespaceRef): Promise<NamespaceQuotaDto> {
    this.check(ref);
    const [quota] = await this.store.namespaceQuotas(ref.backendId, ref.prefix);
    return toDto(ref, quota, quota ?? (await this.store.namespaceUsage(ref)));
  }

  async set(ref: NamespaceRef, body: SetNamespaceQuotaDto, actor: Actor): Promise<NamespaceQuotaDto> {
    this.check(ref);
    const limits: NamespaceLimits = { ...byteLimitsOf(body), maxBuckets: maxBucketsOf(body.max_buckets) };
    if (limits.softBytes === null && limits.hardBytes === null && limits.maxBuckets === null) {
      throw new StowageError(
        'invalid_quota',
        undefined,
        'set soft_bytes, hard_bytes, max_buckets or several; DELETE the quota to remove it',
      );
    }
    const result = await this.store.upsertNamespaceQuota(ref, limits, actor.identity.id);
    if ('overlaps' in result) {
      throw new StowageError(
        'conflict',
        undefined,
        `the namespace ${result.overlaps} of this backend has a quota and overlaps ${ref.prefix}: a bucket may be in one namespace quota only`,
      );
    }
    this.reservations.limitsChanged();
    // The bucket count starts from what the upstream holds.
    const names = await this.bucketNames(ref.backendId);
    if (names) await this.store.recountNamespaceBuckets(ref.backendId, names, ref.prefix);
    await this.audit.recordBy(actor, {
      action: 'namespace_quota.set',
      backendId: ref.backendId,
      detail: {
        bucket_prefix: ref.prefix,
        soft_bytes: limits.softBytes,
        hard_bytes: limits.hardBytes,
        max_buckets: limits.maxBuckets,
      },
    });
    return this.get(ref);
  }

  async delete(ref: NamespaceRef, actor: Actor): Promise<void> {
    this.check(ref);
    const existed = await this.store.deleteNamespaceQuota(ref);
    this.reservations.limitsChanged();
    if (!existed) throw new StowageError('not_found', undefined, 'the namespace has no quota');
    await this.audit.recordBy(actor, {
      action: 'namespace_quota.delete',
      backendId: ref.backendId,
      detail: { bucket_prefix: ref.prefix },
    });
  }

  /** The prefix follows the namespace rules (`invalid_prefix`) and the backend exists (`not_found`). */
  private check(ref: NamespaceRef): void {
    const problem = bucketPrefixProblem(ref.prefix);
    if (problem) throw new StowageError('invalid_prefix', undefined, `bucket_prefix: ${problem}`);
    this.registry.get(ref.backendId);
  }

  /** The names of a backend's buckets, or undefined when it does not answer. */
  private async bucketNames(backendId: string): Promise<string[] | undefined> {
    const entry = this.registry.entry(backendId);
    if (!entry) return undefined;
    try {
      const buckets = await entry.backend.listBuckets(AbortSignal.timeout(LIST_BUCKETS_TIMEOUT_MS));
      return buckets.map((b) => b.name);
    } catch (err) {
      this.logger.warn({ backend: backendId, err: (err as Error).message }, 'could not list buckets of a namespace');
      return undefined;
    }
  }
}

function inNamespace(bucket: string, prefix: string): boolean {
  return bucket.length > prefix.length && bucket.startsWith(prefix);
}

/** `max_buckets` from the request body: absent or null means none, else a non-negative safe integer. */
function maxBucketsOf(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new StowageError('invalid_quota', undefined, 'max_buckets: must be a whole number from 0 to 2147483647');
  }
  return value;
}

function toDto(
  ref: NamespaceRef,
  state: NamespaceQuotaState | undefined,
  usage: { usedBytes: number; reservedBytes: number },
): NamespaceQuotaDto {
  const q = state?.quota;
  return {
    backend_id: ref.backendId,
    bucket_prefix: ref.prefix,
    configured: q !== undefined,
    ...(q?.softBytes != null ? { soft_bytes: q.softBytes } : {}),
    ...(q?.hardBytes != null ? { hard_bytes: q.hardBytes } : {}),
    ...(q?.maxBuckets != null ? { max_buckets: q.maxBuckets } : {}),
    ...(q ? { updated_at: q.updatedAt.toISOString() } : {}),
    ...(q?.updatedBy ? { updated_by: q.updatedBy } : {}),
    usage_bytes: usage.usedBytes,
    reserved_bytes: usage.reservedBytes,
    ...(q ? { bucket_count: q.bucketCount } : {}),
    ...(q?.bucketsCountedAt ? { buckets_counted_at: q.bucketsCountedAt.toISOString() } : {}),
    soft_exceeded: Boolean(q?.softExceededAt),
    ...(q?.softExceededAt ? { soft_exceeded_at: q.softExceededAt.toISOString() } : {}),
    hard_exceeded: q?.hardBytes != null && usage.usedBytes >= q.hardBytes,
  };
}
