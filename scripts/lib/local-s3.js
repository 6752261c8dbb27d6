'use strict';

// s3rver, the S3 server in a Node.js process behind the quick start's local backend, the
// end-to-end tests and the benchmarks' fallback, with its departures from S3 put right:
// - It builds file paths from the bucket name, the key, the upload id and the part number as the
//   client sent them, so `..` in any of them reached outside its directory. Every path is now
//   built from checked names only: a bucket name, key, upload id or part number that could leave
//   the directory (or clash with s3rver's own files) is refused with an S3 XML 400, whoever sends
//   it, and a part is only stored for an upload that was started.
// - S3 writes all or nothing; s3rver wrote an object in place, so a broken-off upload was served
//   truncated and an overwrite that failed lost the previous content. Objects and parts are now
//   written to a temporary file beside their place and renamed over it only once the body is
//   complete (metadata likewise); a failed write removes just the temporary file.
// - Its object ACL document puts <Permission> beside <Grant> instead of inside it, which clients
//   that read ACLs (s3cmd's cp and mv) cannot parse. The permission is moved into the grant.

const { createHash, randomBytes } = require('node:crypto');
const { createWriteStream, promises: fs } = require('node:fs');
const path = require('node:path');
const { Readable, Transform } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const S3rver = require('@20minutes/s3rver');
const objectController = require('@20minutes/s3rver/lib/controllers/object');
const S3Error = require('@20minutes/s3rver/lib/models/error');

const getObjectAcl = objectController.getObjectAcl;
// s3rver's routes look the handler up on this module for every request.
objectController.getObjectAcl = async function getObjectAclWithGrantedPermission(ctx) {
  await getObjectAcl(ctx);
  const list = ctx.body?.AccessControlPolicy?.AccessControlList;
  if (list?.Grant && list.Permission !== undefined && list.Grant.Permission === undefined) {
    const { Permission, ...rest } = list;
    ctx.body.AccessControlPolicy.AccessControlList = { ...rest, Grant: { ...list.Grant, Permission } };
  }
};

// Names ------------------------------------------------------------------------------------------

/** s3rver's own files are named `<last key segment>._S3rver_<resource>`. */
const RESERVED_MARK = '._S3rver_';
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
// s3rver's upload ids are 32 hex digits; anything else that is file-name safe is merely unknown.
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;
const PART_NUMBER = /^[1-9][0-9]{0,4}$/;
const MAX_PART_NUMBER = 10000;
const MAX_KEY_BYTES = 1024;

function invalid(code, message, detail) {
  return new S3Error(code, message, detail);
}

function checkBucket(bucket) {
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw invalid('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: String(bucket) });
  }
}

function checkKey(key) {
  const problem =
    typeof key !== 'string'
      ? 'must be a string'
      : Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES
        ? 'is too long'
        : // eslint-disable-next-line no-control-regex
          /[\u0000-\u001f\u007f]/.test(key)
          ? 'must not contain control characters'
          : key.split('/').some((s) => s === '.' || s === '..')
            ? 'must not contain "." or ".." segments'
            : key.includes(RESERVED_MARK)
              ? `must not contain "${RESERVED_MARK}"`
              : undefined;
  if (problem) {
    throw invalid('InvalidArgument', `The object key ${problem}.`, { ArgumentName: 'key' });
  }
}

function checkUploadId(uploadId) {
  if (typeof uploadId !== 'string' || !UPLOAD_ID.test(uploadId)) {
    throw invalid('InvalidArgument', 'The upload id is not valid.', { ArgumentName: 'uploadId' });
  }
}

function checkPartNumber(partNumber) {
  const text = String(partNumber);
  if (!PART_NUMBER.test(text) || Number(text) > MAX_PART_NUMBER) {
    throw invalid('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive.`, {
      ArgumentName: 'partNumber',
    });
  }
}

/** The last line of defence: a path built by the store must stay inside its directory. */
function inside(root, target) {
  const resolved = path.resolve(target);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw invalid('InvalidArgument', 'The request names a resource outside the store.');
  }
  return target;
}

// Writes -----------------------------------------------------------------------------------------

const temporaryPath = (finalPath) => `${finalPath}.${randomBytes(8).toString('hex')}.partial`;

/** Writes `content` (a Buffer or a stream) to `file`; resolves once it is flushed, with its size and MD5. */
async function writeContent(file, content) {
  const md5 = createHash('md5');
  let size = 0;
  await pipeline(
    Buffer.isBuffer(content) ? Readable.from([content]) : content,
    new Transform({
      transform(chunk, encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    }),
    createWriteStream(file),
  );
  return [size, md5.digest('hex')];
}

/** Removes whatever temporary files a failed write left. */
async function discard(files) {
  await Promise.all(files.map((f) => fs.rm(f, { force: true })));
}

/**
 * Hardens the store: names are checked where paths are built, and objects and parts are
 * written to temporary files that replace the old ones only once complete.
 */
function hardenStore(store) {
  const root = path.resolve(store.rootDirectory);
  const getBucketPath = store.getBucketPath.bind(store);
  const getResourcePath = store.getResourcePath.bind(store);

  store.getBucketPath = (bucket) => {
    checkBucket(bucket);
    return inside(root, getBucketPath(bucket));
  };
  store.getResourcePath = (bucket, key = '', resource) => {
    checkBucket(bucket);
    if (key !== '') checkKey(key);
    return inside(root, getResourcePath(bucket, key, resource));
  };
  const uploadDir = (bucket, uploadId) => {
    checkUploadId(uploadId);
    return inside(root, path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId));
  };

  // Entries of the root that could not be named in a request are not buckets.
  store.listBuckets = async () => {
    const names = (await fs.readdir(root)).filter((n) => BUCKET_NAME.test(n) && !n.includes('..'));
    return (await Promise.all(names.map((n) => store.getBucket(n)))).filter(Boolean);
  };

  store.putMetadata = async (bucket, key, metadata, md5) => {
    const targets = [];
    if (md5) targets.push([store.getResourcePath(bucket, key, 'object.md5'), md5]);
    targets.push([store.getResourcePath(bucket, key, 'metadata.json'), metadataJson(metadata)]);
    const temps = targets.map(([file]) => temporaryPath(file));
    try {
      await Promise.all(targets.map(([, data], i) => fs.writeFile(temps[i], data)));
      for (const [i, [file]] of targets.entries()) await fs.rename(temps[i], file);
    } catch (err) {
      await discard(temps);
      throw err;
    }
  };

  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    const md5Path = store.getResourcePath(object.bucket, object.key, 'object.md5');
    const metadataPath = store.getResourcePath(object.bucket, object.key, 'metadata.json');
    await fs.mkdir(path.dirname(objectPath), { recursive: true, mode: 0o755 });
    const temps = [temporaryPath(objectPath), temporaryPath(md5Path), temporaryPath(metadataPath)];
    try {
      const [size, md5] = await writeContent(temps[0], object.content);
      await Promise.all([fs.writeFile(temps[1], md5), fs.writeFile(temps[2], metadataJson(object.metadata))]);
      // The body is complete: only now does it replace the object, then its metadata.
      await fs.rename(temps[0], objectPath);
      await fs.rename(temps[1], md5Path);
      await fs.rename(temps[2], metadataPath);
      return { size, md5 };
    } catch (err) {
      await discard(temps);
      throw err;
    }
  };

  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const source = store.getResourcePath(srcBucket, srcKey, 'object');
    const target = store.getResourcePath(destBucket, destKey, 'object');
    if (source !== target) {
      await store.getMetadata(srcBucket, srcKey); // writes the source's MD5 file when it has none
      await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      const files = [
        [source, target],
        [`${source}.md5`, `${target}.md5`],
        ...(replacementMetadata
          ? []
          : [
              [
                store.getResourcePath(srcBucket, srcKey, 'metadata.json'),
                store.getResourcePath(destBucket, destKey, 'metadata.json'),
              ],
            ]),
      ];
      const temps = files.map(([, to]) => temporaryPath(to));
      try {
        await Promise.all(files.map(([from], i) => fs.copyFile(from, temps[i])));
        for (const [i, [, to]] of files.entries()) await fs.rename(temps[i], to);
      } catch (err) {
        await discard(temps);
        throw err;
      }
    }
    if (replacementMetadata) await store.putMetadata(destBucket, destKey, replacementMetadata);
    return store.getMetadata(destBucket, destKey);
  };

  store.initiateUpload = async (bucket, key, uploadId, metadata) => {
    checkKey(key);
    const dir = uploadDir(bucket, uploadId);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    await Promise.all([
      fs.writeFile(path.join(dir, 'key'), key),
      fs.writeFile(path.join(dir, 'metadata'), JSON.stringify(metadata)),
    ]);
  };

  const startedUpload = async (bucket, uploadId) => {
    const dir = uploadDir(bucket, uploadId);
    try {
      await fs.stat(path.join(dir, 'key'));
    } catch (err) {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
      throw invalid(
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: uploadId },
      );
    }
    return dir;
  };

  store.putPart = async (bucket, uploadId, partNumber, content) => {
    checkPartNumber(partNumber);
    const dir = await startedUpload(bucket, uploadId);
    const partPath = path.join(dir, String(Number(partNumber)));
    const temps = [temporaryPath(partPath), temporaryPath(`${partPath}.md5`)];
    try {
      const [size, md5] = await writeContent(temps[0], content);
      await fs.writeFile(temps[1], md5);
      await fs.rename(temps[0], partPath);
      await fs.rename(temps[1], `${partPath}.md5`);
      return { size, md5 };
    } catch (err) {
      await discard(temps);
      throw err;
    }
  };

  const putObjectMultipart = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    await startedUpload(bucket, uploadId);
    for (const part of parts) checkPartNumber(part.number);
    return putObjectMultipart(bucket, uploadId, parts);
  };
}

/** The metadata document s3rver keeps beside an object (as its own putMetadata writes it). */
function metadataJson(metadata) {
  const allowed = require('@20minutes/s3rver/lib/models/object').ALLOWED_METADATA;
  const json = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (allowed.includes(name) || name.startsWith('x-amz-meta-')) json[name] = value;
  }
  return JSON.stringify(json, null, 2);
}

/** A new s3rver (not yet running) with the corrections above; `options` are s3rver's own. */
function createLocalS3(options) {
  const server = new S3rver(options);
  hardenStore(server.store);
  return server;
}

module.exports = { createLocalS3 };
