import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { GroupCommit, GroupCommitFullError } from '@stowage/concurrency';
import { dependencyOutage, StowageError } from '@stowage/errors';
import { LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { AuditRecord } from './audit.types';
import { Actor, RequestOrigin } from '../access/actor';

/** Most rows one INSERT carries. */
const MAX_BATCH = 1000;
/** Most rows waiting for a write; beyond it durable records are refused and best-effort ones dropped. */
const MAX_WAITING = 50_000;
/** After a failed write, how long durable records are refused up front (the store is presumed away). */
const OUTAGE_HOLD_MS = 1000;

/**
 * The audit seam: every module records its catalogue actions here. Rows are group-committed
 * (see `GroupCommit`): the first row waiting starts an INSERT at once, rows arriving meanwhile
 * share the next one. Two ways to record:
 *
 * - `record` / `recordBy` (mutations): resolve once the row is committed; when it cannot be,
 *   they throw `store_unavailable` (503, Retry-After) so the caller never reports an unaudited
 *   success.
 * - `note` (reads, refusals, failed sign-ins): the same write, but a failure is logged and
 *   counted, never thrown.
 */
@Injectable()
export class AuditService implements OnApplicationShutdown {
  private readonly commits: GroupCommit<AuditRecord>;
  private failedAt = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.commits = new GroupCommit((events) => this.insert(events), { maxBatch: MAX_BATCH, maxWaiting: MAX_WAITING });
    metrics.auditPending(() => this.commits.pending);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.commits.idle();
  }

  /** Records an action done by a signed-in user, from where they did it; durable as `record`. */
  recordBy(actor: Actor, event: Omit<AuditRecord, keyof RequestOrigin | 'userId' | 'username'>): Promise<void> {
    return this.record({ ...actor.origin, ...event, userId: actor.identity.id, username: actor.identity.username });
  }

  /** As `recordBy`, best-effort (as `note`). */
  noteBy(actor: Actor, event: Omit<AuditRecord, keyof RequestOrigin | 'userId' | 'username'>): Promise<void> {
    return this.note({ ...actor.origin, ...event, userId: actor.identity.id, username: actor.identity.username });
  }

  /** Resolves once the row is committed; throws `store_unavailable` (an outage) when it cannot be. */
  async record(event: AuditRecord): Promise<void> {
    const waited = this.metrics.auditCommitWait.startTimer();
    try {
      await this.commits.add(event);
      waited({ result: 'ok' });
    } catch (err) {
      waited({ result: 'error' });
      this.failed(err, [event]);
      throw StowageError.outage(
        'store_unavailable',
        'The audit log cannot be written; the change could not be confirmed. Please try again shortly.',
        err,
      );
    }
  }

  /** Writes the row as `record` does; a failure is logged and counted, never thrown. */
  note(event: AuditRecord): Promise<void> {
    return this.commits.add(event).catch((err: unknown) => this.failed(err, [event]));
  }

  /**
   * Whether a durable record can be expected to succeed: false for a moment after a write
   * failed, so callers can refuse a mutation before doing it rather than after.
   */
  get available(): boolean {
    return Date.now() - this.failedAt >= OUTAGE_HOLD_MS;
  }

  /** Rows waiting for a write. */
  get pending(): number {
    return this.commits.pending;
  }

  /**
   * One INSERT for the batch. Should the database refuse it for its content rather than an
   * outage, the rows are tried one by one so one bad row cannot fail the others.
   */
  private async insert(events: AuditRecord[]): Promise<void | unknown[]> {
    const end = this.metrics.auditCommitDuration.startTimer();
    try {
      await this.insertRows(events);
      end();
      this.metrics.auditCommitRows.observe(events.length);
      return;
    } catch (err) {
      if (events.length === 1 || dependencyOutage(err)) {
        this.writeFailed(err, events);
        throw err;
      }
    }
    const outcomes: unknown[] = [];
    for (const event of events) {
      try {
        await this.insertRows([event]);
        outcomes.push(undefined);
      } catch (err) {
        this.writeFailed(err, [event]);
        outcomes.push(err);
      }
    }
    return outcomes;
  }

  /**
   * The INSERT as a named (prepared) statement: PostgreSQL parses and plans it once per
   * connection, which takes a good part off the time a lone row waits for its commit.
   */
  private async insertRows(events: readonly AuditRecord[]): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PreparedClient;
      await client.query({ name: 'stowage_audit_insert', text: INSERT_EVENTS, values: columnsOf(events) });
    } finally {
      await runner.release();
    }
  }

  private writeFailed(err: unknown, events: AuditRecord[]): void {
    if (dependencyOutage(err)) this.failedAt = Date.now();
    this.metrics.auditWriteFailures.inc(events.length);
    this.logger.error(
      { err: (err as Error).message, action: events[0].action, reqId: events[0].requestId, events: events.length },
      'audit write failed',
    );
  }

  private failed(err: unknown, events: AuditRecord[]): void {
    if (err instanceof GroupCommitFullError) {
      this.metrics.auditWriteFailures.inc(events.length);
      this.logger.error({ action: events[0].action, reqId: events[0].requestId }, 'audit queue full; row refused');
    }
  }
}

/** The pg client behind a query runner, as far as a named statement needs it. */
interface PreparedClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
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
