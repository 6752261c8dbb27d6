/** Every BullMQ queue of the service. */
export enum QueueName {
  Maintenance = 'maintenance',
}

/** Jobs of the maintenance queue, and their payloads. */
export enum MaintenanceJob {
  PurgeExpiredSessions = 'purge-expired-sessions',
  PurgeAuditEvents = 'purge-audit-events',
}

export interface MaintenancePayloads {
  [MaintenanceJob.PurgeExpiredSessions]: Record<string, never>;
  [MaintenanceJob.PurgeAuditEvents]: Record<string, never>;
}

export const PURGE_SESSIONS_EVERY_MS = 15 * 60_000;

export const PURGE_AUDIT_EVERY_MS = 60 * 60_000;
