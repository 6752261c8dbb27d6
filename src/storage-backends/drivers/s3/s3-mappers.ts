import type { CORSRule, LifecycleRule as S3LifecycleRule, TransitionStorageClass } from '@aws-sdk/client-s3';
import { StowageError } from '@stowage/errors';
import type { CorsRule, LifecycleRule, ObjectInfo } from '../../backend';

/** The fields of a HeadObject / GetObject / PutObject answer that make an {@link ObjectInfo}. */
export interface ObjectHeaders {
  ContentLength?: number;
  ETag?: string;
  ContentType?: string;
  StorageClass?: string;
  VersionId?: string;
  LastModified?: Date;
  Metadata?: Record<string, string>;
}

export function objectInfoFrom(key: string, out: ObjectHeaders, size = out.ContentLength ?? 0): ObjectInfo {
  const info: ObjectInfo = { key, size };
  if (out.ETag) info.etag = out.ETag;
  if (out.ContentType) info.contentType = out.ContentType;
  if (out.StorageClass) info.storageClass = out.StorageClass;
  if (out.VersionId && out.VersionId !== 'null') info.versionId = out.VersionId;
  if (out.LastModified) info.lastModified = out.LastModified;
  if (out.Metadata) info.metadata = { ...out.Metadata };
  return info;
}

/** The `x-amz-tagging` header value: a URL query string. */
export function tagsToHeader(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

/** An `x-amz-copy-source` value: bucket and key, each path segment percent-encoded. */
export function copySource(bucket: string, key: string, versionId?: string): string {
  const path = `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return versionId ? `${path}?versionId=${encodeURIComponent(versionId)}` : path;
}

export function corsToS3(rules: CorsRule[]): CORSRule[] {
  return rules.map((r) => ({
    AllowedOrigins: [...r.allowed_origins],
    AllowedMethods: [...r.allowed_methods],
    ...(r.allowed_headers?.length ? { AllowedHeaders: [...r.allowed_headers] } : {}),
    ...(r.expose_headers?.length ? { ExposeHeaders: [...r.expose_headers] } : {}),
    ...(r.max_age_seconds !== undefined ? { MaxAgeSeconds: r.max_age_seconds } : {}),
  }));
}

export function corsFromS3(rules: CORSRule[] | undefined): CorsRule[] {
  return (rules ?? []).map((r) => {
    const rule: CorsRule = { allowed_origins: r.AllowedOrigins ?? [], allowed_methods: r.AllowedMethods ?? [] };
    if (r.AllowedHeaders?.length) rule.allowed_headers = r.AllowedHeaders;
    if (r.ExposeHeaders?.length) rule.expose_headers = r.ExposeHeaders;
    if (r.MaxAgeSeconds !== undefined) rule.max_age_seconds = r.MaxAgeSeconds;
    return rule;
  });
}

export function lifecycleToS3(rules: LifecycleRule[]): S3LifecycleRule[] {
  return rules.map((r) => {
    const rule: S3LifecycleRule = { Status: r.enabled ? 'Enabled' : 'Disabled', Filter: { Prefix: r.prefix ?? '' } };
    if (r.id) rule.ID = r.id;
    if (r.expiration_days !== undefined) rule.Expiration = { Days: r.expiration_days };
    if (r.noncurrent_expire_days !== undefined) {
      rule.NoncurrentVersionExpiration = { NoncurrentDays: r.noncurrent_expire_days };
    }
    if (r.abort_incomplete_days !== undefined) {
      rule.AbortIncompleteMultipartUpload = { DaysAfterInitiation: r.abort_incomplete_days };
    }
    if (r.transition_days !== undefined) {
      if (!r.transition_storage_class) {
        throw new StowageError('invalid_lifecycle', undefined, 'a transition needs transition_storage_class');
      }
      rule.Transitions = [
        { Days: r.transition_days, StorageClass: r.transition_storage_class as TransitionStorageClass },
      ];
    }
    return rule;
  });
}

export function lifecycleFromS3(rules: S3LifecycleRule[] | undefined): LifecycleRule[] {
  return (rules ?? []).map((r) => {
    const rule: LifecycleRule = { enabled: r.Status === 'Enabled' };
    if (r.ID) rule.id = r.ID;
    // The prefix sits in Filter, in Filter.And, or (older servers) on the rule itself.
    const prefix = r.Filter?.Prefix ?? r.Filter?.And?.Prefix ?? r.Prefix;
    if (prefix) rule.prefix = prefix;
    if (r.Expiration?.Days !== undefined) rule.expiration_days = r.Expiration.Days;
    if (r.NoncurrentVersionExpiration?.NoncurrentDays !== undefined) {
      rule.noncurrent_expire_days = r.NoncurrentVersionExpiration.NoncurrentDays;
    }
    if (r.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined) {
      rule.abort_incomplete_days = r.AbortIncompleteMultipartUpload.DaysAfterInitiation;
    }
    const transition = r.Transitions?.find((t) => t.Days !== undefined);
    if (transition) {
      rule.transition_days = transition.Days;
      if (transition.StorageClass) rule.transition_storage_class = transition.StorageClass;
    }
    return rule;
  });
}
