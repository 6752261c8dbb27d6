import type { IncomingMessage } from 'node:http';
import {
  checkSignedPayload,
  createBodyVerifier,
  PayloadHashVerifier,
  SigV4Error,
  VerifiedRequest,
} from '@stowage/sigv4';
import { Readable, Transform, TransformCallback } from 'node:stream';

/**
 * Passes a body on one chunk late, so the final chunk leaves only once the streams before this
 * one have ended cleanly. A verifier that fails at the very end (payload hash, trailer checksum)
 * thereby keeps the upstream one chunk short of its Content-Length, and the upstream stores
 * nothing when the request is then aborted.
 */
export class HoldLastChunk extends Transform {
  private held: Buffer | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const previous = this.held;
    this.held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    const last = this.held;
    this.held = undefined;
    callback(null, last);
  }
}

/**
 * Largest chunk of a signed aws-chunked body. Each signed chunk is held until its signature
 * checks, so this caps what a client that stalls mid-chunk pins (SDKs send 64-128 KiB chunks).
 */
export const MAX_SIGNED_CHUNK_BYTES = 1024 * 1024;

const verifierOptions = (verified: VerifiedRequest) =>
  verified.payload.startsWith('streaming-signed') ? { maxChunkSize: MAX_SIGNED_CHUNK_BYTES } : {};

/** Why a body could not be read: the client hung up before sending all of it. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection before sending the whole body');
  }
}

/**
 * The request body as the upstream should get it, streamed through the verifier its payload mode
 * calls for, with the last chunk held back until the verifier has passed the whole body (a signed
 * payload's hash check holds it back itself, one stage less per chunk). Piped by hand, since
 * `pipeline()` costs an AbortController per call. `onRefused` hears the verifier's verdict when
 * it fails; a client that hangs up just ends the body early (the upstream then sees it short and
 * stores nothing).
 */
export function verifiedBody(
  source: IncomingMessage,
  verified: VerifiedRequest,
  contentLength: number,
  onRefused: (err: Error) => void,
): Readable {
  const signed = verified.payload === 'signed';
  const verifier = signed
    ? new PayloadHashVerifier(verified.payloadHash as string, contentLength, true)
    : createBodyVerifier(verified, verifierOptions(verified));
  const held = signed ? verifier : new HoldLastChunk();
  verifier.once('error', (err) => {
    onRefused(err);
    held.destroy(err);
  });
  source.once('close', () => {
    if (!source.complete) held.destroy(new ClientGoneError());
  });
  if (held === verifier) source.pipe(verifier);
  else source.pipe(verifier).pipe(held);
  return held;
}

/**
 * A small request body read whole and verified before anything goes upstream: the upstream then
 * gets headers and body in one write and never sees a byte of a forged body. A signed payload is
 * hashed in one call; the streaming modes go through their decoder. Rejects with a SigV4Error
 * (the verifier's verdict, or more than `limit` bytes), or with {@link ClientGoneError}.
 */
export async function readVerifiedBody(
  source: IncomingMessage,
  verified: VerifiedRequest,
  contentLength: number,
  limit: number,
): Promise<Buffer> {
  const signed = verified.payload === 'signed';
  const body = await readWholeBody(
    source,
    signed ? undefined : createBodyVerifier(verified, verifierOptions(verified)),
    limit,
  );
  const refusal = signed ? checkSignedPayload(body, verified, contentLength) : undefined;
  if (refusal) throw refusal;
  return body;
}

/**
 * A request body read whole, through its verifier when the client signed it in any way, as it is
 * otherwise (an unsigned payload). Rejects like {@link readVerifiedBody}.
 */
export function readBody(
  source: IncomingMessage,
  verified: VerifiedRequest | undefined,
  contentLength: number,
  limit: number,
): Promise<Buffer> {
  if (!verified || verified.payload === 'unsigned') return readWholeBody(source, undefined, limit);
  return readVerifiedBody(source, verified, contentLength, limit);
}

function readWholeBody(source: IncomingMessage, verifier: Transform | undefined, limit: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const output: Readable = verifier ?? source;
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: Error) => {
      if (verifier) {
        source.unpipe(verifier);
        verifier.destroy();
      }
      reject(err);
    };
    output.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(new SigV4Error('IncompleteBody', 'The request body is longer than it was declared.'));
      else chunks.push(chunk);
    });
    output.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    output.once('error', fail);
    source.once('close', () => {
      if (!source.complete) fail(new ClientGoneError());
    });
    if (verifier) source.pipe(verifier);
  });
}
