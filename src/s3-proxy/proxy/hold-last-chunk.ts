import { Transform, TransformCallback } from 'node:stream';

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
