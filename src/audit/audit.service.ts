import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { BatchOutcome, GroupCommit, GroupCommitFullError } from '@stowage/concurrency';
import { dependencyOutage, StowageError } from '@stowage/errors';
import { LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { preparedQuery } from '../database/prepared-query';
import { AuditIntent, AuditOutcome, AuditRecord } from './audit.types';
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
 * share the next one. Three ways to record:
 *
 * - `record` / `recordBy` (mutations): resolve once the row is committed; when it cannot be,
 *   they throw `store_unavailable` (503, Retry-After) so the caller never reports an unaudited
 *   success.
 * - `intend` then `conclude` (mutations whose outcome comes from elsewhere, the S3 proxy's):
 *   the row is INSERTed as `pending` while the change is made, the caller's success waits for
 *   it (`committed`), and the outcome is written over it afterwards without waiting for a flush.
 * - `note` (reads, refusals, failed sign-ins): the same write, but a failure is logged and
 *   counted, never thrown.
 */
@Injectable()
export class AuditService implements OnApplicationShutdown {
  private readonly commits: GroupCommit<AuditRecord, string>;
  private readonly outcomes: GroupCommit<AuditOutcome>;
  private failedAt = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.commits = new GroupCommit((events) => this.insert(events), { maxBatch: MAX_BATCH, maxWaiting: MAX_WAITING });
    this.outcomes = new GroupCommit((outcomes) => this.update(outcomes), {
      maxBatch: MAX_BATCH,
      maxWaiting: MAX_WAITING,
    });
    metrics.auditPending(() => this.commits.pending);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.commits.idle();
    // The outcomes of intents that just committed are added once their callbacks have run.
    await new Promise((resolve) => setImmediate(resolve));
    await this.outcomes.idle();
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
    return this.commits.add(event).then(
      () => undefined,
      (err: unknown) => this.failed(err, [event]),
    );
  }

  /**
   * Starts the durable INSERT of the row of a change about to be made, as `pending` (its outcome
   * is not known yet), so its commit runs while the change is made. Never rejects: a row that
   * could not be stored is logged and counted, and its intent resolves to undefined.
   */
  intend(event: AuditRecord): AuditIntent {
    return this.commits.add({ ...event, status: 'pending' }).catch((err: unknown) => {
      this.failed(err, [event]);
      return undefined;
    });
  }

  /**
   * Whether the row of an intent is committed, once it is: what the change's success waits for.
   * `stowage_audit_commit_wait_seconds` counts from now, so it shows what the row adds to the
   * change (nothing when its commit is already over).
   */
  async committed(intent: AuditIntent): Promise<boolean> {
    const waited = this.metrics.auditCommitWait.startTimer();
    const id = await intent;
    waited({ result: id === undefined ? 'error' : 'ok' });
    return id !== undefined;
  }

  /**
   * Writes the outcome of an intent over its `pending` row (its status and detail, as `event`
   * has them), batched and committed without waiting for a flush: the row that matters for
   * durability is the intent's. Never waited for. When the intent's row could not be stored,
   * the whole event is written best-effort instead, as `note` does.
   */
  conclude(intent: AuditIntent, event: AuditRecord): void {
    void intent.then((id) => {
      if (id === undefined) return this.note(event);
      const outcome: AuditOutcome = { id, status: event.status ?? 'ok', detail: event.detail };
      return this.outcomes.add(outcome).catch((err: unknown) => this.failed(err, [event]));
    });
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
   * One INSERT for the batch; each row's id comes back to its caller. Should the database
   * refuse it for its content rather than an outage, the rows are tried one by one so one bad
   * row cannot fail the others.
   */
  private async insert(events: AuditRecord[]): Promise<BatchOutcome<string>> {
    const end = this.metrics.auditCommitDuration.startTimer();
    try {
      const results = await this.insertRows(events);
      end();
      this.metrics.auditCommitRows.observe(events.length);
      return { results };
    } catch (err) {
      if (events.length === 1 || dependencyOutage(err)) {
        this.writeFailed(err, events);
        throw err;
      }
    }
    const results = new Array<string>(events.length);
    const failures = new Array<unknown>(events.length);
    for (const [i, event] of events.entries()) {
      try {
        [results[i]] = await this.insertRows([event]);
      } catch (err) {
        this.writeFailed(err, [event]);
        failures[i] = err;
      }
    }
    return { results, failures };
  }

  /** The ids of the rows of `events`, in their order. */
  private async insertRows(events: readonly AuditRecord[]): Promise<string[]> {
    return idsByPosition(
      await preparedQuery<InsertedRow>(this.dataSource, 'stowage_audit_insert', INSERT_EVENTS, columnsOf(events)),
      events.length,
    );
  }

  /** One UPDATE for the batch of outcomes; a failure leaves their rows `pending`, logged and counted. */
  private async update(outcomes: AuditOutcome[]): Promise<void> {
    try {
      await preparedQuery(this.dataSource, 'stowage_audit_outcome', UPDATE_OUTCOMES, [
        outcomes.map((o) => o.id),
        outcomes.map((o) => o.status),
        outcomes.map((o) => (o.detail === undefined ? null : JSON.stringify(o.detail))),
      ]);
    } catch (err) {
      this.metrics.auditWriteFailures.inc(outcomes.length);
      this.logger.error({ err: (err as Error).message, outcomes: outcomes.length }, 'audit outcome write failed');
      throw err;
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

/** A row of INSERT_EVENTS' answer: an id and the position (from 1) of its event in the batch. */
export interface InsertedRow {
  id: string;
  n: string | number;
}

/**
 * The ids of a batch in the order of its events, from INSERT_EVENTS' answer (whose own order
 * PostgreSQL does not promise); throws when an event has no id, which would be a fault.
 */
export function idsByPosition(rows: readonly InsertedRow[], count: number): string[] {
  const ids = new Array<string>(count);
  for (const row of rows) ids[Number(row.n) - 1] = String(row.id);
  for (let i = 0; i < count; i++) {
    if (ids[i] === undefined) throw new Error(`the audit INSERT gave no id for row ${i + 1} of ${count}`);
  }
  return ids;
}

/**
 * One INSERT of any number of rows: each column travels as one array parameter, so a batch
 * costs the same handful of parameters however large it is. Each row's id is drawn before the
 * INSERT, beside its position in the batch (the CTE is computed once, so both readers see the
 * same ids), and returned with it: the caller learns which id is whose without relying on the
 * order of RETURNING or on any column being unique.
 */
const INSERT_EVENTS = `
  WITH batch AS MATERIALIZED (
    SELECT nextval('audit_events_id_seq') AS id, e.*
      FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                  $9::text[], $10::text[], $11::jsonb[])
           WITH ORDINALITY AS e(action, user_id, username, backend_id, bucket, object_key, request_id, ip, user_agent, status, detail, n)
  ), inserted AS (
    INSERT INTO audit_events (id, action, user_id, username, backend_id, bucket, object_key, request_id, ip, user_agent, status, detail)
    SELECT id, action, user_id, username, backend_id, bucket, object_key, request_id, ip, user_agent, status, detail FROM batch
  )
  SELECT id, n FROM batch`;

/**
 * The outcomes of intents over their `pending` rows, one statement for the batch. It commits
 * without waiting for its WAL flush (as the quota store's reservations do): a crash may lose an
 * outcome written just before it, which leaves that row `pending`, never the row itself.
 */
const UPDATE_OUTCOMES = `
  UPDATE audit_events AS e SET status = o.status, detail = o.detail
    FROM set_config('synchronous_commit', 'off', true) AS without_flush,
         unnest($1::bigint[], $2::text[], $3::jsonb[]) AS o(id, status, detail)
   WHERE e.id = o.id AND e.status = 'pending'`;

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
