import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { S3ProxyError } from './proxy-error';
import { ClientGoneError } from './verified-body';

/**
 * The multipart/form-data body of a PostObject, read as a stream: the fields before the file are
 * read (at most {@link MAX_FIELD_BYTES}), the file's bytes are passed on without being held, and
 * its size is known before any of it moves. S3 wants the file as the last field; the body then
 * ends with the closing delimiter (`\r\n--boundary--\r\n`), so the file's size is the declared
 * Content-Length minus what came before it and that delimiter. The file stream holds its last
 * chunk back until the delimiter has been read exactly as expected: a body that ends otherwise
 * (short, longer, another field after the file) fails the stream, and the upstream, one chunk
 * short of the length it was promised, stores nothing.
 */

/** Bytes of form fields (policy, key, metadata, …) read before the file: S3 allows 20 KiB of policy. */
export const MAX_FIELD_BYTES = 256 * 1024;
const MAX_FIELDS = 100;

export interface PostForm {
  /** Fields by lower-case name (a name sent twice is refused). */
  readonly fields: Map<string, string>;
  /** The file part's file name, when it gives one. */
  readonly fileName: string;
  /** The file's size in bytes. */
  readonly fileSize: number;
  /** The file's bytes; pipe it somewhere, or destroy it. */
  readonly file: Readable;
}

function malformed(message: string): S3ProxyError {
  return new S3ProxyError('InvalidArgument', message, 'invalid_request', { extra: { ArgumentName: 'file' } });
}

/** The boundary of a `multipart/form-data; boundary=…` content type, or undefined. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

interface PartHeaders {
  name: string;
  fileName?: string;
}

function partHeaders(text: string): PartHeaders | undefined {
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const value = line.slice(colon + 1);
    if (!/^\s*form-data\s*(;|$)/i.test(value)) return undefined;
    const name = /;\s*name="([^"]*)"/i.exec(value)?.[1];
    const fileName = /;\s*filename="([^"]*)"/i.exec(value)?.[1];
    return name === undefined ? undefined : { name, fileName };
  }
  return undefined;
}

/**
 * Reads the fields of a PostObject form up to its file, then hands the file on as a stream of
 * exactly its size. Rejects with an S3 error for a malformed form, with {@link ClientGoneError}
 * when the client hangs up first.
 */
export function readPostForm(req: IncomingMessage, boundary: string, contentLength: number): Promise<PostForm> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise<PostForm>((resolve, reject) => {
    let buffer: Buffer = Buffer.alloc(0);
    let pos = 0;
    let started = false;
    const fields = new Map<string, string>();
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };
    const onClose = () => {
      if (!req.complete) fail(new ClientGoneError());
    };
    const onEnd = () => fail(malformed('The form has no file field (it must be the last field).'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
    };
    const onData = (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      try {
        parse();
      } catch (err) {
        fail(err as Error);
      }
    };
    const parse = () => {
      for (;;) {
        if (!started) {
          const opening = Buffer.from(`--${boundary}\r\n`);
          if (buffer.length < opening.length) return;
          if (!buffer.subarray(0, opening.length).equals(opening)) {
            throw malformed('The form does not start with its boundary.');
          }
          pos = opening.length;
          started = true;
        }
        const headerEnd = buffer.indexOf('\r\n\r\n', pos);
        if (headerEnd === -1) {
          if (buffer.length > MAX_FIELD_BYTES) throw malformed('The form fields before the file are too large.');
          return;
        }
        const headers = partHeaders(buffer.subarray(pos, headerEnd).toString('latin1'));
        if (!headers) throw malformed('A form part has no Content-Disposition: form-data name.');
        const dataStart = headerEnd + 4;
        const name = headers.name.toLowerCase();
        if (name === 'file') {
          const fileSize = contentLength - dataStart - closing.length;
          if (fileSize < 0) throw malformed('The form is shorter than its file field says.');
          settled = true;
          cleanup();
          resolve({
            fields,
            fileName: headers.fileName ?? '',
            fileSize,
            file: fileStream(req, buffer.subarray(dataStart), fileSize, closing, delimiter),
          });
          return;
        }
        const end = buffer.indexOf(delimiter, dataStart);
        if (end === -1 || end + delimiter.length + 2 > buffer.length) {
          if (buffer.length > MAX_FIELD_BYTES) throw malformed('The form fields before the file are too large.');
          return;
        }
        if (fields.has(name) || fields.size >= MAX_FIELDS)
          throw malformed(`The form field ${name} is repeated, or there are too many.`);
        fields.set(name, buffer.subarray(dataStart, end).toString('utf8'));
        const after = buffer.subarray(end + delimiter.length, end + delimiter.length + 2).toString('latin1');
        if (after === '--') throw malformed('The form has no file field (it must be the last field).');
        if (after !== '\r\n') throw malformed('The form has a malformed boundary.');
        pos = end + delimiter.length + 2;
      }
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', onClose);
  });
}

/** The file's bytes: `head` first, then the rest of the request, exactly `size` of them. */
function fileStream(req: IncomingMessage, head: Buffer, size: number, closing: Buffer, delimiter: Buffer): Readable {
  const out = new PassThrough({ highWaterMark: 64 * 1024 });
  // A failure found before anyone reads the stream stays on it (`errored`) instead of crashing.
  out.on('error', () => undefined);
  let remaining = size;
  let held: Buffer | undefined;
  /** The last bytes of the file so far, to find a delimiter split across two chunks. */
  let seam: Buffer = Buffer.alloc(0);
  const trailer: Buffer[] = [];
  let trailerLength = 0;
  let done = false;
  const fail = (err: Error) => {
    if (done) return;
    done = true;
    req.off('data', onData);
    out.destroy(err);
  };
  const take = (chunk: Buffer) => {
    const part = chunk.length <= remaining ? chunk : chunk.subarray(0, remaining);
    remaining -= part.length;
    const rest = part.length === chunk.length ? undefined : chunk.subarray(part.length);
    if (part.length > 0) {
      // A delimiter inside the file means more fields follow it, which S3 would read as such.
      const joined = Buffer.concat([seam, part.subarray(0, delimiter.length - 1)]);
      if (part.indexOf(delimiter) !== -1 || joined.indexOf(delimiter) !== -1) {
        return fail(malformed('The form goes on after its file field (the file must be the last field).'));
      }
      const keep = delimiter.length - 1;
      seam = part.length >= keep ? part.subarray(part.length - keep) : Buffer.concat([seam, part]).subarray(-keep);
      if (held && !out.write(held)) req.pause();
      held = part;
    }
    if (rest) {
      trailerLength += rest.length;
      if (trailerLength > closing.length) return fail(malformed('The form goes on after its file field.'));
      trailer.push(rest);
    }
  };
  const onData = (chunk: Buffer) => take(chunk);
  out.on('drain', () => req.resume());
  out.once('close', () => {
    if (!done) {
      done = true;
      req.off('data', onData);
    }
  });
  req.once('close', () => {
    if (!req.complete) fail(new ClientGoneError());
  });
  req.once('end', () => {
    if (done) return;
    const got = Buffer.concat(trailer, trailerLength);
    if (remaining > 0 || !got.equals(closing)) {
      fail(malformed('The form does not end right after its file field with the closing boundary.'));
      return;
    }
    done = true;
    if (held) out.write(held);
    out.end();
  });
  if (head.length > 0) take(head);
  req.on('data', onData);
  return out;
}
