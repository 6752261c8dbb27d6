import type { S3ProxyConfig, ServerConfig } from '@stowage/config';
import { parseListen } from '@stowage/config';

export interface BucketUrls {
  backend_id: string;
  bucket: string;
  /** `<endpoint>/<bucket>`: works with every client. */
  path_style: string;
  /** `<scheme>://<bucket>.<first host suffix>[:port]`, when `s3_proxy.host_suffixes` names one. */
  virtual_hosted?: string;
}

/** Labels a virtual-hosted name can carry (lower-case DNS labels; no dots, which break TLS wildcards). */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Where clients reach the S3 proxy, for the snippets shown beside a credential:
 * `s3_proxy.public_url` when set; otherwise `http://` (the listener speaks plain HTTP), the first
 * of `s3_proxy.host_suffixes`, else the host of `server.public_url`, else the host name the
 * caller used for this API request, and the port of `s3_proxy.listen`.
 */
export class ProxyUrls {
  constructor(
    private readonly proxy: Pick<S3ProxyConfig, 'listen' | 'host_suffixes' | 'public_url'>,
    private readonly server: Pick<ServerConfig, 'public_url'>,
  ) {}

  endpoint(requestHost?: string): string {
    if (this.proxy.public_url) return this.proxy.public_url.replace(/\/+$/, '');
    const port = parseListen(this.proxy.listen)?.port ?? 8090;
    const host =
      this.proxy.host_suffixes[0] ||
      (this.server.public_url ? new URL(this.server.public_url).hostname : '') ||
      cleanHost(requestHost) ||
      'localhost';
    return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  }

  bucket(endpoint: string, backendId: string, bucket: string): BucketUrls {
    const urls: BucketUrls = { backend_id: backendId, bucket, path_style: `${endpoint}/${encodeURIComponent(bucket)}` };
    const suffix = this.proxy.host_suffixes[0];
    if (suffix && DNS_LABEL.test(bucket)) {
      const url = new URL(endpoint);
      urls.virtual_hosted = `${url.protocol}//${bucket}.${suffix}${url.port ? `:${url.port}` : ''}`;
    }
    return urls;
  }
}

/** A request's host name, only when it is a plain DNS name or IP literal (never echo anything else). */
function cleanHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$/.test(name) ? name.toLowerCase() : undefined;
}
