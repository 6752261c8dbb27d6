import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import busboy from 'busboy';
import { StowageError } from '@stowage/errors';
import type { QuotaHold } from '../quotas/quota-reservations.service';
import { Backend, CompletedPart } from '../storage-backends/backend';
import { assertKey, assertMediaType, MAX_SINGLE_UPLOAD_BYTES, mediaTypeProblem } from './object-rules';
import { sizeIfExists } from '../storage-backends/object-lookup';

/** Uploads are staged under this prefix, then copied to their key and removed. */
export const STAGING_PREFIX = '.stowage-uploads/';
/** Memory held per form upload: one part at a time. */
const PART_BYTES = 8 * 1024 * 1024;

export interface FormUpload {
  key: string;
  size: number;
  contentType?: string;
  /** The size of the object the upload replaced, when it counted against a quota. */
  replaced?: number;
}

interface Staged {
  tempKey: string;
  size: number;
  contentType?: string;
  filename?: string;
}

/**
 * Browser uploads as `multipart/form-data` (fields `file`, `key`, `content_type`). The file comes
 * before the key and without a length, so it is streamed to a staging key — one PUT when it is
 * small, a multipart upload of 8 MiB parts otherwise, never more than a part in memory — and then
 * copied server-side to its key.
 */
@Injectable()
export class FormUploadService {
  async receive(
    backend: Backend,
    bucket: string,
    request: IncomingMessage,
    contentType: string,
    noOverwrite: boolean,
    quota: QuotaHold,
  ): Promise<FormUpload> {
    const fields: Record<string, string> = {};
    let staged: Promise<Staged> | undefined;
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
      parser.on('field', (name, value) => (fields[name] = value));
      parser.on('file', (name, stream, info) => {
        if (name !== 'file' || staged) {
          stream.resume();
          return;
        }
        const typeProblem = info.mimeType ? mediaTypeProblem(info.mimeType) : undefined;
        staged = typeProblem
          ? Promise.reject(new StowageError('bad_request', undefined, `file Content-Type: ${typeProblem}`))
          : this.stage(backend, bucket, stream, info.mimeType, info.filename, quota);
        staged.catch(() => stream.resume());
      });
      parser.on('error', (err) =>
        reject(
          err === gone ? gone : new StowageError('bad_request', undefined, 'malformed multipart/form-data request'),
        ),
      );
      parser.on('close', resolve);
    });
    // A client that hangs up mid-form ends the parse (and the file stream being staged) at once;
    // nothing reaches the key, and whatever was staged is removed.
    const onGone = () => {
      if (!request.complete) parser.destroy(gone);
    };
    request.once('close', onGone);
    request.pipe(parser);
    if (request.destroyed) onGone();
    try {
      await done;
    } catch (err) {
      void staged?.then((file) => backend.deleteObject(bucket, file.tempKey)).catch(() => undefined);
      throw err;
    } finally {
      request.off('close', onGone);
    }
    if (!staged) throw new StowageError('bad_request', undefined, 'the form has no "file" field');
    const file = await staged;
    const key = fields.key || file.filename || '';
    try {
      assertKey(key);
      assertMediaType(fields.content_type || undefined, 'content_type');
      if (noOverwrite && (await exists(backend, bucket, key))) throw new StowageError('object_exists');
      const replaced = quota.limited ? await sizeIfExists(backend, bucket, key) : undefined;
      const type = fields.content_type || file.contentType;
      await backend.copyObject(
        { bucket, key: file.tempKey },
        { bucket, key },
        type ? { contentType: type, metadata: {} } : {},
      );
      return { key, size: file.size, contentType: type, replaced };
    } finally {
      await backend.deleteObject(bucket, file.tempKey).catch(() => undefined);
    }
  }

  private async stage(
    backend: Backend,
    bucket: string,
    stream: Readable & { truncated?: boolean },
    mimeType: string,
    filename: string | undefined,
    quota: QuotaHold,
  ): Promise<Staged> {
    const tempKey = `${STAGING_PREFIX}${randomUUID()}`;
    const contentType = mimeType && mimeType !== 'application/octet-stream' ? mimeType : undefined;
    let buffered: Buffer[] = [];
    let bufferedBytes = 0;
    let size = 0;
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    const flush = async () => {
      const body = Buffer.concat(buffered);
      buffered = [];
      bufferedBytes = 0;
      // Each part is held against the hard quota before it goes upstream: past the cap the
      // upload stops here, and the parts sent so far are aborted below.
      await quota.grow(body.length);
      uploadId ??= await backend.createMultipart(bucket, tempKey, { contentType });
      const etag = await backend.uploadPart(
        bucket,
        tempKey,
        uploadId,
        parts.length + 1,
        Readable.from([body]),
        body.length,
      );
      parts.push({ partNumber: parts.length + 1, etag });
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        buffered.push(chunk);
        bufferedBytes += chunk.length;
        size += chunk.length;
        if (bufferedBytes >= PART_BYTES) await flush();
      }
      if (stream.truncated)
        throw new StowageError(
          'too_large',
          undefined,
          `a single upload is limited to ${MAX_SINGLE_UPLOAD_BYTES} bytes`,
        );
      if (uploadId === undefined) {
        const body = Buffer.concat(buffered);
        await quota.grow(body.length);
        await backend.putObject({ bucket, key: tempKey, body: Readable.from([body]), size: body.length, contentType });
      } else {
        if (bufferedBytes > 0) await flush();
        await backend.completeMultipart(bucket, tempKey, uploadId, parts);
      }
      return { tempKey, size, contentType, filename: filename || undefined };
    } catch (err) {
      if (uploadId !== undefined) await backend.abortMultipart(bucket, tempKey, uploadId).catch(() => undefined);
      throw err;
    }
  }
}

async function exists(backend: Backend, bucket: string, key: string): Promise<boolean> {
  try {
    await backend.headObject(bucket, key);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'not_found') return false;
    throw err;
  }
}
