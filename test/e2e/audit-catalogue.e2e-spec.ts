import { TestStack } from '../harness/app';
import { describeCatalogue } from '../harness/audit-catalogue';
import { bootWithProxy } from '../harness/s3-proxy';

/**
 * Every action of the audit catalogue that Stowage performs, against s3rver: exactly one row per
 * action with its fields (matched by the request's id), none for what the catalogue leaves out.
 * s3rver has no versioning, bucket policies or lifecycle rules: those changes are refused and
 * leave no row here; the S3-compatibility tier runs the same table against Ceph, where they succeed.
 */
describeCatalogue('audit catalogue: one row per action (s3rver)', false, async () => {
  const stack = await TestStack.start();
  const fx = await bootWithProxy(stack, { config: { ratelimit: { login_per_ip: 0, api_per_minute: 0 } } });
  return { stack, fx };
});
