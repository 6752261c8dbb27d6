import { TestStack } from '../harness/app';
import { describeCatalogue } from '../harness/audit-catalogue';
import { bootWithProxy } from '../harness/s3-proxy';

/**
 * The audit catalogue table of test/e2e/audit-catalogue.e2e-spec.ts against Ceph RGW, where the
 * bucket settings s3rver lacks (versioning, policy, lifecycle) succeed and so have their rows.
 */
describeCatalogue('audit catalogue: one row per action (Ceph RGW)', true, async () => {
  const stack = await TestStack.start({ s3: 'ceph' });
  const fx = await bootWithProxy(stack, {
    kind: 'ceph',
    config: { ratelimit: { login_per_ip: 0, api_per_minute: 0 } },
  });
  return { stack, fx };
});
