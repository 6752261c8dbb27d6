import { AuditEventEntity } from './audit/audit-event.entity';
import { PasswordResetTokenEntity } from './auth/password-reset-token.entity';
import { SessionEntity } from './auth/session.entity';
import { BucketPinEntity } from './pins/bucket-pin.entity';
import { BucketQuotaEntity } from './quotas/bucket-quota.entity';
import { BucketSizeTrackingEntity } from './quotas/bucket-size-tracking.entity';
import { BucketUsageEntity } from './quotas/bucket-usage.entity';
import { NamespaceQuotaEntity } from './quotas/namespace-quota.entity';
import { QuotaReservationEntity } from './quotas/quota-reservation.entity';
import { AnonymousBindingEntity } from './s3-proxy/anonymous-binding.entity';
import { BucketCorsEntity } from './buckets/bucket-cors.entity';
import { S3CredentialScopeEntity } from './s3-proxy/s3-credential-scope.entity';
import { S3CredentialEntity } from './s3-proxy/s3-credential.entity';
import { ShareEntity } from './shares/share.entity';
import { BackendEntity } from './storage-backends/backend.entity';
import { UserEntity } from './users/user.entity';

/** Every entity of the schema; the migrations must produce exactly these tables. */
export const ENTITIES = [
  UserEntity,
  SessionEntity,
  PasswordResetTokenEntity,
  BackendEntity,
  ShareEntity,
  BucketQuotaEntity,
  BucketUsageEntity,
  QuotaReservationEntity,
  NamespaceQuotaEntity,
  BucketSizeTrackingEntity,
  BucketPinEntity,
  AuditEventEntity,
  S3CredentialEntity,
  S3CredentialScopeEntity,
  AnonymousBindingEntity,
  BucketCorsEntity,
];
