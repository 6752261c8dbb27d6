import type { Actor } from '../access/actor';
import type { QuotaOrigin, UsageChange } from '../quotas/quota-reservations.service';

/** What writing `bytes` over an object of `replaced` bytes (or none) does to a bucket's usage. */
export function replacing(bytes: number, replaced: number | undefined): UsageChange {
  return { bytes: bytes - (replaced ?? 0), objects: replaced === undefined ? 1 : 0 };
}

export function quotaOrigin(actor: Actor): QuotaOrigin {
  return {
    via: 'api',
    userId: actor.identity.id,
    username: actor.identity.username,
    requestId: actor.origin.requestId,
    ip: actor.origin.ip,
    userAgent: actor.origin.userAgent,
  };
}
