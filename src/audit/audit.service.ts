import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { AuditEventEntity } from './audit-event.entity';
import { Actor, AuditRecord, RequestOrigin } from './audit.types';

/**
 * The audit seam: every module records its catalogue actions through `record`. A failed write
 * is logged and counted, never thrown: the action itself has already happened.
 */
@Injectable()
export class AuditService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Records an action done by a signed-in user, from where they did it. */
  recordBy(actor: Actor, event: Omit<AuditRecord, keyof RequestOrigin | 'userId' | 'username'>): Promise<void> {
    return this.record({ ...actor.origin, ...event, userId: actor.identity.id, username: actor.identity.username });
  }

  record(event: AuditRecord): Promise<void> {
    return this.recordMany([event]);
  }

  /** Writes several events in one statement (high-volume recorders batch through this). */
  async recordMany(events: readonly AuditRecord[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.dataSource.getRepository(AuditEventEntity).insert(events.map(toRow));
    } catch (err) {
      this.metrics.auditWriteFailures.inc(events.length);
      this.logger.error(
        { err: (err as Error).message, action: events[0].action, reqId: events[0].requestId, events: events.length },
        'audit write failed',
      );
    }
  }
}

function toRow(event: AuditRecord): Partial<AuditEventEntity> {
  return {
    action: event.action,
    userId: event.userId ?? null,
    username: event.username ?? null,
    backendId: event.backendId ?? null,
    bucket: event.bucket ?? null,
    objectKey: event.key ?? null,
    requestId: event.requestId ?? null,
    ip: event.ip ?? null,
    userAgent: event.userAgent ?? null,
    status: event.status ?? 'ok',
    detail: event.detail ?? null,
  };
}
