import { Readable } from 'node:stream';
import { TestingModule } from '@nestjs/testing';
import { AuditService } from '../../src/audit/audit.service';
import { MAX_BULK_DELETE_KEYS } from '../../src/objects/dto/object.dto';
import { CopyObjectDto, CopyPrefixDto } from '../../src/objects/dto/transfer.dto';
import { FormUploadService } from '../../src/objects/form-upload.service';
import { ObjectCopier, SERVER_SIDE_COPY_LIMITS } from '../../src/objects/object-copier';
import { MAX_SINGLE_UPLOAD_BYTES, ObjectsService, ObjectTarget } from '../../src/objects/objects.service';
import { PrefixTransfersService, TransferEvent } from '../../src/objects/prefix-transfers.service';
import { TransfersService } from '../../src/objects/transfers.service';
import { bytesOf } from '../harness/streams';
import { MemoryDriver } from './fakes/memory.driver';
import { actorOf, AuditLog, buildServices, identity, strictStub } from './harness';

/** Same-backend objects above this many bytes are copied part by part (UploadPartCopy). */
const PART_COPY_ABOVE = 4096;

describe('objects (service tier)', () => {
  let module: TestingModule;
  let a: MemoryDriver;
  let b: MemoryDriver;
  let audit: AuditLog;
  let objects: ObjectsService;
  let transfers: TransfersService;
  let prefixes: PrefixTransfersService;
  const actor = actorOf(identity());
  const target: ObjectTarget = { backendId: 'mem-a', bucket: 'photos' };

  const put = (driver: MemoryDriver, bucket: string, key: string, data: string | Buffer) => {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
    return driver.putObject({ bucket, key, body: Readable.from([bytes]), size: bytes.length });
  };
  const read = async (driver: MemoryDriver, bucket: string, key: string) =>
    (await bytesOf((await driver.getObject(bucket, key)).body)).toString();
  const keys = async (driver: MemoryDriver, bucket: string) =>
    (await driver.listObjects({ bucket })).objects.map((o) => o.key);
  const upload = (key: string, data: string, extra: { noOverwrite?: boolean; size?: number } = {}) =>
    objects.upload(
      target,
      { key, body: Readable.from([Buffer.from(data)]), size: 'size' in extra ? extra.size : data.length, ...extra },
      actor,
    );
  const copy = (body: Partial<CopyObjectDto>) => transfers.copy(target, body as CopyObjectDto, actor);
  const drain = async (events: AsyncGenerator<TransferEvent>) => {
    const all: TransferEvent[] = [];
    for await (const event of events) all.push(event);
    return all;
  };

  beforeEach(async () => {
    a = new MemoryDriver({ id: 'mem-a' });
    b = new MemoryDriver({ id: 'mem-b' });
    await a.createBucket('photos');
    await a.createBucket('archive');
    await b.createBucket('offsite');
    audit = new AuditLog();
    module = await buildServices({
      drivers: [a, b],
      providers: [
        ObjectsService,
        TransfersService,
        PrefixTransfersService,
        ObjectCopier,
        { provide: SERVER_SIDE_COPY_LIMITS, useValue: { maxSingleCopyBytes: PART_COPY_ABOVE, partCopyBytes: 2048 } },
        { provide: AuditService, useValue: audit.service },
        { provide: FormUploadService, useValue: strictStub<FormUploadService>('FormUploadService') },
      ],
    });
    objects = module.get(ObjectsService);
    transfers = module.get(TransfersService);
    prefixes = module.get(PrefixTransfersService);
  });

  afterEach(() => module?.close());

  describe('key rules', () => {
    it.each([
      ['a dot-dot segment', 'docs/../secret.txt'],
      ['a dot segment', 'docs/./a.txt'],
      ['a leading slash', '/etc/passwd'],
      ['a NUL byte', 'a\u0000b'],
      ['a control character', 'line\nbreak'],
      ['an empty key', ''],
      ['a key over 1024 bytes', 'é'.repeat(513)],
    ])('refuses an upload whose key has %s (invalid_key) and stores nothing', async (_why, key) => {
      await expect(upload(key, 'x')).rejects.toMatchObject({ code: 'invalid_key' });
      expect(await keys(a, 'photos')).toEqual([]);
      expect(audit.rows).toEqual([]);
    });

    it('refuses a read or delete of an invalid key before asking the backend', async () => {
      await expect(objects.info(target, 'a/../b')).rejects.toMatchObject({ code: 'invalid_key' });
      await expect(objects.read(target, '../x', {})).rejects.toMatchObject({ code: 'invalid_key' });
      await expect(objects.delete(target, 'x/..', undefined, actor)).rejects.toMatchObject({ code: 'invalid_key' });
    });

    it('refuses an invalid bucket name (invalid_bucket) and an unknown backend (not_found)', async () => {
      await expect(objects.info({ backendId: 'mem-a', bucket: '../photos' }, 'a')).rejects.toMatchObject({
        code: 'invalid_bucket',
      });
      await expect(objects.info({ backendId: 'nowhere', bucket: 'photos' }, 'a')).rejects.toMatchObject({
        code: 'not_found',
      });
    });

    it('refuses a listing prefix with a dot-dot segment (invalid_prefix)', async () => {
      await expect(objects.list(target, { prefix: 'a/../' })).rejects.toMatchObject({ code: 'invalid_prefix' });
    });
  });

  describe('uploads', () => {
    it('stores the bytes and records object.upload', async () => {
      const info = await upload('docs/a.txt', 'hello');
      expect(info).toMatchObject({ key: 'docs/a.txt', size: 5 });
      expect(await read(a, 'photos', 'docs/a.txt')).toBe('hello');
      expect(audit.rows).toEqual([expect.objectContaining({ action: 'object.upload', key: 'docs/a.txt' })]);
    });

    it('asks for a length (length_required) and refuses more than a single upload may carry (too_large)', async () => {
      await expect(upload('a', 'x', { size: undefined })).rejects.toMatchObject({ code: 'length_required' });
      await expect(upload('a', 'x', { size: MAX_SINGLE_UPLOAD_BYTES + 1 })).rejects.toMatchObject({
        code: 'too_large',
      });
      expect(await keys(a, 'photos')).toEqual([]);
    });

    it('refuses to overwrite with If-None-Match (object_exists) and keeps the first bytes', async () => {
      await upload('a.txt', 'first');
      await expect(upload('a.txt', 'second', { noOverwrite: true })).rejects.toMatchObject({ code: 'object_exists' });
      expect(await read(a, 'photos', 'a.txt')).toBe('first');
      expect(audit.actions()).toEqual(['object.upload']);
    });

    it('overwrites without If-None-Match', async () => {
      await upload('a.txt', 'first');
      await upload('a.txt', 'second');
      expect(await read(a, 'photos', 'a.txt')).toBe('second');
    });

    it('creates a folder as an empty object ending in /', async () => {
      await objects.createFolder(target, 'albums', actor);
      expect(await a.headObject('photos', 'albums/')).toMatchObject({
        size: 0,
        contentType: 'application/x-directory',
      });
    });
  });

  describe('copy and move', () => {
    beforeEach(async () => {
      await put(a, 'photos', 'cat.jpg', 'meow');
      audit.rows.length = 0;
    });

    it('copies within a bucket and records object.copy', async () => {
      const result = await copy({ src_key: 'cat.jpg', dst_key: 'cats/cat.jpg' });
      expect(result).toMatchObject({ backend: 'mem-a', bucket: 'photos', key: 'cats/cat.jpg', object: { size: 4 } });
      expect(await read(a, 'photos', 'cat.jpg')).toBe('meow');
      expect(await read(a, 'photos', 'cats/cat.jpg')).toBe('meow');
      expect(audit.rows).toEqual([
        expect.objectContaining({ action: 'object.copy', detail: expect.objectContaining({ move: false, size: 4 }) }),
      ]);
    });

    it('moves: the source is gone after the copy', async () => {
      await copy({ src_key: 'cat.jpg', dst_key: 'cat.jpg', dst_bucket: 'archive', move: true });
      expect(await keys(a, 'photos')).toEqual([]);
      expect(await read(a, 'archive', 'cat.jpg')).toBe('meow');
      expect(audit.rows[0]).toMatchObject({ action: 'object.copy', detail: { move: true, dst_bucket: 'archive' } });
    });

    it('refuses to copy or move an object onto itself (bad_request)', async () => {
      await expect(copy({ src_key: 'cat.jpg', dst_key: 'cat.jpg' })).rejects.toMatchObject({ code: 'bad_request' });
      await expect(
        copy({ src_key: 'cat.jpg', dst_key: 'cat.jpg', move: true, metadata: { a: 'b' } }),
      ).rejects.toMatchObject({ code: 'bad_request' });
      expect(await read(a, 'photos', 'cat.jpg')).toBe('meow');
    });

    it('rewrites metadata in place when copying an object onto itself with new metadata', async () => {
      await copy({ src_key: 'cat.jpg', dst_key: 'cat.jpg', metadata: { Owner: 'ada' } });
      expect((await a.headObject('photos', 'cat.jpg')).metadata).toEqual({ owner: 'ada' });
    });

    it('refuses a move of a given version (bad_request)', async () => {
      await expect(
        copy({ src_key: 'cat.jpg', dst_key: 'dog.jpg', move: true, version_id: 'null' }),
      ).rejects.toMatchObject({
        code: 'bad_request',
      });
      expect(await keys(a, 'photos')).toEqual(['cat.jpg']);
    });

    it('with overwrite false, refuses an existing destination (object_exists) and changes nothing', async () => {
      await put(a, 'photos', 'dog.jpg', 'woof');
      await expect(
        copy({ src_key: 'cat.jpg', dst_key: 'dog.jpg', overwrite: false, move: true }),
      ).rejects.toMatchObject({
        code: 'object_exists',
      });
      expect(await read(a, 'photos', 'dog.jpg')).toBe('woof');
      expect(await read(a, 'photos', 'cat.jpg')).toBe('meow');
      expect(audit.rows).toEqual([]);
    });

    it('refuses a destination key with a dot-dot segment (invalid_key)', async () => {
      await expect(copy({ src_key: 'cat.jpg', dst_key: 'x/../../cat.jpg' })).rejects.toMatchObject({
        code: 'invalid_key',
      });
      expect(await keys(a, 'photos')).toEqual(['cat.jpg']);
    });

    it('answers not_found for a missing source and writes nothing', async () => {
      await expect(copy({ src_key: 'none.jpg', dst_key: 'x.jpg' })).rejects.toMatchObject({ code: 'not_found' });
      expect(await keys(a, 'photos')).toEqual(['cat.jpg']);
    });

    it('moves across backends: streamed to the other backend, source deleted, recorded as object.transfer', async () => {
      await copy({
        src_key: 'cat.jpg',
        dst_key: 'pets/cat.jpg',
        dst_backend: 'mem-b',
        dst_bucket: 'offsite',
        move: true,
      });
      expect(await read(b, 'offsite', 'pets/cat.jpg')).toBe('meow');
      expect(await keys(a, 'photos')).toEqual([]);
      expect(audit.rows[0]).toMatchObject({ action: 'object.transfer', detail: { dst_backend: 'mem-b', move: true } });
    });

    it('copies a large object across backends as a multipart upload, byte for byte', async () => {
      const big = Buffer.alloc(17 * 1024 * 1024 + 3, 7);
      big.write('start', 0);
      big.write('end', big.length - 3);
      await put(a, 'photos', 'big.bin', big);
      await copy({ src_key: 'big.bin', dst_key: 'big.bin', dst_backend: 'mem-b', dst_bucket: 'offsite' });
      const copied = await bytesOf((await b.getObject('offsite', 'big.bin')).body);
      expect(copied.equals(big)).toBe(true);
      expect((await b.headObject('offsite', 'big.bin')).etag).toMatch(/-2"$/);
      expect(await b.listMultipartUploads('offsite')).toEqual([]);
    });

    it('copies an object above the single-copy limit within a backend part by part, byte for byte', async () => {
      const data = Buffer.from('0123456789'.repeat(500));
      await put(a, 'photos', 'large.txt', data);
      await copy({ src_key: 'large.txt', dst_key: 'large.txt', dst_bucket: 'archive' });
      expect((await bytesOf((await a.getObject('archive', 'large.txt')).body)).equals(data)).toBe(true);
      expect((await a.headObject('archive', 'large.txt')).etag).toMatch(/-3"$/);
    });
  });

  describe('reads and bulk deletes', () => {
    it('serves a suffix range from a backend without suffix ranges as absolute bounds', async () => {
      const c = new MemoryDriver({ id: 'mem-c', capabilities: { suffix_ranges: false } });
      await c.createBucket('logs');
      await put(c, 'logs', 'app.log', '0123456789');
      await module.close();
      module = await buildServices({
        drivers: [c],
        providers: [
          ObjectsService,
          { provide: AuditService, useValue: audit.service },
          { provide: FormUploadService, useValue: strictStub<FormUploadService>('FormUploadService') },
        ],
      });
      const object = await module
        .get(ObjectsService)
        .read({ backendId: 'mem-c', bucket: 'logs' }, 'app.log', { range: { suffixLength: 3 } });
      expect(object.contentRange).toBe('bytes 7-9/10');
      expect((await bytesOf(object.body)).toString()).toBe('789');
    });

    it('refuses more than 1000 keys (too_many_keys) or one invalid key (invalid_key), deleting none', async () => {
      await put(a, 'photos', 'a.jpg', 'x');
      const many = Array.from({ length: MAX_BULK_DELETE_KEYS + 1 }, (_, i) => ({ key: `k${i}` }));
      await expect(objects.bulkDelete(target, many, actor)).rejects.toMatchObject({ code: 'too_many_keys' });
      await expect(objects.bulkDelete(target, [{ key: 'a.jpg' }, { key: 'b/../a.jpg' }], actor)).rejects.toMatchObject({
        code: 'invalid_key',
      });
      expect(await keys(a, 'photos')).toEqual(['a.jpg']);
      expect(audit.rows).toEqual([]);
    });
  });

  describe('prefix copy and move', () => {
    const copyPrefix = (body: Partial<CopyPrefixDto>) =>
      prefixes.copyPrefix(target, body as CopyPrefixDto, actor).then(drain);

    it('refuses a destination inside the source in the same bucket (invalid_prefix)', async () => {
      await put(a, 'photos', 'trip/a.jpg', 'x');
      await expect(copyPrefix({ src_prefix: 'trip/', dst_prefix: 'trip/copy/' })).rejects.toMatchObject({
        code: 'invalid_prefix',
      });
      expect(await keys(a, 'photos')).toEqual(['trip/a.jpg']);
    });

    it('moves a prefix to another backend: every object copied, sources gone, one audit row', async () => {
      await put(a, 'photos', 'trip/a.jpg', 'aa');
      await put(a, 'photos', 'trip/day2/b.jpg', 'bbb');
      await put(a, 'photos', 'other.jpg', 'x');
      const events = await copyPrefix({
        src_prefix: 'trip/',
        dst_prefix: 'backup/trip/',
        dst_backend: 'mem-b',
        dst_bucket: 'offsite',
        move: true,
      });
      expect(events.at(-1)).toEqual({ event: 'done', copied: 2, failed: 0, bytes: 5 });
      expect(await keys(b, 'offsite')).toEqual(['backup/trip/a.jpg', 'backup/trip/day2/b.jpg']);
      expect(await read(b, 'offsite', 'backup/trip/day2/b.jpg')).toBe('bbb');
      expect(await keys(a, 'photos')).toEqual(['other.jpg']);
      expect(audit.rows).toEqual([
        expect.objectContaining({
          action: 'object.transfer_prefix',
          detail: expect.objectContaining({ move: true, copied: 2, complete: true }),
        }),
      ]);
    });

    it('with overwrite false, reports each existing destination as an error and keeps its bytes', async () => {
      await put(a, 'photos', 'trip/a.jpg', 'new');
      await put(a, 'archive', 'trip/a.jpg', 'old');
      const events = await copyPrefix({
        src_prefix: 'trip/',
        dst_prefix: 'trip/',
        dst_bucket: 'archive',
        overwrite: false,
      });
      expect(events).toContainEqual(
        expect.objectContaining({ event: 'error', src: 'trip/a.jpg', code: 'object_exists' }),
      );
      expect(events.at(-1)).toEqual({ event: 'done', copied: 0, failed: 1, bytes: 0 });
      expect(await read(a, 'archive', 'trip/a.jpg')).toBe('old');
    });
  });

  describe('prefix delete', () => {
    it('deletes every object under the prefix, page after page, and nothing beside it', async () => {
      for (let i = 0; i < 1005; i++) await put(a, 'photos', `trip/${String(i).padStart(4, '0')}.jpg`, 'x');
      await put(a, 'photos', 'trip2/keep.jpg', 'x');
      await put(a, 'photos', 'trip', 'x');
      const events = await drain(await prefixes.deletePrefix(target, 'trip/', actor));
      expect(events.at(-1)).toEqual({ event: 'done', deleted: 1005, failed: 0 });
      expect(await keys(a, 'photos')).toEqual(['trip', 'trip2/keep.jpg']);
      expect(audit.rows).toEqual([
        expect.objectContaining({
          action: 'object.delete_prefix',
          detail: { prefix: 'trip/', deleted: 1005, failed: 0, complete: true },
        }),
      ]);
    });

    it.each([
      ['empty', ''],
      ['a dot-dot segment', '../'],
      ['a NUL byte', 'a\u0000/'],
    ])('refuses a prefix that is %s (invalid_prefix) and deletes nothing', async (_why, prefix) => {
      await put(a, 'photos', 'keep.jpg', 'x');
      await expect(prefixes.deletePrefix(target, prefix, actor)).rejects.toMatchObject({ code: 'invalid_prefix' });
      expect(await keys(a, 'photos')).toEqual(['keep.jpg']);
      expect(audit.rows).toEqual([]);
    });

    it('records an incomplete delete when the reader stops early', async () => {
      await put(a, 'photos', 'trip/a.jpg', 'x');
      const events = await prefixes.deletePrefix(target, 'trip/', actor);
      await events.next();
      await events.return(undefined);
      expect(audit.rows).toEqual([expect.objectContaining({ detail: expect.objectContaining({ complete: false }) })]);
    });
  });
});
