import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ZipFile } from 'yazl';
import { StowageError } from '@stowage/errors';
import { LOGGER } from '../logging/logging.module';
import { Backend } from '../storage-backends/backend';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { assertKey, ObjectTarget } from './objects.service';

/** The most entries one zip may hold, after expanding prefixes. */
export const MAX_ZIP_ENTRIES = 10_000;
/** The most keys (or prefixes) one request may name. */
export const MAX_ZIP_KEYS = 1000;

interface ZipEntry {
  key: string;
  size: number;
  lastModified?: Date;
}

export interface ZipArchive {
  /** The archive, produced as it is read: each object is opened only when its turn comes. */
  stream: Readable;
  entries: number;
  filename: string;
}

/**
 * Streams a zip of chosen objects. The key list is resolved first (listing only, capped, so
 * `too_many_keys` and `not_found` are plain errors); then the archive is written one entry at a
 * time, each from its object's stream, deflated at level 1. A failure after the first byte
 * can only cut the answer short, which makes the client's zip invalid rather than silently
 * incomplete.
 */
@Injectable()
export class ZipService {
  constructor(
    private readonly registry: BackendRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async archive(target: ObjectTarget, keys: string[], signal: AbortSignal): Promise<ZipArchive> {
    const backend = this.registry.forBucket(target);
    if (keys.length === 0) throw new StowageError('bad_request', undefined, 'key: name at least one key');
    if (keys.length > MAX_ZIP_KEYS)
      throw new StowageError('too_many_keys', undefined, `at most ${MAX_ZIP_KEYS} keys per request`);
    keys.forEach(assertKey);
    const entries = await this.resolve(backend, target.bucket, [...new Set(keys)]);
    return {
      stream: this.write(backend, target, entries, signal),
      entries: entries.length,
      filename: `${(keys.length === 1 && keys[0].split('/').filter(Boolean).pop()) || target.bucket}.zip`,
    };
  }

  private async resolve(backend: Backend, bucket: string, keys: string[]): Promise<ZipEntry[]> {
    const entries = new Map<string, ZipEntry>();
    const add = (entry: ZipEntry) => {
      entries.set(entry.key, entry);
      if (entries.size > MAX_ZIP_ENTRIES)
        throw new StowageError('too_many_keys', undefined, `a zip holds at most ${MAX_ZIP_ENTRIES} objects`);
    };
    for (const key of keys) {
      if (!key.endsWith('/')) {
        const info = await backend.headObject(bucket, key);
        add({ key, size: info.size, lastModified: info.lastModified });
        continue;
      }
      let token: string | undefined;
      do {
        const page = await backend.listObjects({ bucket, prefix: key, continuationToken: token, maxKeys: 1000 });
        for (const object of page.objects)
          add({ key: object.key, size: object.size, lastModified: object.lastModified });
        token = page.nextContinuationToken;
      } while (token);
    }
    return [...entries.values()];
  }

  private write(backend: Backend, target: ObjectTarget, entries: ZipEntry[], signal: AbortSignal): Readable {
    const zip = new ZipFile();
    const output = zip.outputStream as Readable;
    zip.on('error', (err: Error) => {
      this.logger.warn({ backend: target.backendId, bucket: target.bucket, err: err.message }, 'zip stream failed');
      output.destroy(err);
    });
    for (const entry of entries) {
      const mtime = entry.lastModified ?? new Date();
      if (entry.key.endsWith('/') && entry.size === 0) {
        zip.addEmptyDirectory(entry.key, { mtime });
        continue;
      }
      zip.addReadStreamLazy(entry.key, { mtime, mode: 0o100644, size: entry.size, compressionLevel: 1 }, (callback) => {
        if (signal.aborted) {
          callback(new Error('the client went away'), undefined as unknown as NodeJS.ReadableStream);
          return;
        }
        backend.getObject(target.bucket, entry.key, { signal }).then(
          (object) => callback(null, object.body),
          (err: Error) => callback(err, undefined as unknown as NodeJS.ReadableStream),
        );
      });
    }
    zip.end();
    return output;
  }
}
