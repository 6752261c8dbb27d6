/** The BullMQ queue of size scans (its workers live in `jobs/`). */
export const SIZE_SCAN_QUEUE = 'size-scans';

export enum SizeScanJob {
  /** Counts one bucket (scheduled, or an on-demand recompute). */
  ScanBucket = 'scan-bucket',
  /** Enqueues a scan of every tracked bucket of every backend (the repeatable one). */
  ScanAll = 'scan-all',
}

export interface ScanBucketPayload {
  backendId: string;
  bucket: string;
  /** `recompute` when an admin asked for it. */
  reason: 'schedule' | 'recompute';
}

/** One job per bucket at a time: BullMQ refuses a second job with the same id while one exists. */
export function scanJobId(backendId: string, bucket: string): string {
  return `scan-${Buffer.from(`${backendId}/${bucket}`).toString('base64url')}`;
}
