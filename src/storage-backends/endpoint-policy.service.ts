import { Injectable } from '@nestjs/common';
import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { AddressPolicy, endpointUrlProblem, StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';

/** The error a connection gets when its host name resolves to an address the policy denies. */
export class EndpointAddressDeniedError extends Error {
  readonly code = 'EADDRNOTALLOWED';
  constructor() {
    super('the endpoint resolves to an address backend_endpoints does not allow');
  }
}

/**
 * `backend_endpoints`: the networks a backend endpoint may reach. Checked on the URL (no
 * credentials in it; an IP literal must be allowed), on every address its name resolves to when
 * an admin saves or tests it, and again on each new connection, so a name that later resolves
 * elsewhere (DNS rebinding) is refused as well.
 */
@Injectable()
export class EndpointPolicy {
  private readonly policy: AddressPolicy;

  constructor(config: StowageConfig) {
    const { allow_networks, deny_networks } = config.backend_endpoints;
    this.policy = new AddressPolicy(allow_networks, deny_networks);
  }

  /** What is wrong with the URL itself (credentials, a denied IP literal); undefined when nothing. */
  urlProblem(endpoint: string): string | undefined {
    return endpointUrlProblem(endpoint, this.policy);
  }

  /** Throws `bad_request` naming `field` when the endpoint or any address its name resolves to is refused. */
  async assertAllowed(endpoint: string, field = 'endpoint'): Promise<void> {
    const problem = this.urlProblem(endpoint);
    if (problem) throw new StowageError('bad_request', undefined, `${field}: ${problem}`);
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
    const addresses = await new Promise<LookupAddress[]>((resolve) =>
      // A name that does not resolve cannot be reached either; the connection attempt says so.
      dnsLookup(host, { all: true }, (err, found) => resolve(err ? [] : found)),
    );
    if (addresses.some((a) => !this.policy.allows(a.address)))
      throw new StowageError('bad_request', undefined, `${field}: the address is not allowed by backend_endpoints`);
  }

  /** A `lookup` for HTTP agents: resolves as usual, then refuses the connection if any address is denied. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      if (addresses.length === 0 || addresses.some((a) => !this.policy.allows(a.address)))
        return callback(new EndpointAddressDeniedError() as NodeJS.ErrnoException, '', 4);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
