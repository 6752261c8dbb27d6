import { createHmac } from 'node:crypto';
import { checkPrepared } from './check';
import { SigV4Error } from './errors';
import { parseAmzDate, parseCredential } from './parse';
import { constantTimeEqual, deriveSigningKey, signString } from './signing';
import type { CredentialScope } from './parse';
import type { SecretAnswer, SecretLookup } from './verify';

/**
 * Browser-based uploads (S3 PostObject): an HTML form carries a base64 JSON policy (an expiry and
 * the conditions every form field must meet) and its signature, SigV4 (`x-amz-algorithm`,
 * `x-amz-credential`, `x-amz-date`, `x-amz-signature`: HMAC-SHA256 of the base64 policy with the
 * signing key) or SigV2 (`AWSAccessKeyId`, `signature`: base64 HMAC-SHA1 of it with the secret).
 */

/** One condition: exact match, prefix match, or the range of the file's size. */
export type PostCondition =
  | { readonly kind: 'eq'; readonly field: string; readonly value: string }
  | { readonly kind: 'starts-with'; readonly field: string; readonly value: string }
  | { readonly kind: 'content-length-range'; readonly min: number; readonly max: number };

export interface PostPolicy {
  readonly expiration: Date;
  readonly conditions: readonly PostCondition[];
}

/** Form fields that are never named in conditions: the signature, the policy and the file. */
const UNCONDITIONED = new Set(['policy', 'x-amz-signature', 'signature', 'awsaccesskeyid', 'file']);
const MAX_POLICY_BYTES = 20 * 1024;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function invalidPolicy(message: string): SigV4Error {
  return new SigV4Error('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

function policyDenied(message: string): SigV4Error {
  return new SigV4Error('AccessDenied', `Invalid according to Policy: ${message}`);
}

const SAFE_INTEGER = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Parses a base64 policy document; throws InvalidPolicyDocument for anything malformed. */
export function parsePostPolicy(base64: string): PostPolicy {
  if (base64.length === 0 || base64.length > (MAX_POLICY_BYTES * 4) / 3 + 4 || !/^[A-Za-z0-9+/=\s]+$/.test(base64)) {
    throw invalidPolicy('the policy must be base64 of at most 20 KiB.');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('the policy is not valid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalidPolicy('the policy must be an object.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string' || !ISO_DATE.test(expiration)) {
    throw invalidPolicy('expiration must be an ISO 8601 UTC date, e.g. 2030-01-01T12:00:00.000Z.');
  }
  if (!Array.isArray(conditions) || conditions.length > 100) {
    throw invalidPolicy('conditions must be a list of at most 100 conditions.');
  }
  const parsed: PostCondition[] = [];
  for (const condition of conditions) {
    if (Array.isArray(condition)) {
      const [op, a, b] = condition as unknown[];
      if (condition.length !== 3 || typeof op !== 'string') throw invalidPolicy('a condition list has three items.');
      const kind = op.toLowerCase();
      if (kind === 'content-length-range') {
        const min = typeof a === 'string' && /^\d{1,15}$/.test(a) ? Number(a) : a;
        const max = typeof b === 'string' && /^\d{1,15}$/.test(b) ? Number(b) : b;
        if (!SAFE_INTEGER(min) || !SAFE_INTEGER(max) || min > max) {
          throw invalidPolicy('content-length-range takes two non-negative integers, the first not above the second.');
        }
        parsed.push({ kind: 'content-length-range', min, max });
      } else if (kind === 'eq' || kind === 'starts-with') {
        if (typeof a !== 'string' || !a.startsWith('$') || a.length < 2 || typeof b !== 'string') {
          throw invalidPolicy(`${op} takes a "$field" and a string.`);
        }
        parsed.push({ kind, field: a.slice(1).toLowerCase(), value: b });
      } else {
        throw invalidPolicy(`unknown condition "${op.slice(0, 64)}".`);
      }
    } else if (typeof condition === 'object' && condition !== null) {
      const entries = Object.entries(condition as Record<string, unknown>);
      if (entries.length !== 1 || typeof entries[0][1] !== 'string') {
        throw invalidPolicy('an exact-match condition is one field with a string value.');
      }
      parsed.push({ kind: 'eq', field: entries[0][0].toLowerCase(), value: entries[0][1] as string });
    } else {
      throw invalidPolicy('a condition is an object or a list.');
    }
  }
  return { expiration: new Date(expiration), conditions: parsed };
}

/**
 * Checks a form against its policy: not expired; every condition met by the form's fields (the
 * bucket is the one the form was posted to); every field but the signature, the policy, the file
 * and `x-ignore-*` ones named by a condition; the file's size within `content-length-range`.
 * `fields` are keyed by lower-case name. Returns the refusal, or undefined.
 */
export function checkPostPolicy(
  policy: PostPolicy,
  fields: ReadonlyMap<string, string>,
  request: { bucket: string; fileSize: number; now?: Date },
): SigV4Error | undefined {
  const nowMs = (request.now ?? new Date()).getTime();
  if (policy.expiration.getTime() <= nowMs) return policyDenied('Policy expired.');
  const value = (field: string) => (field === 'bucket' ? request.bucket : fields.get(field));
  const covered = new Set<string>(['bucket']);
  let bucketChecked = false;
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') {
      if (request.fileSize < condition.min) {
        return new SigV4Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
          ProposedSize: String(request.fileSize),
          MinSizeAllowed: String(condition.min),
        });
      }
      if (request.fileSize > condition.max) {
        return new SigV4Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
          ProposedSize: String(request.fileSize),
          MaxSizeAllowed: String(condition.max),
        });
      }
      continue;
    }
    covered.add(condition.field);
    if (condition.field === 'bucket') bucketChecked = true;
    const actual = value(condition.field);
    const ok =
      condition.kind === 'eq' ? actual === condition.value : actual !== undefined && actual.startsWith(condition.value);
    if (!ok) {
      return policyDenied(
        `Policy Condition failed: ["${condition.kind}", "$${condition.field}", "${condition.value}"]`,
      );
    }
  }
  if (!bucketChecked) return policyDenied('the policy must name the bucket (a "bucket" condition).');
  if (!covered.has('key')) return policyDenied('the policy must name the key (an "eq" or "starts-with" on "$key").');
  for (const name of fields.keys()) {
    if (UNCONDITIONED.has(name) || name.startsWith('x-ignore-') || covered.has(name)) continue;
    return policyDenied(`Extra input fields: ${name}`);
  }
  return undefined;
}

export interface CheckedPostSignature {
  readonly accessKeyId: string;
  readonly version: 'v4' | 'v2';
  readonly credential?: CredentialScope;
}

export interface PostSignatureOptions {
  /** The region a SigV4 credential must name; undefined accepts it, a string names the expected one. */
  region?: (region: string) => string | undefined;
  /** Whether SigV2 (AWSAccessKeyId and signature) is accepted. */
  sigv2?: boolean;
}

/** How a form is signed, or a refusal: SigV4 fields, or SigV2 ones, never both or neither. */
function preparePostSignature(
  fields: ReadonlyMap<string, string>,
  options: PostSignatureOptions,
): {
  accessKeyId: string;
  sign: (secret: string) => string;
  provided: string;
  version: 'v4' | 'v2';
  credential?: CredentialScope;
} {
  const policy = fields.get('policy');
  if (policy === undefined)
    throw new SigV4Error('InvalidArgument', 'The form has no policy field.', { ArgumentName: 'policy' });
  const v4 = fields.get('x-amz-signature');
  const v2 = fields.get('signature');
  if ((v4 === undefined) === (v2 === undefined)) {
    throw new SigV4Error(
      'InvalidArgument',
      'The form must carry exactly one of x-amz-signature (SigV4) and signature (SigV2).',
      {
        ArgumentName: 'x-amz-signature',
      },
    );
  }
  if (v4 !== undefined) {
    if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
      throw new SigV4Error('InvalidArgument', 'x-amz-algorithm must be AWS4-HMAC-SHA256.', {
        ArgumentName: 'x-amz-algorithm',
      });
    }
    const credential = parseCredential(fields.get('x-amz-credential') ?? '', 'InvalidArgument');
    const amzDate = fields.get('x-amz-date') ?? '';
    if (parseAmzDate(amzDate) === undefined || amzDate.slice(0, 8) !== credential.date) {
      throw new SigV4Error('InvalidArgument', "x-amz-date must be an ISO 8601 basic date of the credential's day.", {
        ArgumentName: 'x-amz-date',
      });
    }
    if (credential.service !== 's3') {
      throw new SigV4Error('InvalidArgument', 'The credential must be for the s3 service.', {
        ArgumentName: 'x-amz-credential',
      });
    }
    const expected = options.region?.(credential.region);
    if (expected !== undefined) {
      throw new SigV4Error(
        'AuthorizationQueryParametersError',
        `the region '${credential.region}' is wrong; expecting '${expected}'`,
        {
          Region: expected,
        },
      );
    }
    return {
      accessKeyId: credential.accessKeyId,
      provided: v4.toLowerCase(),
      version: 'v4',
      credential,
      sign: (secret) =>
        signString(deriveSigningKey(secret, credential.date, credential.region, credential.service), policy),
    };
  }
  if (options.sigv2 === false) {
    throw new SigV4Error(
      'InvalidRequest',
      'Signature Version 2 is turned off on this endpoint. Please use AWS4-HMAC-SHA256 (SigV4).',
    );
  }
  const accessKeyId = fields.get('awsaccesskeyid');
  if (!accessKeyId) {
    throw new SigV4Error('InvalidArgument', 'A SigV2 form needs AWSAccessKeyId.', { ArgumentName: 'AWSAccessKeyId' });
  }
  return {
    accessKeyId,
    provided: v2 as string,
    version: 'v2',
    sign: (secret) => createHmac('sha1', secret).update(policy, 'utf8').digest('base64'),
  };
}

function verdict(
  prepared: ReturnType<typeof preparePostSignature>,
  answer: SecretAnswer,
): CheckedPostSignature | SigV4Error {
  const secret = typeof answer === 'object' && answer !== null ? answer.secretKey : answer;
  if (!secret) {
    return SigV4Error.refusal(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      {
        AWSAccessKeyId: prepared.accessKeyId,
      },
    );
  }
  if (!constantTimeEqual(prepared.sign(secret), prepared.provided)) {
    return SigV4Error.refusal(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: prepared.accessKeyId },
    );
  }
  return { accessKeyId: prepared.accessKeyId, version: prepared.version, credential: prepared.credential };
}

/**
 * Verifies the signature of a POST form (fields keyed by lower-case name) against the secret of
 * its access key. Answers synchronously when `lookupSecret` does; refusals come back, not thrown.
 */
export function checkPostSignature(
  fields: ReadonlyMap<string, string>,
  lookupSecret: SecretLookup,
  options: PostSignatureOptions = {},
): CheckedPostSignature | SigV4Error | Promise<CheckedPostSignature | SigV4Error> {
  return checkPrepared(
    () => preparePostSignature(fields, options),
    (prepared) => prepared.accessKeyId,
    lookupSecret,
    verdict,
  );
}
