import type { IncomingMessage } from 'node:http';
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
 * The request body as the upstream should get it: `source` through `verifier`, one chunk held
 * back until the verifier has passed the whole body. Piped by hand, since `pipeline()` costs an
 * AbortController per call. `onRefused` hears the verifier's verdict when it fails; a client that
 * hangs up just ends the body early (the upstream then sees it short and stores nothing).
 */
export function verifiedBody(source: IncomingMessage, verifier: Transform, onRefused: (err: Error) => void): Readable {
  const held = new HoldLastChunk();
  verifier.once('error', (err) => {
    onRefused(err);
    held.destroy(err);
  });
  source.once('close', () => {
    if (!source.complete) held.destroy(new Error('the client closed the connection before sending the whole body'));
  });
  source.pipe(verifier).pipe(held);
  return held;
}
