import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StowageError } from '@stowage/errors';
import { bucketNameProblem } from '@stowage/s3-naming';
import { AuditService } from '../audit/audit.service';
import { BucketSizeTrackingEntity } from '../quotas/bucket-size-tracking.entity';
import { BucketUsageEntity } from '../quotas/bucket-usage.entity';
import { Actor } from '../access/actor';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { BucketDto } from './dto/bucket.dto';

/** Buckets of a backend, with the size facts Stowage keeps about them. */
@Injectable()
export class BucketsService {
  constructor(
    private readonly registry: BackendRegistry,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async list(backendId: string): Promise<BucketDto[]> {
    const backend = this.registry.get(backendId);
    const [buckets, disabled, usage] = await Promise.all([
      backend.listBuckets(),
      this.dataSource.getRepository(BucketSizeTrackingEntity).findBy({ backendId, enabled: false }),
      this.dataSource.getRepository(BucketUsageEntity).findBy({ backendId }),
    ]);
    const off = new Set(disabled.map((d) => d.bucket));
    const sizes = new Map(usage.map((u) => [u.bucket, u]));
    return buckets.map((b) => {
      const tracked = !off.has(b.name);
      const size = tracked ? sizes.get(b.name) : undefined;
      return {
        name: b.name,
        ...(b.createdAt ? { created_at: b.createdAt.toISOString() } : {}),
        size_tracked: tracked,
        ...(size?.scannedAt
          ? { size_bytes: size.bytes, object_count: size.objects, computed_at: size.scannedAt.toISOString() }
          : {}),
      };
    });
  }

  async create(backendId: string, name: string, region: string | undefined, actor: Actor): Promise<void> {
    const backend = this.registry.get(backendId);
    const problem = bucketNameProblem(name);
    if (problem) throw new StowageError('invalid_bucket_name', undefined, `name: ${problem}`);
    await backend.createBucket(name, region);
    await this.record(actor, 'bucket.create', backendId, name);
  }

  async delete(backendId: string, name: string, actor: Actor): Promise<void> {
    const backend = this.registry.forBucket({ backendId, bucket: name });
    await backend.deleteBucket(name);
    await this.dataSource.getRepository(BucketUsageEntity).delete({ backendId, bucket: name });
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
