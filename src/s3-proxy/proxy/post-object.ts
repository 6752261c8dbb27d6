import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { escapeXml, withRequestId } from '@stowage/s3-xml';
import { checkPostPolicy, parsePostPolicy, UNSIGNED_PAYLOAD } from '@stowage/sigv4';
import { LOGGER } from '../../logging/logging.module';
import { UpstreamClient } from '../../storage-backends/upstream/upstream-client';
import { reply } from './answer';
import { ProxyAuthenticator } from './authenticate';
import type { Exchange, Refusal } from './exchange';
import { ProxyGate } from './gate';
import type { Classified } from './operations';
import { formBoundary, PostForm, readPostForm } from './post-form';
import { S3ProxyError } from './proxy-error';
import { ProxyQuota } from './quota';
import { ProxyRecorder } from './record';
import { keyProblem } from './request-target';
import type { Route } from './route';
import { ClientGoneError } from './verified-body';

/** The largest file a form may upload, as S3 allows for one PUT. */
const MAX_POST_BYTES = 5 * 1024 ** 3;
const POST_OBJECT: Classified = { operation: 'PostObject', disposition: 'forward', access: 'write' };
/** Form fields that become headers of the upload, besides `x-amz-meta-*`. */
const HEADER_FIELDS = ['cache-control', 'content-disposition', 'content-encoding', 'content-type', 'expires'];
const HARMLESS_ACLS = new Set(['private', 'bucket-owner-full-control']);

/**
 * PostObject: a browser uploads a file with an HTML form and a signed POST policy. The form's
 * fields are read up to the file, the policy's signature is checked against the same credential
 * store (SigV4, or SigV2 while it is on), its conditions against the fields (bucket, key prefix,
 * content type, `content-length-range`, expiry), then the same gate as every signed request
 * decides (scope, key prefix, rate limits, CORS) and the file streams upstream as a PutObject of
 * its exact size, its bytes reserved against the bucket's quota first and the write audited
 * before the answer.
 */
@Injectable()
export class ProxyPostObject {
  constructor(
    private readonly authenticator: ProxyAuthenticator,
    private readonly gate: ProxyGate,
    private readonly quota: ProxyQuota,
    private readonly recorder: ProxyRecorder,
    private readonly upstream: UpstreamClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Resolves to the refusal to answer with, or undefined once the answer is under way. */
  async handle(x: Exchange, routed: Route): Promise<Refusal | undefined> {
    const { req } = x;
    const boundary = formBoundary(req.headers['content-type']);
    if (!boundary) {
      return new S3ProxyError(
        'InvalidArgument',
        'A POST upload must be multipart/form-data with a boundary.',
        'invalid_request',
      );
    }
    const declared = req.headers['content-length'];
    const length = declared === undefined ? NaN : Number(declared);
    if (!Number.isSafeInteger(length) || length < 0) {
      return new S3ProxyError('MissingContentLength', 'You must provide the Content-Length HTTP header.');
    }
    if (length > MAX_POST_BYTES + 1024 * 1024) {
      return new S3ProxyError(
        'EntityTooLarge',
        'Your proposed upload exceeds the maximum allowed size.',
        'invalid_request',
      );
    }
    let form: PostForm;
    try {
      form = await readPostForm(req, boundary, length);
    } catch (err) {
      if (err instanceof ClientGoneError) return undefined;
      return err as Refusal;
    }
    const refused = await this.admitForm(x, routed, form);
    if (refused !== undefined) form.file.destroy();
    return refused;
  }

  private async admitForm(x: Exchange, routed: Route, form: PostForm): Promise<Refusal | undefined> {
    const { fields, fileSize } = form;
    const auth = await this.authenticator.authenticatePostForm(x, fields);
    if (auth instanceof Error) return auth;
    const template = fields.get('key');
    if (template === undefined) {
      return new S3ProxyError('InvalidArgument', "Bucket POST must contain a field named 'key'.", 'invalid_request', {
        extra: { ArgumentName: 'key' },
      });
    }
    // `${filename}` is replaced before the conditions are checked, as S3 does.
    const key = template.includes('${filename}') ? template.split('${filename}').join(form.fileName) : template;
    fields.set('key', key);
    let refusal: Refusal | undefined;
    try {
      refusal = checkPostPolicy(parsePostPolicy(fields.get('policy') ?? ''), fields, {
        bucket: routed.target.bucket,
        fileSize,
      });
    } catch (err) {
      return err as Refusal;
    }
    if (refusal) return refusal;
    const problem = keyProblem(key);
    if (problem !== undefined) {
      return new S3ProxyError('InvalidArgument', `Object key ${problem}.`, 'invalid_request', {
        extra: { ArgumentName: 'key', ArgumentValue: key.slice(0, 256) },
      });
    }
    x.key = key;
    const target = { ...routed.target, key };
    const route: Route = { target, params: [], classified: POST_OBJECT, entry: 'signed' };
    const decision = await this.gate.decide(x, route, auth);
    if (decision instanceof Error) return decision;
    if (decision.kind !== 'forward') return new S3ProxyError('InvalidRequest', 'The form cannot be served.');
    const acl = fields.get('acl');
    if (acl !== undefined && !decision.owner && !HARMLESS_ACLS.has(acl)) {
      return new S3ProxyError('AccessDenied', 'Object ACLs are managed through Stowage.', 'operation_refused');
    }
    const admitted = this.recorder.admit(x);
    if (admitted) return admitted;

    const headers: Record<string, string> = { 'content-length': String(fileSize) };
    for (const [name, value] of fields) {
      if (HEADER_FIELDS.includes(name) || (name.startsWith('x-amz-meta-') && name.length > 11)) headers[name] = value;
      else if (name === 'x-amz-storage-class' || name === 'x-amz-server-side-encryption') headers[name] = value;
    }
    if (acl !== undefined) headers['x-amz-acl'] = acl;
    x.bytesIn = fileSize;
    x.payload = 'post-form';
    const hold = await this.quota.write(x, target, [], fileSize, undefined);
    if (hold instanceof Error) return hold;
    const early = form.file.errored;
    if (early) {
      hold.failed();
      return early instanceof ClientGoneError ? undefined : early;
    }
    let bodyError: Error | undefined;
    form.file.once('error', (err) => {
      bodyError = err;
    });
    this.recorder.intended(x);
    let response;
    try {
      response = await this.upstream.send(decision.spec, {
        method: 'PUT',
        bucket: target.bucket,
        key,
        params: [],
        headers,
        payloadHash: UNSIGNED_PAYLOAD,
        body: form.file,
      });
    } catch (err) {
      hold.failed();
      if (bodyError instanceof ClientGoneError || x.res.destroyed) return undefined;
      if (bodyError) return bodyError;
      this.logger.warn({ reqId: x.requestId, err: (err as Error).message }, 'S3 proxy PostObject upstream failed');
      return new S3ProxyError(
        'ServiceUnavailable',
        'The upstream storage did not answer. Please try again.',
        'upstream_unavailable',
        {
          retryAfterSeconds: 1,
        },
      );
    }
    if (bodyError) {
      hold.failed();
      response.body.on('error', () => undefined).destroy();
      return bodyError instanceof ClientGoneError ? undefined : bodyError;
    }
    if (response.statusCode >= 300) {
      hold.failed();
      x.result = 'error';
      reply(x, response.statusCode, withRequestId(await response.body.text(), x.requestId));
      return undefined;
    }
    response.body.resume();
    const etag = typeof response.headers.etag === 'string' ? response.headers.etag : '';
    hold.committed({ etag: etag || undefined });
    const unaudited = await this.recorder.committed(x, response.statusCode);
    if (unaudited) return unaudited;
    this.answer(x, fields, target.bucket, key, etag);
    return undefined;
  }

  /** S3's answer to a form upload: `success_action_redirect`, or `success_action_status` (204 by default). */
  private answer(x: Exchange, fields: ReadonlyMap<string, string>, bucket: string, key: string, etag: string): void {
    const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
    if (redirect && /^https?:\/\//i.test(redirect)) {
      let location: URL | undefined;
      try {
        location = new URL(redirect);
      } catch {
        location = undefined;
      }
      if (location) {
        location.searchParams.set('bucket', bucket);
        location.searchParams.set('key', key);
        location.searchParams.set('etag', etag);
        x.res.writeHead(303, {
          ...x.cors,
          location: location.toString(),
          'content-length': '0',
          'x-amz-request-id': x.requestId,
        });
        x.res.end();
        return;
      }
    }
    const status = fields.get('success_action_status');
    const location = `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    if (status === '201') {
      reply(
        x,
        201,
        `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(etag)}</ETag></PostResponse>`,
        { etag, location },
      );
      return;
    }
    x.res.writeHead(status === '200' ? 200 : 204, {
      ...x.cors,
      etag,
      location,
      'content-length': '0',
      'x-amz-request-id': x.requestId,
    });
    x.res.end();
  }
}
