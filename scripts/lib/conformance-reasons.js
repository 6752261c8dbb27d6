'use strict';

/*
 * Why a test of ceph/s3-tests that passes on Ceph RGW directly cannot pass through the proxy.
 * Each entry names the tests (exact names, or a prefix ending in `*`) and the reason. `owners`
 * are the tests that need several upstream identities; the rest follow from a choice of the
 * proxy, said in its reason. A failure of a test named nowhere here is a defect.
 */
const REASONS = [
  {
    kind: 'owners',
    reason:
      'needs two upstream identities (ACL grants, owners, bucket policies between users): every Stowage credential reaches the backend as the one upstream identity Stowage holds',
    tests: [
      'test_access_bucket_*',
      'test_bucket_acl_canned*',
      'test_bucket_acl_default',
      'test_bucket_acl_grant_*',
      'test_bucket_create_exists_nonowner',
      'test_bucket_header_acl_grants',
      'test_bucket_policy_*',
      'test_ignore_public_acls',
      'test_object_acl*',
      'test_object_copy_not_owned_*',
      'test_object_header_acl_grants',
      'test_put_bucket_acl_grant_group_read',
      'test_versioned_object_acl*',
    ],
  },
  {
    kind: 'owners',
    reason:
      'anonymous access granted by an upstream ACL (public-read, public-read-write) that the test sets: the anonymous principal is another identity; Stowage serves unsigned requests only for buckets an admin binds for anonymous reads (read-only), never because of an ACL a tenant set upstream',
    tests: [
      'test_100_continue',
      'test_bucket_list_objects_anonymous',
      'test_bucket_listv2_objects_anonymous',
      'test_cors_origin_response',
      'test_cors_origin_wildcard',
      'test_list_buckets_anonymous',
      'test_object_anon_put_write_access',
      'test_object_delete_key_bucket_gone',
      'test_object_raw_get',
      'test_object_raw_get_bucket_acl',
      'test_object_raw_get_bucket_gone',
      'test_object_raw_get_object_gone',
      'test_post_object_anonymous_request',
      'test_post_object_set_invalid_success_code',
      'test_post_object_set_success_code',
      'test_post_object_success_redirect_action',
      'test_post_object_tags_anonymous_request',
    ],
  },
  {
    kind: 'choice',
    reason:
      "a bucket outside the credential's namespace (`whatchutalkinboutwillis`): refused with AccessDenied without asking the upstream whether it exists, so a tenant cannot probe for other tenants' buckets",
    tests: ['test_object_write_to_nonexist_bucket'],
  },
  {
    kind: 'choice',
    reason:
      "RGW's account-wide usage (`GET /?usage`) would show every tenant's usage of the shared upstream identity: refused; Stowage shows usage per bucket and namespace",
    tests: ['test_account_usage'],
  },
  {
    kind: 'choice',
    reason:
      'a presigned URL with X-Amz-Expires over 7 days: AWS S3 answers 400 AuthorizationQueryParametersError, Ceph 403 AccessDenied; the proxy answers as AWS does',
    tests: ['test_object_raw_get_x_amz_expires_out_max_range'],
  },
];

/** The reason a test (a pytest node id) is known not to pass through the proxy, or undefined. */
function reasonFor(id) {
  const name = id.split('::').pop();
  for (const entry of REASONS) {
    const hit = entry.tests.some((t) => (t.endsWith('*') ? name.startsWith(t.slice(0, -1)) : name === t));
    if (hit) return entry;
  }
  return undefined;
}

module.exports = { REASONS, reasonFor };
