import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
}

export function loadWebApp(dir: string): WebApp {
  try {
    return { dir, index: readFileSync(join(dir, 'index.html')) };
  } catch {
    return { dir };
  }
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
