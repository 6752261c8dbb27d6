/** The region S3 clients sign for when told none, and the proxy's answer for a wrong one. */
export const DEFAULT_SIGNING_REGION = 'us-east-1';

/**
 * The regions a request's credential scope may name, as S3 checks them: the configured list
 * (`s3_proxy.regions`) when there is one, otherwise the registered backends' regions and
 * us-east-1. Backends come and go at run time, so a region not seen before makes it look at
 * them again before refusing; a known region costs one set lookup.
 */
export class SigningRegions {
  private readonly configured: ReadonlySet<string> | undefined;
  private readonly expected: string;
  private known: ReadonlySet<string> = new Set([DEFAULT_SIGNING_REGION]);

  constructor(
    configured: readonly string[],
    private readonly backendRegions: () => Iterable<string>,
  ) {
    this.configured = configured.length > 0 ? new Set(configured) : undefined;
    this.expected = configured[0] ?? DEFAULT_SIGNING_REGION;
  }

  /** Undefined for a region accepted; for one refused, the region to name as expected. */
  readonly check = (region: string): string | undefined => {
    if (this.configured) return this.configured.has(region) ? undefined : this.expected;
    if (this.known.has(region)) return undefined;
    const known = new Set([DEFAULT_SIGNING_REGION]);
    for (const backendRegion of this.backendRegions()) if (backendRegion) known.add(backendRegion);
    this.known = known;
    return known.has(region) ? undefined : this.expected;
  };
}
