import { isSigV4Error, SigV4Error } from './errors';
import type { SecretHolder } from './signing';

/**
 * The secret of an access key, or an object holding it, or nothing when the key is unknown. The
 * signing key derived from a holder's secret is remembered on the holder itself, so a request
 * on a known holder skips the cache's fingerprint of the secret.
 */
export type SecretAnswer = string | SecretHolder | undefined | null;
export type SecretLookup = (accessKeyId: string) => SecretAnswer | Promise<SecretAnswer>;

/** The time a check runs at: `now` when given, else the clock. A broken clock must not switch date checks off. */
export function checkTime(options: { now?: Date }): number {
  const nowMs = options.now ? options.now.getTime() : Date.now();
  if (!Number.isFinite(nowMs)) throw new RangeError('options.now is not a valid date');
  return nowMs;
}

/**
 * The path every signature check takes: `prepare` reads what was signed (a refusal it throws is
 * the answer), the secret of `accessKeyOf(prepared)` is looked up, and `check` decides with it.
 * Synchronous when the lookup is; what the lookup throws, or anything but a refusal, propagates.
 */
export function checkPrepared<P, R>(
  prepare: () => P,
  accessKeyOf: (prepared: P) => string,
  lookupSecret: SecretLookup,
  check: (prepared: P, found: SecretAnswer) => R,
): R | SigV4Error | Promise<R> {
  let prepared: P;
  try {
    prepared = prepare();
  } catch (err) {
    if (isSigV4Error(err)) return err;
    throw err;
  }
  const looked = lookupSecret(accessKeyOf(prepared));
  if (isThenable(looked)) return looked.then((found) => check(prepared, found));
  return check(prepared, looked);
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
