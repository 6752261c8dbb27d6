import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { AuditRecord } from './audit.types';
import { Actor, RequestOrigin } from '../access/actor';

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
      await this.dataSource.query(INSERT_EVENTS, columnsOf(events));
    } catch (err) {
      this.metrics.auditWriteFailures.inc(events.length);
      this.logger.error(
        { err: (err as Error).message, action: events[0].action, reqId: events[0].requestId, events: events.length },
        'audit write failed',
      );
    }
  }
}

/**
 * One INSERT of any number of rows: each column travels as one array parameter, so a batch
 * costs the same handful of parameters however large it is.
 */
const INSERT_EVENTS = `
  INSERT INTO audit_events (action, user_id, username, backend_id, bucket, object_key, request_id, ip, user_agent, status, detail)
  SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::jsonb[])`;

function columnsOf(events: readonly AuditRecord[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 11 }, () => new Array<unknown>(events.length));
  events.forEach((event, i) => {
    columns[0][i] = event.action;
    columns[1][i] = event.userId ?? null;
    columns[2][i] = event.username ?? null;
    columns[3][i] = event.backendId ?? null;
    columns[4][i] = event.bucket ?? null;
    columns[5][i] = event.key ?? null;
    columns[6][i] = event.requestId ?? null;
    columns[7][i] = event.ip ?? null;
    columns[8][i] = event.userAgent ?? null;
    columns[9][i] = event.status ?? 'ok';
    columns[10][i] = event.detail === undefined ? null : JSON.stringify(event.detail);
  });
  return columns;
}
