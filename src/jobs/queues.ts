/** Every BullMQ queue of the service. */
export enum QueueName {
  Maintenance = 'maintenance',
}

/** Jobs of the maintenance queue, and their payloads. */
export enum MaintenanceJob {
  PurgeExpiredSessions = 'purge-expired-sessions',
}

export interface MaintenancePayloads {
  [MaintenanceJob.PurgeExpiredSessions]: Record<string, never>;
}

export const PURGE_SESSIONS_EVERY_MS = 15 * 60_000;
