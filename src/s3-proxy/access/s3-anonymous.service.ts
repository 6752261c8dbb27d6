import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { bucketNameProblem } from '@stowage/s3-naming';
import { AuditService } from '../../audit/audit.service';
import { Actor } from '../../access/actor';
import { BackendRegistry } from '../../storage-backends/backend-registry.service';
import { AnonymousBindingEntity } from '../anonymous-binding.entity';
import { AnonymousBindingDto, AnonymousBindingViewDto, UpsertAnonymousBindingDto } from './dto/anonymous-binding.dto';
import { ChangeAnnouncer } from '../../change-announcer/change-announcer.service';

/** Serialises binding writes so two replicas cannot bind one bucket name to two backends. */
const BINDINGS_LOCK = "hashtext('stowage:s3_anonymous_bindings')";

function toBindingDto(row: AnonymousBindingEntity): AnonymousBindingDto {
  return {
    backend_id: row.backendId,
    bucket: row.bucket,
    mode: row.mode,
    per_source_ip_rps: row.perSourceIpRps,
    created_at: row.createdAt.toISOString(),
    ...(row.createdBy ? { created_by: row.createdBy } : {}),
  };
}

/**
 * Buckets opened for anonymous reads through the S3 proxy. A bucket name is bound at most once
 * across backends, because the proxy picks the backend from the bucket name alone.
 */
@Injectable()
export class S3AnonymousService {
  constructor(
    private readonly config: StowageConfig,
    private readonly registry: BackendRegistry,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: ChangeAnnouncer,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<AnonymousBindingDto[]> {
    const rows = await this.dataSource
      .getRepository(AnonymousBindingEntity)
      .find({ order: { backendId: 'ASC', bucket: 'ASC' } });
    return rows.map(toBindingDto);
  }

  async view(): Promise<AnonymousBindingViewDto[]> {
    return (await this.list()).map((b) => ({ ...b, source: 'db' as const }));
  }

  /** Adds a binding, or changes the mode and rate of an existing one. */
  async upsert(input: UpsertAnonymousBindingDto, actor: Actor): Promise<AnonymousBindingDto> {
    const problem = bucketNameProblem(input.bucket);
    if (problem) throw new StowageError('invalid_bucket_name', undefined, `bucket: ${problem}`);
    this.registry.get(input.backend_id);
    const mode = input.mode ?? 'ReadOnly';
    const rps = input.per_source_ip_rps ?? Math.round(this.config.s3_proxy.anonymous_rps);
    const row = await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(${BINDINGS_LOCK})`);
      const repository = manager.getRepository(AnonymousBindingEntity);
      const other = await repository
        .createQueryBuilder('b')
        .where('b.bucket = :bucket AND b.backend_id <> :backendId', {
          bucket: input.bucket,
          backendId: input.backend_id,
        })
        .getOne();
      if (other)
        throw new StowageError('conflict', 'The bucket name is already bound.', `bound on backend ${other.backendId}`);
      await repository
        .createQueryBuilder()
        .insert()
        .values({
          backendId: input.backend_id,
          bucket: input.bucket,
          mode,
          perSourceIpRps: rps,
          createdBy: actor.identity.id,
        })
        .orUpdate(['mode', 'per_source_ip_rps'], ['backend_id', 'bucket'])
        .execute();
      return repository.findOneByOrFail({ backendId: input.backend_id, bucket: input.bucket });
    });
    await this.events.anonymousChanged(input.bucket);
    await this.audit.recordBy(actor, {
      action: 's3_anonymous.upsert',
      backendId: input.backend_id,
      bucket: input.bucket,
      detail: { mode, per_source_ip_rps: rps },
    });
    return toBindingDto(row);
  }

  async remove(backendId: string, bucket: string, actor: Actor): Promise<void> {
    const result = await this.dataSource.getRepository(AnonymousBindingEntity).delete({ backendId, bucket });
    if (!result.affected) throw new StowageError('not_found', 'Binding not found.');
    await this.events.anonymousChanged(bucket);
    await this.audit.recordBy(actor, { action: 's3_anonymous.delete', backendId, bucket });
  }
}
