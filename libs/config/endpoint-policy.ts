import { BlockList, isIP } from 'node:net';

/** The networks a backend endpoint may never reach unless configured otherwise: link-local and cloud metadata. */
export const DEFAULT_DENIED_ENDPOINT_NETWORKS = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128'];

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d` or `::ffff:xxxx:yyyy`) as IPv4; anything else unchanged. */
function unmapped(address: string): string {
  const match = /^(?:0{0,4}:){0,5}:?ffff:(.+)$/i.exec(address);
  if (!match || isIP(address) !== 6) return address;
  const tail = match[1];
  if (isIP(tail) === 4) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return address;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

function blockList(networks: readonly string[]): BlockList {
  const list = new BlockList();
  for (const network of networks) {
    const [address, bits] = network.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    const prefix = bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits);
    list.addSubnet(address, prefix, family);
  }
  return list;
}

/**
 * Which addresses a backend endpoint may connect to: those in `allow` (every address when it is
 * empty) and not in `deny`. Networks are CIDRs, validated by the config schema.
 */
export class AddressPolicy {
  private readonly allow?: BlockList;
  private readonly deny: BlockList;

  constructor(allow: readonly string[], deny: readonly string[]) {
    this.allow = allow.length > 0 ? blockList(allow) : undefined;
    this.deny = blockList(deny);
  }

  allows(address: string): boolean {
    const plain = unmapped(address.replace(/^\[|\]$/g, ''));
    const family = isIP(plain);
    if (family === 0) return false;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (this.deny.check(plain, type)) return false;
    return this.allow ? this.allow.check(plain, type) : true;
  }
}

/**
 * What is wrong with a backend endpoint URL before any name is resolved: credentials in it
 * (`user:pass@`, which would be stored and shown in clear), or an IP address the policy denies.
 * Host names are checked on the addresses they resolve to, when connecting.
 */
export function endpointUrlProblem(endpoint: string, policy: AddressPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'must be an http(s) URL';
  }
  if (url.username || url.password) return 'must not contain user:password@ (give the keys in their own fields)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !policy.allows(host)) return 'the address is not allowed by backend_endpoints';
  return undefined;
}
