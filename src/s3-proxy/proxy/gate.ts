import { Inject, Injectable } from '@nestjs/common';
import { StowageConfig } from '@stowage/config';
import { bucketNameProblem } from '@stowage/s3-naming';
import { listBucketsXml } from '@stowage/s3-xml';
import { percentDecode } from '@stowage/sigv4';
import type { BackendSpec } from '../../storage-backends/backend-spec';
import { BackendRegistry } from '../../storage-backends/backend-registry.service';
import type { BucketScope, S3AccessDirectory, VirtualCredential } from '../access/access.types';
import { keyInScope, scopeOf } from '../access/scopes';
import { corsHeaders, matchCorsRule, requestedHeaders } from './cors';
import { Authenticated, Decision, Exchange, Refusal, S3_ACCESS_DIRECTORY, Step } from './exchange';
import { ANONYMOUS_OPERATIONS, Classified } from './operations';
import { RefusalReason, S3ProxyError } from './proxy-error';
import { ProxyMetrics } from './proxy-metrics';
import { CopySource, parseCopySource, RequestTarget } from './request-target';
import type { Route } from './route';
import { RpsLimiter } from './rps-limiter';

/**
 * The gate stage: whether and where a routed request goes. Scope and refused operations, rate
 * limits, anonymous bindings and CORS; it returns a decision (forward, answer, or a refusal) and
 * never calls onward. A signed request refused or answered from memory (ListBuckets) is decided
 * synchronously when no rate limit is set.
 */
@Injectable()
export class ProxyGate {
  /** The ListBuckets answer of a credential; the directory hands out a new object on any change. */
  private readonly listBucketsBodies = new WeakMap<VirtualCredential, string>();

  constructor(
    private readonly config: StowageConfig,
    @Inject(S3_ACCESS_DIRECTORY) private readonly directory: S3AccessDirectory,
    private readonly registry: BackendRegistry,
    private readonly limiter: RpsLimiter,
    private readonly metrics: ProxyMetrics,
  ) {}

  /** `auth` is the authenticate stage's answer for a signed request, absent otherwise. */
  decide(x: Exchange, route: Route, auth: Authenticated | undefined): Step<Decision> {
    if (route.entry === 'preflight') return this.preflight(x, route.target);
    if (auth === undefined) return this.anonymous(x, route);
    return this.signed(x, route, auth);
  }

  // ---- signed requests ----

  private signed(x: Exchange, route: Route, auth: Authenticated): Step<Decision> {
    const { classified, target } = route;
    if (classified.operation === 'PutBucket') {
      // S3 checks a new bucket's name before anything else.
      const problem = bucketNameProblem(target.bucket);
      if (problem) {
        return new S3ProxyError(
          'InvalidBucketName',
          `The specified bucket is not valid: it ${problem}.`,
          'invalid_request',
          {
            extra: { BucketName: target.bucket },
          },
        );
      }
    }
    if (classified.disposition === 'refuse' && !ownerOperation(route, auth.virtual)) {
      return refusalOf(classified, target, auth.virtual);
    }
    const limited = this.limit(auth.virtual);
    if (limited) return limited.then((refusal) => refusal ?? this.inScope(x, route, auth));
    return this.inScope(x, route, auth);
  }

  private inScope(x: Exchange, route: Route, { verified, virtual }: Authenticated): Step<Decision> {
    const { classified, target } = route;
    if (classified.disposition === 'synthesise') {
      if (hasNamespace(virtual)) return this.listNamespaceBuckets(virtual);
      return { kind: 'answer', status: 200, body: this.listBuckets(virtual) };
    }
    const scope = scopeFor(virtual, target.bucket);
    if (!scope) {
      this.metrics.scopeViolations.inc();
      return new S3ProxyError('AccessDenied', 'The credential is not authorised for this bucket.', 'scope_violation', {
        extra: { BucketName: target.bucket },
      });
    }
    if (scope.keyPrefix !== undefined) {
      const outside = this.outsideKeyPrefix(route, scope.keyPrefix);
      if (outside) return outside;
    }
    x.backendId = scope.backendId;
    return this.applyCors(x, scope.backendId, target.bucket).then((): Decision | Refusal => {
      const copySource = this.copySourceOf(x, virtual, scope);
      if (copySource instanceof Error) return copySource;
      const spec = this.specOf(scope.backendId);
      if (spec instanceof Error) return spec;
      return { kind: 'forward', spec, verified, copySource, keyPrefix: scope.keyPrefix, owner: scope.namespace };
    });
  }

  /**
   * A key-prefix scope, as an S3 policy on `home/alice/*` with an `s3:prefix` condition behaves:
   * objects outside the prefix are refused, and so are listings that do not name a prefix inside
   * it. The bucket's own metadata (HeadBucket, location, versioning) stays readable.
   */
  private outsideKeyPrefix({ classified, target, params }: Route, keyPrefix: string): Refusal | undefined {
    if (target.key !== '') {
      if (target.key.startsWith(keyPrefix)) return undefined;
      return this.keyRefusal(target.bucket, target.key, 'The credential is not authorised for this key.');
    }
    switch (classified.operation) {
      case 'ListObjects':
      case 'ListObjectsV2':
      case 'ListObjectVersions':
      case 'ListMultipartUploads': {
        const raw = params.find((p) => p.key === 'prefix')?.raw ?? '';
        const prefix = percentDecode(raw);
        if (prefix.startsWith(keyPrefix)) return undefined;
        return this.keyRefusal(
          target.bucket,
          prefix,
          `The credential may list only under the prefix "${keyPrefix}"; name it (or a longer one) as the prefix.`,
        );
      }
      case 'HeadBucket':
      case 'GetBucketLocation':
      case 'GetBucketVersioning':
      case 'DeleteObjects': // each key of the body is checked by the forward stage
        return undefined;
      default:
        return this.keyRefusal(target.bucket, '', 'The credential is confined to a key prefix of this bucket.');
    }
  }

  private keyRefusal(bucket: string, key: string, message: string): Refusal {
    this.metrics.scopeViolations.inc();
    return new S3ProxyError('AccessDenied', message, 'scope_violation', {
      extra: { BucketName: bucket, ...(key ? { Key: key.slice(0, 256) } : {}) },
    });
  }

  /**
   * ListBuckets of a credential with a namespace: its fixed buckets, and the buckets of each
   * namespace that exist upstream (asked afresh, so a bucket just made shows at once).
   */
  private async listNamespaceBuckets(credential: VirtualCredential): Promise<Decision | Refusal> {
    const names = new Map<string, Date>();
    for (const scope of credential.scopes) if (!scope.namespace) names.set(scope.bucket, credential.createdAt);
    const namespaces = credential.scopes.filter((scope) => scope.namespace);
    for (const backendId of new Set(namespaces.map((scope) => scope.backendId))) {
      const entry = this.registry.entry(backendId);
      if (!entry) continue;
      let buckets;
      try {
        buckets = await entry.backend.listBuckets(AbortSignal.timeout(LIST_BUCKETS_TIMEOUT_MS));
      } catch {
        return new S3ProxyError(
          'ServiceUnavailable',
          'The storage behind this namespace did not answer. Please try again.',
          'upstream_unavailable',
          { retryAfterSeconds: 1 },
        );
      }
      for (const bucket of buckets) {
        const scope = scopeOf(credential.scopes, bucket.name);
        if (scope?.namespace && scope.backendId === backendId) {
          names.set(bucket.name, bucket.createdAt ?? credential.createdAt);
        }
      }
    }
    const sorted = [...names.keys()].sort();
    const body = listBucketsXml(
      { id: credential.accessKey, displayName: credential.accessKey },
      sorted.map((name) => ({ name, creationDate: names.get(name) as Date })),
    );
    return { kind: 'answer', status: 200, body };
  }

  /** The copy source of a copy request, which must be in scope and on the same backend. */
  private copySourceOf(
    x: Exchange,
    credential: VirtualCredential,
    scope: BucketScope,
  ): CopySource | Refusal | undefined {
    const header = x.req.headers['x-amz-copy-source'];
    if (typeof header !== 'string') return undefined;
    const source = parseCopySource(header);
    if (!source) {
      return new S3ProxyError('InvalidRequest', 'The x-amz-copy-source header is malformed.', 'invalid_request');
    }
    const sourceScope = scopeFor(credential, source.bucket);
    if (!sourceScope || !keyInScope(sourceScope, source.key)) {
      this.metrics.scopeViolations.inc();
      return new S3ProxyError(
        'AccessDenied',
        'The credential is not authorised for the copy source bucket.',
        'scope_violation',
        { extra: { BucketName: source.bucket } },
      );
    }
    if (sourceScope.backendId !== scope.backendId) {
      return new S3ProxyError(
        'NotImplemented',
        'A server-side copy between buckets on different backends is not possible; download and upload instead.',
        'invalid_request',
      );
    }
    return source;
  }

  /** The per-key and global rate limits' verdict; nothing to wait for when neither is set. */
  private limit(credential: VirtualCredential): Promise<Refusal | undefined> | undefined {
    const { per_key_rps: perKeyRps, global_rps: globalRps } = this.config.s3_proxy;
    if (perKeyRps <= 0 && globalRps <= 0) return undefined;
    return Promise.all([
      this.limiter.acquire(`key:${credential.accessKey}`, perKeyRps),
      this.limiter.acquire('global', globalRps),
    ]).then(([perKey, global]) => {
      const wait = Math.max(perKey, global);
      return wait > 0 ? slowDown(wait) : undefined;
    });
  }

  private listBuckets(credential: VirtualCredential): string {
    let body = this.listBucketsBodies.get(credential);
    if (body === undefined) {
      body = listBucketsBody(credential);
      this.listBucketsBodies.set(credential, body);
    }
    return body;
  }

  // ---- anonymous requests ----

  private async anonymous(x: Exchange, { target, classified }: Route): Promise<Decision | Refusal> {
    if (!this.config.s3_proxy.anonymous_enabled) {
      return this.refuseAnonymous('disabled_globally', 'Anonymous access is turned off.');
    }
    const binding = target.bucket === '' ? undefined : await this.directory.anonymousBinding(target.bucket);
    if (!binding) return this.refuseAnonymous('no_binding', 'Access Denied');
    x.backendId = binding.backendId;
    await this.applyCors(x, binding.backendId, binding.bucket);
    if (!ANONYMOUS_OPERATIONS.has(classified.operation) || classified.disposition !== 'forward') {
      return this.refuseAnonymous('operation_not_allowed', 'Anonymous access allows only reading objects and listing.');
    }
    const wait = await this.limiter.acquire(
      `anon:${binding.backendId}/${binding.bucket}:${x.ip}`,
      binding.perSourceIpRps || this.config.s3_proxy.anonymous_rps,
    );
    if (wait > 0) {
      this.metrics.anonymousRejects.inc({ reason: 'rate_limited' });
      return slowDown(wait);
    }
    const spec = this.specOf(binding.backendId);
    if (spec instanceof Error) return spec;
    return { kind: 'forward', spec };
  }

  private refuseAnonymous(reason: RefusalReason, message: string): Refusal {
    this.metrics.anonymousRejects.inc({ reason });
    return new S3ProxyError('AccessDenied', message, reason);
  }

  // ---- CORS ----

  private async preflight(x: Exchange, target: RequestTarget): Promise<Decision | Refusal> {
    const origin = x.req.headers.origin;
    const method = x.req.headers['access-control-request-method'];
    if (!origin || typeof method !== 'string' || target.bucket === '') {
      return new S3ProxyError('InvalidRequest', 'Insufficient information. Origin request header needed.');
    }
    const request = {
      origin,
      method: method.toUpperCase(),
      headers: requestedHeaders(x.req.headers['access-control-request-headers']),
    };
    for (const entry of this.registry.list()) {
      const rules = await this.directory.bucketCors(entry.spec.id, target.bucket);
      if (!rules?.length) continue;
      const rule = matchCorsRule(rules, request);
      if (!rule) break;
      return { kind: 'answer', status: 200, headers: corsHeaders(rule, request, true) };
    }
    return new S3ProxyError('AccessDenied', 'CORSResponse: This CORS request is not allowed.');
  }

  /** The CORS headers the bucket's rules give this request, kept on the exchange for any answer. */
  private async applyCors(x: Exchange, backendId: string, bucket: string): Promise<void> {
    const origin = x.req.headers.origin;
    if (!origin) return;
    const rules = await this.directory.bucketCors(backendId, bucket);
    if (!rules?.length) return;
    const request = { origin, method: x.req.method ?? 'GET' };
    const rule = matchCorsRule(rules, request);
    if (rule) x.cors = corsHeaders(rule, request, false);
  }

  private specOf(backendId: string): BackendSpec | Refusal {
    const entry = this.registry.entry(backendId);
    if (!entry) {
      return new S3ProxyError(
        'ServiceUnavailable',
        'The storage behind this bucket is not available.',
        'upstream_unavailable',
      );
    }
    return entry.spec;
  }
}

function slowDown(waitSeconds: number): Refusal {
  return new S3ProxyError('SlowDown', 'Please reduce your request rate.', 'rate_limited', {
    retryAfterSeconds: waitSeconds,
  });
}

/** The credential's scope on `bucket`, if it has one. */
function scopeFor(credential: VirtualCredential, bucket: string): BucketScope | undefined {
  return scopeOf(credential.scopes, bucket);
}

const LIST_BUCKETS_TIMEOUT_MS = 10_000;
const namespaceOf = new WeakMap<VirtualCredential, boolean>();

/** Whether any scope of the credential is a namespace (remembered per credential object). */
function hasNamespace(credential: VirtualCredential): boolean {
  let answer = namespaceOf.get(credential);
  if (answer === undefined) {
    answer = credential.scopes.some((scope) => scope.namespace === true);
    namespaceOf.set(credential, answer);
  }
  return answer;
}

/**
 * The configuration a namespace's owner may read and change on its buckets through the proxy,
 * besides creating and deleting them: what S3 lets a bucket's owner set on the bucket itself
 * (ACLs and policies included, which reach only that bucket). Refused: the settings that name
 * another bucket or an outside endpoint as a destination (replication, logging, inventory,
 * analytics and metrics exports, notifications), which would reach beyond the namespace.
 */
const OWNER_CONFIGURATION: ReadonlySet<string> = new Set([
  'accelerate',
  'acl',
  'cors',
  'encryption',
  'intelligent-tiering',
  'lifecycle',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'requestPayment',
  'tagging',
  'versioning',
  'website',
]);
const BEYOND_NAMESPACE = /^(analytics|inventory|logging|metrics|notification|replication)$/;

/**
 * Whether an operation the proxy refuses to ordinary scopes is one a namespace's owner makes on a
 * bucket of the namespace: CreateBucket, DeleteBucket, the configuration above, and an object's
 * ACL, retention, legal hold, restore and select.
 */
function ownerOperation({ classified, target, params }: Route, credential: VirtualCredential): boolean {
  const { operation } = classified;
  if (
    operation !== 'PutBucket' &&
    operation !== 'DeleteBucket' &&
    operation !== 'BucketConfiguration' &&
    operation !== 'ObjectConfiguration'
  )
    return false;
  if (!scopeFor(credential, target.bucket)?.namespace) return false;
  if (operation !== 'BucketConfiguration') return true;
  let owned = false;
  for (const param of params) {
    if (BEYOND_NAMESPACE.test(param.key)) return false;
    if (OWNER_CONFIGURATION.has(param.key)) owned = true;
  }
  return owned;
}

/**
 * The answer to an operation the proxy never forwards. Creating a bucket the credential already
 * has is answered as S3 answers the bucket's owner, so tools that make sure of their bucket before
 * writing (rclone, many an SDK script) carry on. Object ACLs, retention, legal holds, restores and
 * selects are not served here, nor is reading a bucket's configuration, which S3-compatible
 * servers say with 501: clients that copy an object's ACL along with it or look for a bucket's
 * policy and CORS rules (s3cmd's cp, mv and info) then carry on too. Changing a bucket is the
 * dashboard's.
 */
function refusalOf(classified: Classified, target: RequestTarget, credential: VirtualCredential): S3ProxyError {
  if (classified.operation === 'PutBucket' && scopeFor(credential, target.bucket)) {
    return new S3ProxyError(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      'operation_refused',
      { extra: { BucketName: target.bucket } },
    );
  }
  if (classified.operation === 'ObjectConfiguration') {
    return new S3ProxyError(
      'NotImplemented',
      'Object ACLs, retention, legal holds, restores and selects are not served by this endpoint.',
      'operation_refused',
    );
  }
  if (classified.operation === 'BucketConfiguration' && classified.access === 'read') {
    return new S3ProxyError(
      'NotImplemented',
      "A bucket's configuration is not served by this endpoint; it is managed through Stowage.",
      'operation_refused',
    );
  }
  return new S3ProxyError(
    'AccessDenied',
    'Bucket creation, deletion and configuration are managed through Stowage, not the S3 endpoint.',
    'operation_refused',
  );
}

/**
 * ListBuckets as synthesised from a credential's scope: each bucket once, sorted by name, dated
 * from when the credential was minted (the upstream is not asked for the bucket's own date).
 */
function listBucketsBody(credential: VirtualCredential): string {
  const names = [...new Set(credential.scopes.map((scope) => scope.bucket))].sort();
  return listBucketsXml(
    { id: credential.accessKey, displayName: credential.accessKey },
    names.map((name) => ({ name, creationDate: credential.createdAt })),
  );
}
