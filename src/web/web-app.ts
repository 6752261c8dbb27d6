import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BACKEND_ID_PATTERN } from '@stowage/config';
import { isValidBucketName, prefixProblem } from '@stowage/s3-naming';
import { CONTENT_SECURITY_POLICY } from '../http/security-headers';

/**
 * The dashboard's single-page app: `index.html` plus content-hashed files under `assets/`, built
 * by `npm run build:web` into `web/dist`. Read once at boot; the files never change while the
 * process runs.
 */

/** Paths that belong to the API and other routes: never answered with the app. */
export const RESERVED_PREFIXES = ['/api', '/auth', '/s', '/metrics', '/healthz', '/readyz', '/assets'];

/**
 * The dashboard page's policy: the baseline (no inline script, only this origin's) plus blob:
 * frames, through which the object browser previews a PDF it fetched (as `application/pdf`, never
 * as a page), and no plugins.
 */
export const DASHBOARD_CSP = `${CONTENT_SECURITY_POLICY}; frame-src 'self' blob:; object-src 'none'`;

export const INDEX_CACHE_CONTROL = 'no-cache';
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** `web/dist` of this installation: two levels above this file both in `src/web` and `dist/src/web`. */
export function defaultWebDir(): string {
  const root = resolve(__dirname, '..', '..');
  return join(root.endsWith('/dist') ? resolve(root, '..') : root, 'web', 'dist');
}

export function resolveWebDir(configured: string): string {
  return configured ? resolve(configured) : defaultWebDir();
}

/** True for a path the app may answer: a GET outside the API, auth, share, probe and asset routes. */
export function isAppPath(url: string): boolean {
  const path = url.split('?', 1)[0]!.toLowerCase();
  return !RESERVED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Injection token of the loaded {@link WebApp}. */
export const WEB_APP = Symbol('WEB_APP');

export interface WebApp {
  dir: string;
  /** `index.html`, or undefined when the app is not built. */
  index?: Buffer;
  /** The object browser's code beyond the entry (`/assets/…` paths), from the build's manifest. */
  browserChunks?: string[];
}

/** The object browser's screen, as the build's manifest names its source. */
const BROWSER_SCREEN = 'src/screens/Browser.tsx';

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
}

export function loadWebApp(dir: string): WebApp {
  let index: Buffer;
  try {
    index = readFileSync(join(dir, 'index.html'));
  } catch {
    return { dir };
  }
  let browserChunks: string[] | undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(dir, '.vite', 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
    browserChunks = chunksOf(manifest, BROWSER_SCREEN);
  } catch {
    // No manifest (an older build): the page loads as before, without the hints.
  }
  return { dir, index, browserChunks };
}

/** The files a lazily loaded chunk needs beyond the entry: its own and those it imports, each once. */
export function chunksOf(manifest: Record<string, ManifestChunk>, name: string): string[] {
  const files: string[] = [];
  const seen = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || chunk.isEntry || seen.has(key)) return;
    seen.add(key);
    files.push(`/${chunk.file}`);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  visit(name);
  return files;
}

/** What `/` says when the app is not built (a development checkout). */
export function notBuiltPage(dir: string): string {
  const escaped = dir.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stowage</title></head><body>',
    '<h1>Stowage</h1>',
    `<p>The web dashboard is not built: no <code>index.html</code> in <code>${escaped}</code>.</p>`,
    '<p>Build it with <code>npm run build</code> (or only the dashboard: <code>npm run build:web</code>),',
    'or run <code>npm run dev -w web</code> for a development server. The API answers under',
    '<a href="/api/docs">/api/docs</a>.</p>',
    '</body></html>',
  ].join('\n');
}

/**
 * Keys the object browser asks for first (`FIRST_PAGE` in `web/src/lib/listing.ts`); the hint
 * below must name the very URL the app then requests, or the browser fetches twice.
 */
const FIRST_LISTING_PAGE = 200;

/**
 * `Link` preloads for a page load of the app, so that what its first screen waits for starts with
 * the page itself, beside the app's scripts, and the app's own requests are answered from there:
 * for a visitor with a session, the session check (`/api/me`); on the object browser
 * (`/b/{bid}/{bucket}?prefix=`), also the folder's first page and the screen's code. Nothing for a
 * visitor without a session, and no listing for names that cannot be a backend and bucket (the
 * rules of the listing route). Every part is percent-encoded as the app's client encodes it, which
 * also keeps header syntax (`<`, `>`, `;`, `,`, CR, LF) out of the value.
 */
export function pagePreloads(url: string, signedIn: boolean, app: Pick<WebApp, 'browserChunks'> = {}): string | undefined {
  if (!signedIn) return undefined;
  const links = ['</api/me>; rel=preload; as=fetch; crossorigin=anonymous'];
  const listing = listingUrl(url);
  if (listing) {
    links.push(`<${listing}>; rel=preload; as=fetch; crossorigin=anonymous`);
    for (const file of app.browserChunks ?? []) links.push(`<${file}>; rel=modulepreload`);
  }
  return links.join(', ');
}

/** The first page of the folder an object browser address shows, or undefined for any other path. */
function listingUrl(url: string): string | undefined {
  const [path = '', query = ''] = url.split('?', 2);
  const match = /^\/b\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (!match) return undefined;
  let bid: string;
  let bucket: string;
  try {
    bid = decodeURIComponent(match[1]!);
    bucket = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  const prefix = new URLSearchParams(query).get('prefix') ?? '';
  // Only what the listing route would take: anything else is left for the app to report.
  if (!BACKEND_ID_PATTERN.test(bid) || !isValidBucketName(bucket) || prefixProblem(prefix)) return undefined;
  const e = encodeURIComponent;
  return `/api/backends/${e(bid)}/buckets/${e(bucket)}/objects?prefix=${e(prefix)}&delimiter=${e('/')}&max_keys=${FIRST_LISTING_PAGE}`;
}
