import { Injectable } from '@nestjs/common';
import { StowageError } from '@stowage/errors';
import { bucketNameProblem } from '@stowage/s3-naming';
import { AuditService } from '../audit/audit.service';
import { QuotaStore } from '../quotas/quota-store';
import { Actor } from '../access/actor';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { quotaStateOf } from './bucket-quotas.service';
import { BucketDto } from './dto/bucket.dto';

/** Buckets of a backend, with the size facts Stowage keeps about them. */
@Injectable()
export class BucketsService {
  constructor(
    private readonly registry: BackendRegistry,
    private readonly quotas: QuotaStore,
    private readonly audit: AuditService,
  ) {}

  async list(backendId: string): Promise<BucketDto[]> {
    const backend = this.registry.get(backendId);
    const [buckets, disabled, usage, quotas] = await Promise.all([
      backend.listBuckets(),
      this.quotas.untrackedOf(backendId),
      this.quotas.usageOf(backendId),
      this.quotas.quotasOf(backendId),
    ]);
    const off = new Set(disabled.map((d) => d.bucket));
    const sizes = new Map(usage.map((u) => [u.bucket, u]));
    const limits = new Map(quotas.map((q) => [q.bucket, q]));
    return buckets.map((b) => {
      const tracked = !off.has(b.name);
      const size = sizes.get(b.name);
      const quota = limits.get(b.name);
      const shown = tracked && size && (size.scannedAt || quota) ? size : undefined;
      return {
        name: b.name,
        ...(b.createdAt ? { created_at: b.createdAt.toISOString() } : {}),
        size_tracked: tracked,
        ...(shown
          ? {
              size_bytes: shown.bytes,
              object_count: shown.objects,
              ...(shown.scannedAt ? { computed_at: shown.scannedAt.toISOString() } : {}),
            }
          : {}),
        ...(quota ? { quota: quotaStateOf(quota, size) } : {}),
      };
    });
  }

  async create(backendId: string, name: string, region: string | undefined, actor: Actor): Promise<void> {
    const backend = this.registry.get(backendId);
    const problem = bucketNameProblem(name);
    if (problem) throw new StowageError('invalid_bucket_name', undefined, `name: ${problem}`);
    await backend.createBucket(name, region);
    await this.quotas.countCreatedBucket({ backendId, bucket: name });
    await this.record(actor, 'bucket.create', backendId, name);
  }

  async delete(backendId: string, name: string, actor: Actor): Promise<void> {
    const backend = this.registry.forBucket({ backendId, bucket: name });
    await backend.deleteBucket(name);
    await this.quotas.forgetBucket({ backendId, bucket: name });
    await this.quotas.giveBucketSlot({ backendId, bucket: name });
    await this.record(actor, 'bucket.delete', backendId, name);
  }

  private record(actor: Actor, action: string, backendId: string, bucket: string) {
    return this.audit.recordBy(actor, {
      action,
      backendId,
      bucket,
    });
  }
}
