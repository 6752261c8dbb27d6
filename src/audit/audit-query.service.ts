import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { StowageError } from '@stowage/errors';
import { csvFilename, csvRow } from './audit-csv';
import { AuditCsvQuery, AuditEventDto, AuditFilterQuery, AuditListQuery, AuditPageDto } from './dto/audit-query.dto';

/** Below this many matching rows `total` is counted exactly; above it, estimated by the planner. */
export const EXACT_TOTAL_BOUND = 10_000;
/** Rows fetched from the export's cursor at a time. */
const CSV_FETCH_ROWS = 1000;
const DEFAULT_PAGE = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CSV_HEADER = [
  'id',
  'timestamp',
  'user_id',
  'username',
  'action',
  'backend',
  'bucket',
  'key',
  'request_id',
  'ip',
  'user_agent',
  'status',
  'detail',
];

/** An audit row as selected: `at_us` (microseconds since the epoch) keeps the cursor exact. */
interface Row {
  id: string;
  at_us: string;
  user_id: string | null;
  username: string | null;
  action: string;
  backend_id: string | null;
  bucket: string | null;
  object_key: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  status: string;
  detail: string | null;
}

const COLUMNS = `id, (extract(epoch FROM at) * 1000000)::bigint AS at_us, user_id, username, action, backend_id,
  bucket, object_key, request_id, ip, user_agent, status, detail::text AS detail`;

/** A WHERE clause and its parameters. */
interface Where {
  sql: string;
  params: unknown[];
}

/**
 * Reads the audit log: pages newest first with keyset paging on (at, id), each filter served
 * by an index that ends in (at, id); a total that is exact up to EXACT_TOTAL_BOUND rows and the
 * planner's estimate beyond; and the CSV export read through a server-side cursor, so memory
 * stays flat however many rows it holds.
 */
@Injectable()
export class AuditQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(query: AuditListQuery): Promise<AuditPageDto> {
    if (query.cursor !== undefined && query.offset !== undefined) {
      throw new StowageError('bad_request', 'Pass either cursor or offset, not both.');
    }
    const limit = query.limit ?? DEFAULT_PAGE;
    const where = whereOf(query);
    const page = { sql: where.sql, params: [...where.params] };
    if (query.cursor !== undefined) {
      const [atUs, id] = decodeCursor(query.cursor);
      page.params.push(atUs, id);
      page.sql = and(
        page.sql,
        `(at, id) < (to_timestamp(0) + $${page.params.length - 1}::bigint * interval '1 microsecond', $${page.params.length}::bigint)`,
      );
    }
    page.params.push(limit + 1, query.offset ?? 0);
    const n = page.params.length;
    const [rows, total] = await Promise.all([
      this.dataSource.query<Row[]>(
        `SELECT ${COLUMNS} FROM audit_events ${page.sql} ORDER BY at DESC, id DESC LIMIT $${n - 1} OFFSET $${n}`,
        page.params,
      ),
      this.total(where),
    ]);
    const events = rows.slice(0, limit);
    const last = events[events.length - 1];
    return {
      events: events.map(toDto),
      total: total.count,
      total_exact: total.exact,
      ...(rows.length > limit && last ? { next_cursor: encodeCursor(last.at_us, last.id) } : {}),
    };
  }

  /** Exact up to the bound (a count that stops there), the planner's row estimate above it. */
  private async total(where: Where): Promise<{ count: number; exact: boolean }> {
    const [{ count }] = await this.dataSource.query<{ count: string }[]>(
      `SELECT count(*) AS count FROM (SELECT 1 FROM audit_events ${where.sql} LIMIT ${EXACT_TOTAL_BOUND + 1}) AS bounded`,
      where.params,
    );
    if (Number(count) <= EXACT_TOTAL_BOUND) return { count: Number(count), exact: true };
    const plan = await this.dataSource.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }[]>(
      `EXPLAIN (FORMAT JSON) SELECT 1 FROM audit_events ${where.sql}`,
      where.params,
    );
    const estimate = Math.round(plan[0]['QUERY PLAN'][0].Plan['Plan Rows']);
    return { count: Math.max(estimate, EXACT_TOTAL_BOUND + 1), exact: false };
  }

  /**
   * The export: its file name and a stream of CSV lines. Rows come from a server-side cursor in
   * a read-only transaction, CSV_FETCH_ROWS at a time and only as fast as the client reads; the
   * connection goes back to the pool when the stream ends or the client goes away.
   */
  exportCsv(query: AuditCsvQuery): { filename: string; stream: Readable } {
    const where = whereOf(query);
    const to = query.to !== undefined ? parseInstant(query.to) : new Date();
    const from = query.from !== undefined ? parseInstant(query.from) : undefined;
    const limit = query.limit !== undefined ? ` LIMIT ${query.limit}` : '';
    const dataSource = this.dataSource;
    async function* lines(): AsyncGenerator<string> {
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      let open = false;
      try {
        open = true;
        await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await runner.query(
          `DECLARE audit_export NO SCROLL CURSOR FOR SELECT ${COLUMNS} FROM audit_events ${where.sql}
           ORDER BY at DESC, id DESC${limit}`,
          where.params,
        );
        yield csvRow(CSV_HEADER);
        for (;;) {
          const rows = (await runner.query(`FETCH ${CSV_FETCH_ROWS} FROM audit_export`)) as Row[];
          if (rows.length === 0) break;
          let chunk = '';
          for (const row of rows) chunk += csvLine(row);
          yield chunk;
        }
        await runner.query('COMMIT');
        open = false;
      } finally {
        // A client gone mid-export leaves the transaction open: end it before the connection is reused.
        if (open) await runner.query('ROLLBACK').catch(() => undefined);
        await runner.release();
      }
    }
    return { filename: csvFilename(from, to), stream: Readable.from(lines(), { objectMode: false }) };
  }
}

function csvLine(row: Row): string {
  return csvRow([
    Number(row.id),
    timestampOf(row.at_us),
    row.user_id,
    row.username,
    row.action,
    row.backend_id,
    row.bucket,
    row.object_key,
    row.request_id,
    row.ip,
    row.user_agent,
    row.status,
    row.detail,
  ]);
}

function toDto(row: Row): AuditEventDto {
  const dto: AuditEventDto = {
    id: Number(row.id),
    timestamp: timestampOf(row.at_us),
    action: row.action,
    status: row.status,
  };
  if (row.user_id) dto.user_id = row.user_id;
  if (row.username) dto.username = row.username;
  if (row.backend_id) dto.backend = row.backend_id;
  if (row.bucket) dto.bucket = row.bucket;
  if (row.object_key) dto.key = row.object_key;
  if (row.request_id) dto.request_id = row.request_id;
  if (row.ip) dto.ip = row.ip;
  if (row.user_agent) dto.user_agent = row.user_agent;
  if (row.detail) dto.detail = row.detail;
  return dto;
}

/** RFC 3339 in UTC, to the microsecond the row holds. */
function timestampOf(atUs: string): string {
  const us = BigInt(atUs);
  const ms = us / 1000n;
  const iso = new Date(Number(ms)).toISOString();
  const micro = ((us % 1000n) + 1000n) % 1000n;
  return `${iso.slice(0, 23)}${micro.toString().padStart(3, '0')}Z`;
}

function and(where: string, clause: string): string {
  return where === '' ? `WHERE ${clause}` : `${where} AND ${clause}`;
}

/** The WHERE clause of the filters; every value travels as a parameter. */
export function whereOf(filter: AuditFilterQuery): Where {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(sql(`$${params.length}`));
  };
  if (filter.user !== undefined) {
    if (UUID.test(filter.user)) add((p) => `user_id = ${p}::uuid`, filter.user.toLowerCase());
    else add((p) => `username = ${p}`, filter.user);
  }
  if (filter.action !== undefined) {
    const prefix = /[.*]$/.test(filter.action);
    if (prefix) add((p) => `action LIKE ${p}`, `${escapeLike(filter.action.replace(/\*$/, ''))}%`);
    else add((p) => `action = ${p}`, filter.action);
  }
  if (filter.backend !== undefined) add((p) => `backend_id = ${p}`, filter.backend);
  if (filter.bucket !== undefined) add((p) => `bucket = ${p}`, filter.bucket);
  if (filter.status !== undefined) add((p) => `status = ${p}`, filter.status);
  const from = filter.from !== undefined ? parseInstant(filter.from) : undefined;
  const to = filter.to !== undefined ? parseInstant(filter.to) : undefined;
  if (from && to && from.getTime() > to.getTime()) throw new StowageError('bad_request', 'from is after to.');
  if (from) add((p) => `at >= ${p}::timestamptz`, from.toISOString());
  if (to) add((p) => `at < ${p}::timestamptz`, to.toISOString());
  return { sql: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

/** An RFC 3339 value (already shaped by the DTO) as an instant; impossible dates are `bad_request`. */
function parseInstant(value: string): Date {
  const date = new Date(/T/i.test(value) ? value : `${value}T00:00:00Z`);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999) {
    throw new StowageError('bad_request', 'A timestamp is not a valid date.');
  }
  return date;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function encodeCursor(atUs: string, id: string): string {
  return Buffer.from(`${atUs}.${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  const match = /^(-?\d{1,18})\.(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new StowageError('bad_request', 'cursor is not a cursor this API handed out.');
  return [match[1], match[2]];
}
