import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ErrorCode, StowageError } from '@stowage/errors';
import { AuditService } from '../audit/audit.service';
import { ChangeAnnouncer } from '../change-announcer/change-announcer.service';
import { BucketCorsEntity } from './bucket-cors.entity';
import { Backend, CorsRule, LifecycleRule } from '../storage-backends/backend';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { CapabilityFlag, requireCapability } from '../storage-backends/drivers';
import { Actor } from '../access/actor';
import { CorsRuleDto, LifecycleRuleDto, MAX_CORS_RULES, MAX_LIFECYCLE_RULES } from './dto/bucket-settings.dto';

export interface BucketTarget {
  backendId: string;
  bucket: string;
}

const CORS_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);

/** Versioning, CORS, policy and lifecycle of a bucket, kept by the upstream; every change is audited. */
@Injectable()
export class BucketSettingsService {
  constructor(
    private readonly registry: BackendRegistry,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly s3Access: ChangeAnnouncer,
  ) {}

  async getVersioning(target: BucketTarget): Promise<boolean> {
    return this.backend(target, 'versioning', 'getBucketVersioning').getBucketVersioning(target.bucket);
  }

  async setVersioning(target: BucketTarget, enabled: boolean, actor: Actor): Promise<void> {
    await this.backend(target, 'versioning', 'setBucketVersioning').setBucketVersioning(target.bucket, enabled);
    await this.record(actor, 'bucket.versioning.set', target, { enabled });
  }

  async getCors(target: BucketTarget): Promise<CorsRule[]> {
    return this.backend(target, 'cors', 'getBucketCors').getBucketCors(target.bucket);
  }

  async setCors(target: BucketTarget, input: CorsRuleDto[], actor: Actor): Promise<CorsRule[]> {
    const backend = this.backend(target);
    const rules = normaliseCors(input);
    requireCapability(backend.capabilities, 'cors', 'setBucketCors');
    await backend.setBucketCors(target.bucket, rules);
    const repository = this.dataSource.getRepository(BucketCorsEntity);
    if (rules.length === 0) {
      await repository.delete({ backendId: target.backendId, bucket: target.bucket });
    } else {
      await repository.upsert(
        {
          backendId: target.backendId,
          bucket: target.bucket,
          rules,
          updatedAt: new Date(),
          updatedBy: actor.identity.id,
        },
        ['backendId', 'bucket'],
      );
    }
    await this.s3Access.corsChanged(target.backendId, target.bucket);
    await this.record(actor, 'bucket.cors.set', target, { rules: rules.length });
    return rules;
  }

  async getPolicy(target: BucketTarget): Promise<string> {
    return this.backend(target, 'bucket_policy', 'getBucketPolicy').getBucketPolicy(target.bucket);
  }

  async setPolicy(target: BucketTarget, policy: string, actor: Actor): Promise<void> {
    const backend = this.backend(target);
    assertPolicy(policy);
    requireCapability(backend.capabilities, 'bucket_policy', 'setBucketPolicy');
    await backend.setBucketPolicy(target.bucket, policy);
    await this.record(actor, 'bucket.policy.set', target);
  }

  async deletePolicy(target: BucketTarget, actor: Actor): Promise<void> {
    await this.backend(target, 'bucket_policy', 'deleteBucketPolicy').deleteBucketPolicy(target.bucket);
    await this.record(actor, 'bucket.policy.delete', target);
  }

  async getLifecycle(target: BucketTarget): Promise<LifecycleRule[]> {
    return this.backend(target, 'lifecycle', 'getBucketLifecycle').getBucketLifecycle(target.bucket);
  }

  async setLifecycle(target: BucketTarget, input: LifecycleRuleDto[], actor: Actor): Promise<LifecycleRule[]> {
    const backend = this.backend(target);
    const rules = normaliseLifecycle(input);
    requireCapability(backend.capabilities, 'lifecycle', 'setBucketLifecycle');
    await backend.setBucketLifecycle(target.bucket, rules);
    await this.record(actor, 'bucket.lifecycle.set', target, { rules: rules.length });
    return rules;
  }

  /** The backend (`not_found`), after checking the bucket name and, when given, the capability. */
  private backend(target: BucketTarget, flag?: CapabilityFlag, operation?: string): Backend {
    const backend = this.registry.forBucket(target);
    if (flag) requireCapability(backend.capabilities, flag, operation ?? flag);
    return backend;
  }

  private record(actor: Actor, action: string, target: BucketTarget, detail?: Record<string, unknown>) {
    return this.audit.recordBy(actor, {
      action,
      backendId: target.backendId,
      bucket: target.bucket,
      ...(detail ? { detail } : {}),
    });
  }
}

function invalid(code: ErrorCode, detail: string): StowageError {
  return new StowageError(code, undefined, detail);
}

/** Checks CORS rules beyond their shape (`invalid_cors`) and returns them without empty fields. */
export function normaliseCors(input: CorsRuleDto[]): CorsRule[] {
  if (input.length > MAX_CORS_RULES) throw invalid('invalid_cors', `rules: at most ${MAX_CORS_RULES} rules`);
  return input.map((r, i) => {
    const where = `rules[${i}]`;
    const origins = r.allowed_origins.map((o) => o.trim());
    if (origins.length === 0) throw invalid('invalid_cors', `${where}.allowed_origins: at least one origin`);
    for (const origin of origins) {
      if (!origin || /\s/.test(origin) || (origin.match(/\*/g) ?? []).length > 1) {
        throw invalid('invalid_cors', `${where}.allowed_origins: ${JSON.stringify(origin)} is not an origin`);
      }
    }
    const methods = r.allowed_methods.map((m) => m.trim().toUpperCase());
    if (methods.length === 0) throw invalid('invalid_cors', `${where}.allowed_methods: at least one method`);
    for (const method of methods) {
      if (!CORS_METHODS.has(method)) {
        throw invalid(
          'invalid_cors',
          `${where}.allowed_methods: ${JSON.stringify(method)} is not one of GET, PUT, POST, DELETE, HEAD`,
        );
      }
    }
    const headers = (name: string, list: string[] | undefined) => {
      const out = (list ?? []).map((h) => h.trim());
      if (out.some((h) => !h || /[\s,]/.test(h)))
        throw invalid('invalid_cors', `${where}.${name}: an empty or malformed header`);
      return out;
    };
    const allowedHeaders = headers('allowed_headers', r.allowed_headers);
    const exposeHeaders = headers('expose_headers', r.expose_headers);
    return {
      allowed_origins: [...new Set(origins)],
      allowed_methods: [...new Set(methods)],
      ...(allowedHeaders.length ? { allowed_headers: allowedHeaders } : {}),
      ...(exposeHeaders.length ? { expose_headers: exposeHeaders } : {}),
      ...(r.max_age_seconds !== undefined ? { max_age_seconds: r.max_age_seconds } : {}),
    };
  });
}

/** A policy must be a JSON object with a `Statement` array (`invalid_policy`); nothing more is checked. */
export function assertPolicy(policy: string): void {
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch (err) {
    throw invalid('invalid_policy', `policy: not JSON (${(err as Error).message})`);
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    throw invalid('invalid_policy', 'policy: must be a JSON object');
  }
  if (!Array.isArray((document as { Statement?: unknown }).Statement)) {
    throw invalid('invalid_policy', 'policy: must have a Statement array');
  }
}

/** Checks lifecycle rules beyond their shape (`invalid_lifecycle`). */
export function normaliseLifecycle(input: LifecycleRuleDto[]): LifecycleRule[] {
  if (input.length > MAX_LIFECYCLE_RULES) {
    throw invalid('invalid_lifecycle', `rules: at most ${MAX_LIFECYCLE_RULES} rules`);
  }
  const ids = new Set<string>();
  return input.map((r, i) => {
    const where = `rules[${i}]`;
    if (r.id !== undefined) {
      if (!r.id || r.id.length > 255) throw invalid('invalid_lifecycle', `${where}.id: 1 to 255 characters`);
      if (ids.has(r.id)) throw invalid('invalid_lifecycle', `${where}.id: ${JSON.stringify(r.id)} is used twice`);
      ids.add(r.id);
    }
    for (const field of ['expiration_days', 'noncurrent_expire_days', 'abort_incomplete_days'] as const) {
      const value = r[field];
      if (value !== undefined && value < 1) throw invalid('invalid_lifecycle', `${where}.${field}: at least 1`);
    }
    if (r.transition_days !== undefined && r.transition_days < 0) {
      throw invalid('invalid_lifecycle', `${where}.transition_days: at least 0`);
    }
    if ((r.transition_days === undefined) !== !r.transition_storage_class) {
      throw invalid('invalid_lifecycle', `${where}: transition_days and transition_storage_class go together`);
    }
    if (
      r.expiration_days === undefined &&
      r.noncurrent_expire_days === undefined &&
      r.abort_incomplete_days === undefined &&
      r.transition_days === undefined
    ) {
      throw invalid('invalid_lifecycle', `${where}: a rule needs at least one action`);
    }
    const rule: LifecycleRule = { enabled: r.enabled };
    if (r.id !== undefined) rule.id = r.id;
    if (r.prefix) rule.prefix = r.prefix;
    if (r.expiration_days !== undefined) rule.expiration_days = r.expiration_days;
    if (r.noncurrent_expire_days !== undefined) rule.noncurrent_expire_days = r.noncurrent_expire_days;
    if (r.abort_incomplete_days !== undefined) rule.abort_incomplete_days = r.abort_incomplete_days;
    if (r.transition_days !== undefined) {
      rule.transition_days = r.transition_days;
      rule.transition_storage_class = r.transition_storage_class;
    }
    return rule;
  });
}
