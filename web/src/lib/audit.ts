/** The audit screen's filters as typed. */
export interface AuditFilters {
  user: string;
  action: string;
  backend: string;
  bucket: string;
  status: string;
  /** `datetime-local` values, in the browser's time zone. */
  from: string;
  to: string;
}

export const EMPTY_FILTERS: AuditFilters = { user: '', action: '', backend: '', bucket: '', status: '', from: '', to: '' };

/** The filters as the API's query: empty ones left out, times as RFC 3339 in UTC. */
export function auditQuery(f: AuditFilters): Record<string, string> {
  const q: Record<string, string> = {};
  for (const key of ['user', 'action', 'backend', 'bucket', 'status'] as const) if (f[key].trim()) q[key] = f[key].trim();
  for (const key of ['from', 'to'] as const) {
    const d = f[key] ? new Date(f[key]) : undefined;
    if (d && !Number.isNaN(d.getTime())) q[key] = d.toISOString();
  }
  return q;
}
