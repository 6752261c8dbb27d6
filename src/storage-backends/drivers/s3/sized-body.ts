import { Readable, Transform } from 'node:stream';
import { StowageError } from '@stowage/errors';

/** How much of a body may wait between its source and the upstream request (the upstream client's socket buffer). */
const BODY_BUFFER_BYTES = 1024 * 1024;

export interface SizedBody {
  /** What to hand the SDK as the request body. */
  body: Readable;
  /** Aborts the upstream request when the body fails; pass it as the SDK's `abortSignal`. */
  signal: AbortSignal;
  /** Why the body failed, once it has; undefined while it is whole. */
  failure(): StowageError | undefined;
  /** Detaches from the source (call when the request is over, whatever its outcome). */
  release(): void;
}

/**
 * A request body that must carry exactly `size` bytes. The SDK pipes a stream into its request
 * with the declared Content-Length: when the stream errors, is destroyed (a client that hung up)
 * or ends early, it neither ends nor aborts the request, so the upstream waits for the missing
 * bytes until a timeout and may then keep what it got. Here the upstream request is aborted the
 * moment the body fails, and never ended with fewer (or more) bytes than declared.
 */
export function sizedBody(source: Readable, size: number): SizedBody {
  const controller = new AbortController();
  let failure: StowageError | undefined;
  let seen = 0;
  const fail = (why: string) => {
    if (failure) return failure;
    // Not the upstream's doing, but nothing a connected client could have caused either (HTTP
    // framing makes its body whole or cut off): a source stream that failed, as in a transfer
    // between backends. A client that hung up is reported by the route (src/objects/client-abort.ts).
    failure = new StowageError('backend_error', undefined, `the upload was aborted: its body ${why}`, {
      status: 502,
    });
    controller.abort(failure);
    return failure;
  };
  const counted = new Transform({
    // As much buffered as the upstream connection holds, so the upload does not pause every 16 KiB.
    highWaterMark: BODY_BUFFER_BYTES,
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > size) return callback(fail(`is longer than its declared ${size} bytes`));
      callback(null, chunk);
    },
    flush(callback) {
      if (seen !== size) return callback(fail(`ended after ${seen} of its declared ${size} bytes`));
      callback();
    },
  });
  // The failure reaches the caller through `failure()` and the aborted request; once the SDK
  // has let go of the body nobody else listens, and an unheard 'error' would end the process.
  counted.on('error', () => undefined);
  const onError = () => fail(`failed after ${seen} of ${size} bytes`);
  const onClose = () => {
    if (!source.readableEnded) fail(`was cut off after ${seen} of ${size} bytes`);
  };
  source.on('error', onError);
  source.on('close', onClose);
  source.pipe(counted);
  // A source that closed before it got here (its client hung up while the request was checked).
  if (source.destroyed) onClose();
  return {
    body: counted,
    signal: controller.signal,
    failure: () => failure,
    release: () => {
      source.off('error', onError);
      source.off('close', onClose);
      source.unpipe(counted);
    },
  };
}
