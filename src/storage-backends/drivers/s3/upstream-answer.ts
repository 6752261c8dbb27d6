import { StowageError } from '@stowage/errors';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ObjectHeaders } from './s3-mappers';

/** What a GetObject or HeadObject answer says about the object, read from its headers. */
export interface ObjectAnswer extends ObjectHeaders {
  ContentRange?: string;
  CacheControl?: string;
  ContentDisposition?: string;
  ContentEncoding?: string;
  ContentLanguage?: string;
}

/** An upstream refusal shaped as `mapS3Error` reads one (the SDK's service exception). */
export interface UpstreamRefusal {
  name: string;
  Code: string;
  message: string;
  $metadata: { httpStatusCode: number };
  $response: { headers: Record<string, string | undefined> };
}

/** The longest error document read from an upstream; the rest is discarded. */
const ERROR_BODY_LIMIT = 64 * 1024;
const META_PREFIX = 'x-amz-meta-';
/** Names the SDK gives refusals that come without a body (HEAD, 304). */
const BODILESS_NAMES: Record<number, string> = {
  304: 'NotModified',
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  412: 'PreconditionFailed',
};
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

type Headers = IncomingHttpHeaders | Record<string, string | string[] | undefined>;

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** The object's size, type, tag, version, date, class and user metadata, as the SDK reports them. */
export function objectAnswerFrom(headers: Headers): ObjectAnswer {
  const out: ObjectAnswer = { Metadata: {} };
  for (const [name, raw] of Object.entries(headers)) {
    const value = one(raw);
    if (value === undefined) continue;
    switch (name) {
      case 'content-length': {
        const length = Number(value);
        if (Number.isSafeInteger(length) && length >= 0) out.ContentLength = length;
        break;
      }
      case 'content-range':
        out.ContentRange = value;
        break;
      case 'content-type':
        out.ContentType = value;
        break;
      case 'etag':
        out.ETag = value;
        break;
      case 'last-modified': {
        const date = new Date(value);
        if (!Number.isNaN(date.getTime())) out.LastModified = date;
        break;
      }
      case 'x-amz-version-id':
        out.VersionId = value;
        break;
      case 'x-amz-storage-class':
        out.StorageClass = value;
        break;
      case 'cache-control':
        out.CacheControl = value;
        break;
      case 'content-disposition':
        out.ContentDisposition = value;
        break;
      case 'content-encoding':
        out.ContentEncoding = value;
        break;
      case 'content-language':
        out.ContentLanguage = value;
        break;
      default:
        if (name.startsWith(META_PREFIX)) out.Metadata![name.slice(META_PREFIX.length)] = value;
    }
  }
  return out;
}

function xmlText(xml: string, element: string): string | undefined {
  const match = new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml);
  return match?.[1].replace(/&(amp|lt|gt|quot|apos);/g, (_, entity: string) => ENTITIES[entity]);
}

/** The first `limit` bytes of a body, and whether there was more; leaving the loop early destroys the rest. */
async function readUpTo(body: Readable, limit: number): Promise<{ bytes: Buffer; whole: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > limit) break;
  }
  const bytes = Buffer.concat(chunks);
  return { bytes: bytes.subarray(0, limit), whole: bytes.length <= limit };
}

/** Reads at most {@link ERROR_BODY_LIMIT} bytes of an error body. */
async function readErrorBody(body: Readable | undefined): Promise<string> {
  if (!body) return '';
  try {
    return (await readUpTo(body, ERROR_BODY_LIMIT)).bytes.toString('utf8');
  } catch {
    // A body that fails midway leaves the status to speak for the refusal.
    return '';
  }
}

/**
 * A whole answer document (a listing), as text; a document longer than `limit` bytes is a
 * `backend_error` 502, and a body that fails midway throws its failure.
 */
export async function readDocument(body: Readable, limit: number): Promise<string> {
  const { bytes, whole } = await readUpTo(body, limit);
  if (!whole) {
    throw new StowageError('backend_error', undefined, `the upstream answered a document longer than ${limit} bytes`, {
      status: 502,
    });
  }
  return bytes.toString('utf8');
}

/**
 * A refusal (status >= 300) as the SDK would have thrown it: the error document's `<Code>` and
 * `<Message>` when there is one, else a name for the status.
 */
export async function upstreamRefusal(status: number, headers: Headers, body?: Readable): Promise<UpstreamRefusal> {
  const xml = await readErrorBody(body);
  return refusalOf(status, headers, xmlText(xml, 'Code'), xmlText(xml, 'Message'));
}

/**
 * A refusal of `status` with the upstream's code and message (from an error document, including
 * one answered with status 200), shaped as `mapS3Error` reads it.
 */
export function refusalOf(status: number, headers: Headers, code?: string, message?: string): UpstreamRefusal {
  const name = code || BODILESS_NAMES[status] || 'UnknownError';
  const flat: Record<string, string | undefined> = {};
  for (const [header, value] of Object.entries(headers)) flat[header] = one(value);
  return {
    name,
    Code: name,
    message: message || 'UnknownError',
    $metadata: { httpStatusCode: status },
    $response: { headers: flat },
  };
}
