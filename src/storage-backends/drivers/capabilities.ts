import type { BackendKind } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import type { Capabilities } from '../backend';

const GiB = 1024 * 1024 * 1024;

/** What a fully S3-compatible upstream offers: every feature, AWS's multipart limits. */
export const FULL_CAPABILITIES: Readonly<Capabilities> = Object.freeze({
  versioning: true,
  object_lock: true,
  lifecycle: true,
  bucket_policy: true,
  cors: true,
  tagging: true,
  server_side_encrypt: true,
  multipart_management: true,
  suffix_ranges: true,
  admin_api: '',
  max_multipart_parts: 10_000,
  max_part_size_bytes: 5 * GiB,
});

/** Departures from {@link FULL_CAPABILITIES} per kind of upstream. */
const OVERRIDES: Record<BackendKind, Partial<Capabilities>> = {
  generic: {},
  aws: {},
  minio: {},
  ceph: {},
  wasabi: {},
  seaweedfs: {},
  // Garage's lifecycle support is partial (expiration and aborting stale uploads only).
  garage: { versioning: false, object_lock: false, bucket_policy: false },
  r2: { versioning: false, object_lock: false, bucket_policy: false },
  // B2 offers object lock through its native API only.
  b2: { object_lock: false, bucket_policy: false },
  s3rver: {
    versioning: false,
    object_lock: false,
    lifecycle: false,
    bucket_policy: false,
    cors: true,
    tagging: true,
    multipart_management: false,
    suffix_ranges: false,
  },
};

/** The capabilities Stowage assumes for an upstream of this kind (a fresh, frozen object). */
export function capabilitiesFor(kind: BackendKind): Capabilities {
  const overrides = OVERRIDES[kind];
  if (!overrides) throw new Error(`unknown backend kind ${JSON.stringify(kind)}`);
  return Object.freeze({ ...FULL_CAPABILITIES, ...overrides });
}

/** The boolean capabilities, which gate whole operations. */
export type CapabilityFlag = {
  [K in keyof Capabilities]: Capabilities[K] extends boolean ? K : never;
}[keyof Capabilities];

/** Throws `not_supported` (before anything reaches the upstream) when `flag` is off. */
export function requireCapability(capabilities: Capabilities, flag: CapabilityFlag, operation: string): void {
  if (!capabilities[flag]) {
    throw new StowageError('not_supported', undefined, `${operation}: this backend does not support ${flag}`);
  }
}
