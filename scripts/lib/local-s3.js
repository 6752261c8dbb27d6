'use strict';

// s3rver, the S3 server in a Node.js process behind the quick start's local backend, the
// end-to-end tests and the benchmarks' fallback, with two of its departures from S3 put right:
// - S3 stores nothing of an upload whose connection breaks off before its last byte; s3rver keeps
//   the bytes it got on disk and then serves them as the object. The file is removed when the
//   upload fails (synchronously, before any later request is read).
// - Its object ACL document puts <Permission> beside <Grant> instead of inside it, which clients
//   that read ACLs (s3cmd's cp and mv) cannot parse. The permission is moved into the grant.

const { rmSync } = require('node:fs');
const S3rver = require('@20minutes/s3rver');
const objectController = require('@20minutes/s3rver/lib/controllers/object');

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

function forgetAbortedUploads(store) {
  const putContent = store.putContent.bind(store);
  store.putContent = async (objectPath, content) => {
    try {
      return await putContent(objectPath, content);
    } catch (err) {
      rmSync(objectPath, { force: true });
      throw err;
    }
  };
}

/** A new s3rver (not yet running) with the corrections above; `options` are s3rver's own. */
function createLocalS3(options) {
  const server = new S3rver(options);
  forgetAbortedUploads(server.store);
  return server;
}

module.exports = { createLocalS3 };
