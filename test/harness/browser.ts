/* eslint-disable @typescript-eslint/no-explicit-any */

interface StoredCookie {
  value: string;
  path: string;
}

export interface BrowserResponse {
  status: number;
  url: URL;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined. */
  body: any;
  /** The Location of a redirect that was not followed. */
  location?: URL;
}

export interface BrowserRequest {
  method?: string;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Stop before requesting a URL this matches (its redirect is returned instead). */
  stopAt?: (url: URL) => boolean;
  /** Follow no redirect at all. */
  manual?: boolean;
}

/**
 * An HTTP client that behaves like a browser for sign-in flows: it follows redirects (303, and
 * 302 after a POST, become GETs) and keeps cookies per host name as browsers do (not per port),
 * honouring Path, Max-Age and Expires.
 */
export class Browser {
  private readonly jar = new Map<string, Map<string, StoredCookie>>();

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name)?.value;
  }

  setCookie(host: string, name: string, value: string, path = '/'): void {
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(name, { value, path });
  }

  private cookieHeader(url: URL): string | undefined {
    const cookies = [...(this.jar.get(url.hostname)?.entries() ?? [])]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`);
    return cookies.length ? cookies.join('; ') : undefined;
  }

  private store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const index = pair.indexOf('=');
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, raw = ''] = attribute.split('=');
        const lower = key.toLowerCase();
        if (lower === 'path') path = raw || '/';
        if (lower === 'max-age' && Number(raw) <= 0) expired = true;
        if (lower === 'expires' && Date.parse(raw) <= Date.now()) expired = true;
      }
      if (!this.jar.has(url.hostname)) this.jar.set(url.hostname, new Map());
      if (expired) this.jar.get(url.hostname)!.delete(name);
      else this.jar.get(url.hostname)!.set(name, { value, path });
    }
  }

  async go(target: string | URL, options: BrowserRequest = {}): Promise<BrowserResponse> {
    let url = new URL(target);
    let method = options.method ?? 'GET';
    let body: string | undefined = options.form ? new URLSearchParams(options.form).toString() : undefined;
    for (let hop = 0; hop < 20; hop++) {
      const headers: Record<string, string> = { accept: 'text/html,application/json', ...(options.headers ?? {}) };
      const cookie = this.cookieHeader(url);
      if (cookie) headers.cookie = cookie;
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(url, { method, headers, body, redirect: 'manual' });
      this.store(url, res.headers);
      const text = await res.text();
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, url);
        if (options.manual || options.stopAt?.(next)) return result(res, url, text, next);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        url = next;
        continue;
      }
      return result(res, url, text);
    }
    throw new Error(`too many redirects from ${String(target)}`);
  }
}

function result(res: Response, url: URL, text: string, location?: URL): BrowserResponse {
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, url, headers: res.headers, text, body, ...(location ? { location } : {}) };
}
