import type { LookupFunction } from 'node:net';
import type { BackendKind } from '@stowage/config';

/** Everything an {@link S3Driver} needs to reach one upstream. */
export interface S3DriverConfig {
  id: string;
  name: string;
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  pathStyle: boolean;
  /** What the upstream is: decides its capabilities and a few protocol workarounds. */
  kind: BackendKind;
  /** `when_required` suits most S3-compatible servers; `when_supported` sends the SDK's default checksums. */
  checksums: 'when_required' | 'when_supported';
  /**
   * Longest silence (no byte either way) a request may keep before it fails, in milliseconds.
   * Deliberately not a cap on the whole request: a large object may stream for a long time.
   */
  requestTimeoutMs?: number;
  /** Concurrent connections to the upstream (keep-alive pool size). */
  maxSockets?: number;
  /** Resolves the endpoint's host name on every new connection (the endpoint address policy). */
  lookup?: LookupFunction;
}

export const S3_DRIVER_DEFAULTS = {
  connectionTimeoutMs: 5_000,
  requestTimeoutMs: 60_000,
  maxSockets: 64,
  maxAttempts: 3,
} as const;
