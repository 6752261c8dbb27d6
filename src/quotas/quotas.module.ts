import { Module } from '@nestjs/common';
import { QuotaReservations } from './quota-reservations.service';
import { QuotaStore } from './quota-store';

/**
 * Quotas and sizes as stored facts: limits, size-tracking switches, usage counters and the
 * reservations writes hold against hard quotas. Objects and the S3 proxy reserve through
 * `QuotaReservations`; the routes (buckets) and the scanners (jobs) sit above.
 */
@Module({
  providers: [QuotaStore, QuotaReservations],
  exports: [QuotaStore, QuotaReservations],
})
export class QuotasModule {}
