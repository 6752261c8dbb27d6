import { createHash, createHmac } from 'node:crypto';
import type { StreamingPayloadMode } from '../chunked';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What a signer needs to chain chunk signatures from a request's seed signature. */
export interface ChunkSigningContext {
  signingKey: Uint8Array;
  seedSignature: string;
  amzDate: string;
  scope: string;
}

export interface AwsChunkedEncodeOptions {
  payload: StreamingPayloadMode;
  /** Size of every chunk but the last. */
  chunkSize: number;
  /** Required for the signed variants. */
  signing?: ChunkSigningContext;
  /** Trailer lines (name, value), for the trailer variants. */
  trailers?: readonly (readonly [string, string])[];
}

function hmacHex(key: Uint8Array, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** The signature of one chunk, chained from the previous signature. */
export function chunkSignature(context: ChunkSigningContext, previous: string, data: Uint8Array): string {
  const hash = createHash('sha256').update(data).digest('hex');
  return hmacHex(
    context.signingKey,
    `AWS4-HMAC-SHA256-PAYLOAD\n${context.amzDate}\n${context.scope}\n${previous}\n${EMPTY_SHA256}\n${hash}`,
  );
}

/** The signature of the trailer block, chained from the final chunk's signature. */
export function trailerSignature(
  context: ChunkSigningContext,
  previous: string,
  trailers: readonly (readonly [string, string])[],
): string {
  const canonical = trailers.map(([name, value]) => `${name}:${value}\n`).join('');
  const hash = createHash('sha256').update(canonical).digest('hex');
  return hmacHex(
    context.signingKey,
    `AWS4-HMAC-SHA256-TRAILER\n${context.amzDate}\n${context.scope}\n${previous}\n${hash}`,
  );
}

/**
 * Encodes a body as `aws-chunked`, following the S3 streaming-upload specification: frames of
 * `hex-size[;chunk-signature=sig]\r\n<data>\r\n`, a zero-size final frame, then (trailer
 * variants) the trailer lines and, when signed, `x-amz-trailer-signature`, then an empty line.
 */
export function encodeAwsChunked(body: Uint8Array, options: AwsChunkedEncodeOptions): Buffer {
  const signed = options.payload === 'streaming-signed' || options.payload === 'streaming-signed-trailer';
  const withTrailer = options.payload !== 'streaming-signed';
  const context = options.signing;
  if (signed && !context) throw new Error('a signed variant needs a signing context');
  if (options.chunkSize < 1) throw new Error('chunkSize must be positive');
  const parts: Buffer[] = [];
  let previous = context?.seedSignature ?? '';
  const frame = (data: Uint8Array): void => {
    let header = data.length.toString(16);
    if (signed) {
      previous = chunkSignature(context as ChunkSigningContext, previous, data);
      header += `;chunk-signature=${previous}`;
    }
    parts.push(Buffer.from(`${header}\r\n`, 'latin1'));
    if (data.length > 0) parts.push(Buffer.from(data), Buffer.from('\r\n'));
  };
  for (let offset = 0; offset < body.length; offset += options.chunkSize) {
    frame(body.subarray(offset, Math.min(body.length, offset + options.chunkSize)));
  }
  frame(new Uint8Array(0));
  if (withTrailer) {
    const trailers = options.trailers ?? [];
    for (const [name, value] of trailers) parts.push(Buffer.from(`${name}:${value}\r\n`, 'latin1'));
    if (signed) {
      const signature = trailerSignature(context as ChunkSigningContext, previous, trailers);
      parts.push(Buffer.from(`x-amz-trailer-signature:${signature}\r\n`, 'latin1'));
    }
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}
