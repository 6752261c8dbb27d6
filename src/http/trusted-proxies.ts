/**
 * What Fastify should believe of `X-Forwarded-*`: only what the listed proxies say. An empty
 * list trusts nobody, so a client talking to Stowage directly cannot choose its own address.
 */
export function trustProxySetting(cidrs: string[]): string[] | false {
  return cidrs.length > 0 ? cidrs : false;
}
