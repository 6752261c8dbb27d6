import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { StowageError } from '@stowage/errors';
import { Actor } from '../access/actor';
import { AuditService } from '../audit/audit.service';
import { BucketQuotaEntity } from '../quotas/bucket-quota.entity';
import { BucketUsageEntity } from '../quotas/bucket-usage.entity';
import { byteLimitsOf } from '../quotas/quota-limits';
import { QuotaReservations } from '../quotas/quota-reservations.service';
import { BucketRef, QuotaStore } from '../quotas/quota-store';
import { ScanBucketPayload, scanJobId, SIZE_SCAN_QUEUE, SizeScanJob } from '../quotas/size-scan.jobs';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { BucketQuotaStateDto, QuotaDto, SetQuotaDto, SizeTrackingStateDto } from './dto/quota.dto';

/** How long a recompute waits for its scan before answering with the state so far. */
export const RECOMPUTE_WAIT_MS = 30_000;
const POLL_MS = 100;

/** Per-bucket quotas, the size-tracking switch and on-demand recounts. */
@Injectable()
export class BucketQuotasService {
  constructor(
    private readonly registry: BackendRegistry,
    private readonly store: QuotaStore,
    private readonly reservations: QuotaReservations,
    private readonly audit: AuditService,
    @InjectQueue(SIZE_SCAN_QUEUE) private readonly scans: Queue<ScanBucketPayload>,
  ) {}

  async get(ref: BucketRef): Promise<QuotaDto> {
    this.registry.forBucket(ref);
    const [quota, usage] = await Promise.all([this.store.quota(ref), this.store.usage(ref)]);
    return toQuotaDto(quota, usage);
  }

  async set(ref: BucketRef, body: SetQuotaDto, actor: Actor): Promise<QuotaDto> {
    const backend = this.registry.forBucket(ref);
    const { softBytes, hardBytes } = byteLimitsOf(body);
    if (softBytes === null && hardBytes === null) {
      throw new StowageError(
        'invalid_quota',
        undefined,
        'set soft_bytes, hard_bytes or both; DELETE the quota to remove it',
      );
    }
    await backend.headBucket(ref.bucket);
    const quota = await this.store.upsertQuota(ref, { softBytes, hardBytes }, actor.identity.id);
    this.reservations.limitChanged(ref);
    await this.audit.recordBy(actor, {
      action: 'quota.set',
      backendId: ref.backendId,
      bucket: ref.bucket,
      detail: { soft_bytes: softBytes, hard_bytes: hardBytes },
    });
    const usage = await this.store.usage(ref);
    // A bucket never counted gets counted now, so the quota has a usage to go by.
    if (!usage?.scannedAt) await this.enqueueScan(ref, 'recompute').catch(() => undefined);
    return toQuotaDto(quota, usage);
  }

  async delete(ref: BucketRef, actor: Actor): Promise<void> {
    this.registry.forBucket(ref);
    const existed = await this.store.deleteQuota(ref);
    this.reservations.limitChanged(ref);
    if (!existed) throw new StowageError('not_found', undefined, 'the bucket has no quota');
    await this.audit.recordBy(actor, { action: 'quota.delete', backendId: ref.backendId, bucket: ref.bucket });
  }

  /**
   * Counts the bucket again now (through the scan queue, so it never runs twice at once) and
   * answers the new figures; a count still running after 30 s is answered with `scan_running`.
   */
  async recompute(ref: BucketRef): Promise<QuotaDto> {
    const backend = this.registry.forBucket(ref);
    await backend.headBucket(ref.bucket);
    const before = await this.store.usage(ref);
    const lastCount = before?.scannedAt?.getTime() ?? 0;
    const lastChange = before?.updatedAt?.getTime() ?? 0;
    await this.enqueueScan(ref, 'recompute');
    const deadline = Date.now() + RECOMPUTE_WAIT_MS;
    for (;;) {
      const usage = await this.store.usage(ref);
      const finished = (usage?.scannedAt?.getTime() ?? 0) > lastCount;
      const failed = !finished && Boolean(usage?.lastError) && (usage?.updatedAt.getTime() ?? 0) > lastChange;
      if (finished || failed || Date.now() >= deadline) {
        const dto = toQuotaDto(await this.store.quota(ref), usage);
        if (!finished && !failed) dto.scan_running = true;
        return dto;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async getTracking(ref: BucketRef): Promise<SizeTrackingStateDto> {
    this.registry.forBucket(ref);
    const row = await this.store.tracking(ref);
    return toTrackingDto(row?.enabled ?? true, row?.updatedAt, row?.updatedBy);
  }

  async setTracking(ref: BucketRef, enabled: boolean, actor: Actor): Promise<SizeTrackingStateDto> {
    const backend = this.registry.forBucket(ref);
    await backend.headBucket(ref.bucket);
    const row = await this.store.setTracking(ref, enabled, actor.identity.id);
    await this.audit.recordBy(actor, {
      action: 'bucket.size_tracking.set',
      backendId: ref.backendId,
      bucket: ref.bucket,
      detail: { enabled },
    });
    if (enabled) await this.enqueueScan(ref, 'recompute').catch(() => undefined);
    return toTrackingDto(enabled, row.updatedAt, row.updatedBy);
  }

  /** Whether the size of the bucket may be walked (size_tracking_disabled otherwise). */
  async assertTracked(ref: BucketRef): Promise<void> {
    const row = await this.store.tracking(ref);
    if (row && !row.enabled) throw new StowageError('size_tracking_disabled');
  }

  private async enqueueScan(ref: BucketRef, reason: ScanBucketPayload['reason']): Promise<void> {
    await this.scans.add(
      SizeScanJob.ScanBucket,
      { backendId: ref.backendId, bucket: ref.bucket, reason },
      { jobId: scanJobId(ref.backendId, ref.bucket), removeOnComplete: true, removeOnFail: true },
    );
  }
}

export function quotaStateOf(quota: BucketQuotaEntity, usage: BucketUsageEntity | undefined): BucketQuotaStateDto {
  return {
    ...(quota.softBytes !== null ? { soft_bytes: quota.softBytes } : {}),
    ...(quota.hardBytes !== null ? { hard_bytes: quota.hardBytes } : {}),
    soft_exceeded: Boolean(usage?.softExceededAt),
    hard_exceeded: quota.hardBytes !== null && usage !== undefined && usage.bytes >= quota.hardBytes,
  };
}

function toQuotaDto(quota: BucketQuotaEntity | null, usage: BucketUsageEntity | null): QuotaDto {
  const counted = usage !== null && (usage.scannedAt !== null || usage.bytes > 0 || usage.objects > 0);
  return {
    configured: quota !== null,
    ...(quota?.softBytes != null ? { soft_bytes: quota.softBytes } : {}),
    ...(quota?.hardBytes != null ? { hard_bytes: quota.hardBytes } : {}),
    ...(quota ? { updated_at: quota.updatedAt.toISOString() } : {}),
    ...(quota?.updatedBy ? { updated_by: quota.updatedBy } : {}),
    has_usage: counted,
    ...(counted && usage
      ? {
          usage_bytes: usage.bytes,
          object_count: usage.objects,
          ...(usage.scannedAt ? { computed_at: usage.scannedAt.toISOString() } : {}),
        }
      : {}),
    reserved_bytes: usage?.reservedBytes ?? 0,
    soft_exceeded: Boolean(usage?.softExceededAt),
    ...(usage?.softExceededAt ? { soft_exceeded_at: usage.softExceededAt.toISOString() } : {}),
    hard_exceeded: quota?.hardBytes != null && usage !== null && usage.bytes >= quota.hardBytes,
    ...(usage?.lastError ? { last_error: usage.lastError } : {}),
  };
}

function toTrackingDto(enabled: boolean, updatedAt?: Date, updatedBy?: string | null): SizeTrackingStateDto {
  return {
    enabled,
    ...(updatedAt ? { updated_at: updatedAt.toISOString() } : {}),
    ...(updatedBy ? { updated_by: updatedBy } : {}),
  };
}
