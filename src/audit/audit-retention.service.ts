import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StowageConfig } from '@stowage/config';
import { MetricsService } from '../metrics/metrics.service';

/** Rows one DELETE removes: a short statement, its own transaction. */
export const PURGE_BATCH_ROWS = 5000;
/** Batches one run does at most (the next run, an hour later, goes on). */
const MAX_BATCHES_PER_RUN = 400;

/**
 * `audit.retention`: removes rows older than the retention in small batches, oldest first, each
 * batch one short DELETE in its own transaction found through the (at, id) index. A DELETE
 * takes only row locks (and ROW EXCLUSIVE on the table, which INSERTs and SELECTs do not wait
 * for), so writers and readers of the log go on while a purge runs.
 */
@Injectable()
export class AuditRetentionService {
  constructor(
    private readonly config: StowageConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  async purge(): Promise<{ purged: number; batches: number }> {
    const retention = this.config.audit.retention;
    if (retention <= 0) return { purged: 0, batches: 0 };
    const cutoff = new Date(Date.now() - retention).toISOString();
    let purged = 0;
    let batches = 0;
    while (batches < MAX_BATCHES_PER_RUN) {
      const [, deleted] = (await this.dataSource.query(
        `DELETE FROM audit_events WHERE id IN (
           SELECT id FROM audit_events WHERE at < $1::timestamptz ORDER BY at, id LIMIT ${PURGE_BATCH_ROWS})`,
        [cutoff],
      )) as [unknown, number];
      batches++;
      purged += deleted;
      this.metrics.auditPurged.inc(deleted);
      if (deleted < PURGE_BATCH_ROWS) break;
    }
    return { purged, batches };
  }
}
