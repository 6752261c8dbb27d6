import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { QuotaReservations, SoftCrossing } from '../quotas/quota-reservations.service';

/**
 * Audits `quota.soft_exceeded` (`namespace_quota.soft_exceeded` for a namespace's) once per
 * crossing of a soft quota, whoever found it: a write that committed on this replica, or a scan.
 * (The usage row's flag decides "once", atomically.)
 */
@Injectable()
export class QuotaAuditTrail implements OnModuleInit, OnModuleDestroy {
  private stop?: () => void;

  constructor(
    private readonly reservations: QuotaReservations,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.stop = this.reservations.onSoftCrossed((crossing) => void this.record(crossing));
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  private record(crossing: SoftCrossing): Promise<void> {
    const { origin } = crossing;
    return this.audit.record({
      action: crossing.namespace === undefined ? 'quota.soft_exceeded' : 'namespace_quota.soft_exceeded',
      userId: origin.userId ?? null,
      username: origin.username ?? null,
      requestId: origin.requestId,
      ip: origin.ip,
      userAgent: origin.userAgent,
      backendId: crossing.backendId,
      bucket: crossing.bucket,
      status: 'warning',
      detail: {
        ...(crossing.namespace !== undefined ? { bucket_prefix: crossing.namespace } : {}),
        used_bytes: crossing.usedBytes,
        soft_bytes: crossing.softBytes,
        via: origin.via,
      },
    });
  }
}
