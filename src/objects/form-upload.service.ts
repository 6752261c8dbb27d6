import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import busboy from 'busboy';
import { StowageError } from '@stowage/errors';
import type { QuotaHold } from '../quotas/quota-reservations.service';
import { Backend, CompletedPart } from '../storage-backends/backend';
import { assertKey, assertMediaType, MAX_SINGLE_UPLOAD_BYTES, mediaTypeProblem } from './object-rules';
import { refuseIfExists, sizeIfExists } from '../storage-backends/object-lookup';

/** Memory held per form upload: one part at a time. */
const PART_BYTES = 8 * 1024 * 1024;

export interface FormUpload {
  key: string;
  size: number;
  contentType?: string;
  /** The size of the object the upload replaced, when it counted against a quota. */
  replaced?: number;
}

export interface FormUploadOptions {
  /** The key from the query (`?key=`); it wins over the form's `key` field and the file name. */
  key?: string;
  /** Refuse (`object_exists`) when the key exists (`no_overwrite=true` or `If-None-Match: *`). */
  noOverwrite: boolean;
}

/** A file read from the form and written towards its key, not yet visible there. */
interface Pending {
  key: string;
  contentType?: string;
  size: number;
  /** The whole file, when it fitted in one part: written by one PutObject at commit. */
  body?: Buffer;
  /** Otherwise the multipart upload on the key itself, completed at commit. */
  uploadId?: string;
  parts: CompletedPart[];
}

/**
 * Browser uploads as `multipart/form-data` (fields `key`, `content_type`, then `file`). The key is
 * known before the file's first byte (from `?key=`, a `key` field ahead of the file, or the file
 * name), so the file goes straight to its key: a small one is held (at most 8 MiB) and written by
 * one PutObject, a larger one streams as a multipart upload of 8 MiB parts on the key. Nothing is
 * visible at the key until the whole form has been read, so a client that goes away, a late
 * field that would change the key, or a refusal leaves the previous object untouched — and, on a
 * versioned bucket, exactly one new version per upload (no staging copy, no delete marker).
 */
@Injectable()
export class FormUploadService {
  async receive(
    backend: Backend,
    bucket: string,
    request: IncomingMessage,
    contentType: string,
    options: FormUploadOptions,
    quota: QuotaHold,
  ): Promise<FormUpload> {
    const fields: Record<string, string> = {};
    /** Fields that arrived after the file (too late to choose its key or type). */
    const late: Record<string, string> = {};
    let pending: Promise<Pending> | undefined;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { files: 1, fields: 10, fieldSize: 4096, fileSize: MAX_SINGLE_UPLOAD_BYTES },
      });
    } catch {
      throw new StowageError('bad_request', undefined, 'malformed multipart/form-data request');
    }
    const gone = new StowageError(
      'bad_request',
      undefined,
      'the client closed the connection before the form was complete',
    );
    const done = new Promise<void>((resolve, reject) => {
      parser.on('field', (name, value) => {
        if (pending) late[name] = value;
        else fields[name] = value;
      });
      parser.on('file', (name, stream, info) => {
        if (name !== 'file' || pending) {
          stream.resume();
          return;
        }
        pending = this.start(backend, bucket, stream, {
          key: options.key || fields.key || info.filename || '',
          fieldType: fields.content_type || undefined,
          fileType: info.mimeType,
          noOverwrite: options.noOverwrite,
          quota,
        });
        // A refusal (the key exists, a bad key or type, the quota) is answered at once: the rest
        // of the body is not read, and the answer closes the connection (see GlobalErrorFilter).
        pending.catch((err: unknown) => {
          request.unpipe(parser);
          stream.resume();
          reject(err);
        });
      });
      parser.on('error', (err) =>
        reject(
          err === gone ? gone : new StowageError('bad_request', undefined, 'malformed multipart/form-data request'),
        ),
      );
      parser.on('close', resolve);
    });
    // A client that hangs up mid-form ends the parse (and the file stream being written) at once;
    // nothing reaches the key, and a multipart upload begun for it is aborted.
    const onGone = () => {
      if (!request.complete) parser.destroy(gone);
    };
    request.once('close', onGone);
    request.pipe(parser);
    if (request.destroyed) onGone();
    try {
      await done;
    } catch (err) {
      void pending?.then((file) => discard(backend, bucket, file)).catch(() => undefined);
      throw err;
    } finally {
      request.off('close', onGone);
    }
    if (!pending) throw new StowageError('bad_request', undefined, 'the form has no "file" field');
    const file = await pending;
    try {
      for (const name of ['key', 'content_type'] as const) {
        const used = name === 'key' ? file.key : file.contentType;
        if (late[name] !== undefined && late[name] !== used && !(name === 'key' && options.key)) {
          throw new StowageError(
            'bad_request',
            undefined,
            `the form's "${name}" field came after "file": send it before the file (or the key as ?key=)`,
          );
        }
      }
      return await this.commit(backend, bucket, file, options.noOverwrite, quota);
    } catch (err) {
      await discard(backend, bucket, file).catch(() => undefined);
      throw err;
    }
  }

  /** Checks the key and type, then reads the file into memory or a multipart upload on the key. */
  private async start(
    backend: Backend,
    bucket: string,
    stream: Readable & { truncated?: boolean },
    request: { key: string; fieldType?: string; fileType: string; noOverwrite: boolean; quota: QuotaHold },
  ): Promise<Pending> {
    const { key, quota } = request;
    assertKey(key);
    assertMediaType(request.fieldType, 'content_type');
    const typeProblem = request.fileType ? mediaTypeProblem(request.fileType) : undefined;
    if (typeProblem) throw new StowageError('bad_request', undefined, `file Content-Type: ${typeProblem}`);
    const fileType = request.fileType && request.fileType !== 'application/octet-stream' ? request.fileType : undefined;
    const contentType = request.fieldType ?? fileType;
    // Refused before a byte is stored; looked at again just before the write becomes visible.
    if (request.noOverwrite) await refuseIfExists(backend, bucket, key);
    const file: Pending = { key, contentType, size: 0, parts: [] };
    let buffered: Buffer[] = [];
    let bufferedBytes = 0;
    const flush = async () => {
      const body = Buffer.concat(buffered);
      buffered = [];
      bufferedBytes = 0;
      // Each part is held against the hard quota before it goes upstream: past the cap the
      // upload stops here, and the parts sent so far are aborted.
      await quota.grow(body.length);
      file.uploadId ??= await backend.createMultipart(bucket, key, { contentType });
      const partNumber = file.parts.length + 1;
      const etag = await backend.uploadPart(bucket, key, file.uploadId, partNumber, Readable.from([body]), body.length);
      file.parts.push({ partNumber, etag });
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        buffered.push(chunk);
        bufferedBytes += chunk.length;
        file.size += chunk.length;
        if (bufferedBytes >= PART_BYTES) await flush();
      }
      if (stream.truncated)
        throw new StowageError(
          'too_large',
          undefined,
          `a single upload is limited to ${MAX_SINGLE_UPLOAD_BYTES} bytes`,
        );
      if (file.uploadId === undefined) {
        file.body = Buffer.concat(buffered);
        await quota.grow(file.body.length);
      } else if (bufferedBytes > 0) {
        await flush();
      }
      return file;
    } catch (err) {
      await discard(backend, bucket, file).catch(() => undefined);
      throw err;
    }
  }

  /** Makes the file visible at its key: one PutObject, or the multipart upload's completion. */
  private async commit(
    backend: Backend,
    bucket: string,
    file: Pending,
    noOverwrite: boolean,
    quota: QuotaHold,
  ): Promise<FormUpload> {
    const replaced = quota.limited || noOverwrite ? await sizeIfExists(backend, bucket, file.key) : undefined;
    if (noOverwrite && replaced !== undefined) {
      throw new StowageError('object_exists', undefined, `${bucket}/${file.key} already exists`);
    }
    if (file.body) {
      await backend.putObject({
        bucket,
        key: file.key,
        body: Readable.from([file.body]),
        size: file.body.length,
        contentType: file.contentType,
        ifNoneMatch: noOverwrite,
        absenceChecked: noOverwrite,
      });
    } else {
      await backend.completeMultipart(bucket, file.key, file.uploadId!, file.parts);
    }
    return {
      key: file.key,
      size: file.size,
      contentType: file.contentType,
      replaced: quota.limited ? replaced : undefined,
    };
  }
}

async function discard(backend: Backend, bucket: string, file: Pending): Promise<void> {
  file.body = undefined;
  if (file.uploadId !== undefined) await backend.abortMultipart(bucket, file.key, file.uploadId);
}
