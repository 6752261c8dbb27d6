import { DataSource } from 'typeorm';
import { TestApp, TestStack } from '../harness/app';
import { Browser, BrowserResponse } from '../harness/browser';
import { http } from '../harness/http';
import {
  OIDC_CLIENT_ID,
  OIDC_CLIENT_SECRET,
  OIDC_SECRET_ENV,
  OidcAccount,
  TestOidcProvider,
} from '../harness/oidc-provider';
import { login, loginRequest, seedUser, Session } from '../harness/session';

const ACCOUNTS: Record<string, OidcAccount> = {
  ada: {
    preferred_username: 'ada',
    email: 'ada@example.com',
    email_verified: true,
    name: 'Ada L.',
    groups: ['stowage-admins', 'eng'],
  },
  bob: { preferred_username: 'bob', email: 'bob@example.com', email_verified: true, name: 'Bob', groups: ['eng'] },
  cyd: { preferred_username: 'cyd', email: 'cyd@example.com', email_verified: true, groups: 'everyone' },
  nog: { email: 'nog@example.com', email_verified: true, groups: ['marketing'] },
  dan: { email: 'dan@example.com', email_verified: false, groups: ['eng'] },
  eve: { email: 'eve@example.com', email_verified: true, groups: ['eng'] },
  fay: { email: 'fay@example.com', email_verified: false, groups: ['eng'] },
};

/** Stowage's OIDC configuration against the test provider. */
function oidcConfig(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    ratelimit: { login_per_ip: 0 },
    auth: {
      modes: ['local', 'oidc'],
      oidc: {
        issuer,
        client_id: OIDC_CLIENT_ID,
        client_secret_env: OIDC_SECRET_ENV,
        scopes: ['openid', 'profile', 'email', 'groups'],
        role_claim: 'groups',
        role_mapping: { admin: ['stowage-admins'], user: ['eng'], readonly: ['everyone'] },
        button_label: 'Sign in with Test IdP',
        http_timeout: '3s',
        ...extra,
      },
    },
  };
}

const ENV = { [OIDC_SECRET_ENV]: OIDC_CLIENT_SECRET };

let current: TestOidcProvider | undefined;
const activeProvider = () => current!;

/** Drives the browser from Stowage's start route through the provider's login form. */
async function throughProvider(
  app: TestApp,
  browser: Browser,
  account: string,
  options: { next?: string; stopAtCallback?: boolean } = {},
): Promise<BrowserResponse> {
  const start = `${app.url}/auth/login/oidc${options.next ? `?next=${encodeURIComponent(options.next)}` : ''}`;
  const stopAt = options.stopAtCallback ? (url: URL) => url.pathname === '/auth/callback' : undefined;
  const page = await browser.go(start, { stopAt });
  // A browser still signed in at the provider comes straight back (single sign-on).
  if (page.location || page.url.origin !== activeProvider().issuer) return page;
  if (page.status !== 200 || !/<form/.test(page.text))
    throw new Error(`expected the provider's login page, got ${page.status} ${page.text.slice(0, 300)}`);
  const action = /action="([^"]+)"/.exec(page.text)![1];
  return browser.go(new URL(action, page.url), {
    method: 'POST',
    form: { login: account },
    stopAt,
  });
}

/** The callback URL the provider sends the browser to (not yet requested). */
async function callbackUrl(app: TestApp, browser: Browser, account: string): Promise<URL> {
  const res = await throughProvider(app, browser, account, { stopAtCallback: true });
  if (!res.location) throw new Error(`no callback: ${res.status} ${res.text.slice(0, 300)}`);
  return res.location;
}

/** The signed-in browser's session, as the harness's Session. */
function sessionOf(app: TestApp, browser: Browser): Session {
  const host = new URL(app.url).hostname;
  return new Session(app.url, browser.cookie(host, 'stowage_session')!, browser.cookie(host, 'stowage_csrf')!);
}

describe('OIDC sign-in against a real OpenID provider', () => {
  let stack: TestStack;
  let provider: TestOidcProvider;
  let a: TestApp;
  let b: TestApp;

  const auditRows = (app: TestApp, since: Date) =>
    app.app
      .get(DataSource)
      .query(
        `SELECT user_id, username, status, detail FROM audit_events WHERE action = 'auth.login' AND at >= $1 ORDER BY id`,
        [since],
      ) as Promise<Array<{ user_id: string | null; username: string; status: string; detail: Record<string, unknown> }>>;

  beforeAll(async () => {
    provider = current = await TestOidcProvider.start();
    stack = await TestStack.start({ s3: false });
    [a, b] = await Promise.all([
      stack.boot({ config: oidcConfig(provider.issuer), env: ENV }),
      stack.boot({ config: oidcConfig(provider.issuer), env: ENV }),
    ]);
    await provider.configure([a.url, b.url], ACCOUNTS);
  });
  afterAll(async () => {
    await stack?.stop();
    await provider?.close();
  });

  it('offers OIDC in /api/auth/config with the configured label', async () => {
    const res = await http(a.url, '/api/auth/config');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      modes: ['local', 'oidc'],
      oidc: { label: 'Sign in with Test IdP', login_url: '/auth/login/oidc' },
    });
  });

  it('sends the browser to the provider with PKCE S256, state and nonce', async () => {
    const res = await new Browser().go(`${a.url}/auth/login/oidc`, { manual: true });
    expect(res.status).toBe(302);
    const location = res.location!;
    expect(location.origin).toBe(provider.issuer);
    const q = location.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(OIDC_CLIENT_ID);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toBeTruthy();
    expect(q.get('scope')!.split(' ').sort()).toEqual(['email', 'groups', 'openid', 'profile']);
    expect(q.get('redirect_uri')).toBe(`${a.url}/auth/callback`);
    expect(res.headers.getSetCookie().join('\n')).toMatch(/stowage_oidc_flow=.*HttpOnly/i);
  });

  it.each([
    ['ada', 'admin'],
    ['bob', 'user'],
    ['cyd', 'readonly'],
  ])('signs %s in through the full redirect flow with the role %s from the groups claim', async (account, role) => {
    const browser = new Browser();
    const res = await throughProvider(a, browser, account, { next: '/api/me' });
    expect(res.url.pathname).toBe('/api/me');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ username: account, role, identity_source: 'oidc' });
    expect(res.body.email).toBe(ACCOUNTS[account].email);
  });

  it('refuses a user none of whose groups is mapped (oidc_failed), with an audit row naming the reason', async () => {
    const since = new Date();
    const res = await throughProvider(a, new Browser(), 'nog');
    expect([res.status, res.body?.error?.code]).toEqual([400, 'oidc_failed']);
    const rows = await auditRows(a, since);
    expect(rows.at(-1)).toMatchObject({ status: 'error', detail: { source: 'oidc', reason: 'no_role', groups: ['marketing'] } });
    const users = await a.app.get(DataSource).query(`SELECT 1 FROM users WHERE email = 'nog@example.com'`);
    expect(users).toHaveLength(0);
  });

  it('refuses a tampered state, and one from another browser', async () => {
    const browser = new Browser();
    const callback = await callbackUrl(a, browser, 'bob');
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${callback.searchParams.get('state')!.slice(0, -2)}xy`);
    const res = await browser.go(tampered);
    expect([res.status, res.body?.error?.code]).toEqual([400, 'oidc_failed']);
    expect(browser.cookie('127.0.0.1', 'stowage_session')).toBeUndefined();

    const other = await callbackUrl(a, new Browser(), 'bob');
    const stranger = await new Browser().go(other);
    expect([stranger.status, stranger.body?.error?.code]).toEqual([400, 'oidc_failed']);
  });

  it('accepts a callback once: a replayed callback and a replayed code are refused', async () => {
    const browser = new Browser();
    const callback = await callbackUrl(a, browser, 'bob');
    const flowCookie = browser.cookie('127.0.0.1', 'stowage_oidc_flow')!;
    const first = await browser.go(callback, { manual: true });
    expect([first.status, first.location?.pathname]).toEqual([302, '/']);
    // The same callback again (state already used), even with the flow cookie put back.
    browser.setCookie('127.0.0.1', 'stowage_oidc_flow', flowCookie, '/auth/callback');
    const again = await browser.go(callback, { manual: true });
    expect([again.status, again.body?.error?.code]).toEqual([400, 'oidc_failed']);
    // The used code with the state of a fresh flow: the provider refuses the code.
    const since = new Date();
    const fresh = await callbackUrl(a, browser, 'bob');
    fresh.searchParams.set('code', callback.searchParams.get('code')!);
    const replay = await browser.go(fresh, { manual: true });
    expect([replay.status, replay.body?.error?.code]).toEqual([400, 'oidc_failed']);
    expect((await auditRows(a, since)).at(-1)?.detail).toMatchObject({ reason: 'token_rejected' });
  });

  it.each([
    ['issuer', 'wrong_issuer'],
    ['audience', 'wrong_audience'],
    ['expired', 'expired'],
    ['foreign-key', 'signature'],
  ] as const)('refuses an ID token with a forged %s (%s)', async (mode, reason) => {
    const since = new Date();
    await provider.forge(mode);
    try {
      const browser = new Browser();
      const res = await throughProvider(a, browser, 'bob');
      expect([res.status, res.body?.error?.code]).toEqual([400, 'oidc_failed']);
      expect(browser.cookie('127.0.0.1', 'stowage_session')).toBeUndefined();
    } finally {
      await provider.forge(null);
    }
    expect((await auditRows(a, since)).at(-1)).toMatchObject({ status: 'error', detail: { reason } });
  });

  it('does not link an unverified e-mail to the local user who has it', async () => {
    const local = await seedUser(a, { username: 'dan-local', email: 'dan@example.com' });
    const res = await throughProvider(a, new Browser(), 'dan');
    expect([res.status, res.body?.error?.code]).toEqual([400, 'oidc_failed']);
    const [row] = await a.app.get(DataSource).query(`SELECT identity_source, oidc_subject FROM users WHERE id = $1`, [
      local.id,
    ]);
    expect(row).toEqual({ identity_source: 'local', oidc_subject: null });
    expect((await loginRequest(a, 'dan-local')).status).toBe(200);
  });

  it('finishes on one instance a flow started on another', async () => {
    const browser = new Browser();
    const callback = await callbackUrl(a, browser, 'bob');
    const onB = new URL(`${callback.pathname}${callback.search}`, b.url);
    const res = await browser.go(onB, { manual: true });
    expect(res.status).toBe(302);
    const me = await sessionOf(b, browser).on(a).request('/api/me');
    expect(me.body).toMatchObject({ username: 'bob', identity_source: 'oidc' });
  });

  it('follows a signing-key rotation at the provider', async () => {
    const browser = new Browser();
    expect((await throughProvider(a, browser, 'bob', { next: '/api/me' })).status).toBe(200);
    await provider.rotateKeys();
    // jose fetches the key set again for an unknown key id at most every 5 s.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    const res = await throughProvider(a, new Browser(), 'bob', { next: '/api/me' });
    expect([res.status, res.body?.username]).toEqual([200, 'bob']);
  });

  it('answers 502 oidc_failed while the provider is down at the callback, and recovers', async () => {
    const browser = new Browser();
    const callback = await callbackUrl(a, browser, 'bob');
    await provider.stop();
    try {
      const res = await browser.go(callback);
      expect([res.status, res.body?.error?.code]).toEqual([502, 'oidc_failed']);
    } finally {
      await provider.resume();
    }
    expect((await throughProvider(a, new Browser(), 'bob', { next: '/api/me' })).status).toBe(200);
  });

  it('answers 502 oidc_failed while the provider is down at discovery, and discovers again later', async () => {
    await provider.stop();
    let fresh: TestApp | undefined;
    try {
      fresh = await stack.boot({ config: oidcConfig(provider.issuer), env: ENV });
      const res = await http(fresh.url, '/auth/login/oidc');
      expect([res.status, res.body?.error?.code]).toEqual([502, 'oidc_failed']);
    } finally {
      await provider.resume();
    }
    const res = await new Browser().go(`${fresh.url}/auth/login/oidc`, { manual: true });
    expect(res.status).toBe(302);
  });

  it('re-evaluates the role on every sign-in unless an admin pinned it', async () => {
    await provider.setAccounts({ gus: { email: 'gus@example.com', email_verified: true, groups: ['eng'] } });
    expect((await throughProvider(a, new Browser(), 'gus', { next: '/api/me' })).body.role).toBe('user');
    await provider.setAccounts({ gus: { email: 'gus@example.com', email_verified: true, groups: ['everyone'] } });
    const second = await throughProvider(a, new Browser(), 'gus', { next: '/api/me' });
    expect(second.body.role).toBe('readonly');
    const admin = await login(a, (await seedUser(a, { role: 'admin' })).username);
    const pin = await admin.request(`/api/admin/users/${second.body.id}`, {
      method: 'PATCH',
      body: { role: 'user', role_pinned: true },
    });
    expect([pin.status, pin.body.role_pinned]).toEqual([200, true]);
    const third = await throughProvider(a, new Browser(), 'gus', { next: '/api/me' });
    expect(third.body.role).toBe('user');
  });

  it('keeps OIDC users out of local-only operations (not_local) and password sign-in', async () => {
    const browser = new Browser();
    await throughProvider(a, browser, 'bob');
    const res = await sessionOf(a, browser).request('/api/me/password', {
      method: 'POST',
      body: { current_password: 'x', new_password: 'a long enough new passphrase' },
    });
    expect([res.status, res.body.error.code]).toEqual([400, 'not_local']);
    expect((await loginRequest(a, 'bob', 'anything at all')).body.error.code).toBe('invalid_credentials');
  });

  it('returns only to paths of this site after sign-in', async () => {
    for (const [next, expected] of [
      ['/buckets?x=1', '/buckets?x=1'],
      ['//evil.example/', '/'],
      ['https://evil.example/', '/'],
      ['/\\evil.example', '/'],
    ]) {
      const browser = new Browser();
      const page = await browser.go(`${a.url}/auth/login/oidc?next=${encodeURIComponent(next)}`);
      const action = /action="([^"]+)"/.exec(page.text)![1];
      const callback = await browser.go(new URL(action, page.url), {
        method: 'POST',
        form: { login: 'bob' },
        stopAt: (url) => url.origin === a.url && url.pathname !== '/auth/callback',
      });
      expect([next, callback.location?.pathname && `${callback.location.pathname}${callback.location.search}`]).toEqual([
        next,
        expected,
      ]);
    }
  });

  it('refuses malformed callbacks with oidc_failed, never 500', async () => {
    for (const query of [
      '',
      '?code=abc',
      '?state=abc',
      '?code=a&code=b&state=c',
      `?code=${'a'.repeat(5000)}&state=x`,
      '?code=x&state=..%2F..%2Fetc',
      '?error=access_denied&state=x',
      '?error=server_error',
    ]) {
      const res = await http(a.url, `/auth/callback${query}`);
      expect([query, res.status, res.body?.error?.code]).toEqual([query, 400, 'oidc_failed']);
    }
    // A NUL anywhere in a query is refused before any route runs, here as everywhere.
    const nul = await http(a.url, '/auth/callback?code=%00&state=x');
    expect([nul.status, nul.body?.error?.code]).toEqual([400, 'bad_request']);
    for (const query of ['?next=/x&extra=1', `?next=${'a'.repeat(2000)}`, '?next=a&next=b']) {
      const res = await http(a.url, `/auth/login/oidc${query}`);
      expect([query, res.status, res.body?.error?.code]).toEqual([query, 400, 'bad_request']);
    }
  });
});

describe('OIDC options', () => {
  let stack: TestStack;
  let provider: TestOidcProvider;

  beforeAll(async () => {
    provider = current = await TestOidcProvider.start();
    stack = await TestStack.start({ s3: false });
  });
  afterAll(async () => {
    await stack?.stop();
    await provider?.close();
  });

  it('links a verified e-mail to the local account when enabled, and never an unverified one', async () => {
    const app = await stack.boot({ config: oidcConfig(provider.issuer, { link_existing_by_email: true }), env: ENV });
    await provider.configure([app.url], ACCOUNTS);
    const eve = await seedUser(app, { username: 'eve-local', email: 'eve@example.com' });
    const fay = await seedUser(app, { username: 'fay-local', email: 'fay@example.com' });
    const linked = await throughProvider(app, new Browser(), 'eve', { next: '/api/me' });
    expect(linked.body).toMatchObject({ id: eve.id, username: 'eve-local', identity_source: 'oidc', role: 'user' });
    expect((await loginRequest(app, 'eve-local')).body.error.code).toBe('invalid_credentials');
    const refused = await throughProvider(app, new Browser(), 'fay');
    expect([refused.status, refused.body?.error?.code]).toEqual([400, 'oidc_failed']);
    expect((await loginRequest(app, fay.username)).status).toBe(200);
  });

  it('sends OIDC users to the provider’s end-session endpoint on logout when enabled', async () => {
    const app = await stack.boot({ config: oidcConfig(provider.issuer, { end_session: true }), env: ENV });
    await provider.configure([app.url], ACCOUNTS);
    const browser = new Browser();
    await throughProvider(app, browser, 'bob');
    const session = sessionOf(app, browser);
    const res = await session.request('/auth/logout', { method: 'POST' });
    expect(res.status).toBe(200);
    const redirect = new URL(res.body.redirect);
    expect(`${redirect.origin}`).toBe(provider.issuer);
    expect(redirect.searchParams.get('client_id')).toBe(OIDC_CLIENT_ID);
    expect(redirect.searchParams.get('post_logout_redirect_uri')).toBe(`${app.url}/`);
    expect((await session.request('/api/me')).status).toBe(401);
    // A browser form post is sent there directly, and the provider knows the request.
    const other = new Browser();
    await throughProvider(app, other, 'bob');
    const otherSession = sessionOf(app, other);
    const html = await fetch(`${app.url}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { accept: 'text/html', cookie: otherSession.cookie, 'x-csrf-token': otherSession.csrf },
    });
    expect(html.status).toBe(303);
    expect(new URL(html.headers.get('location')!).origin).toBe(provider.issuer);
    const page = await other.go(html.headers.get('location')!);
    expect([page.status, page.url.origin]).toEqual([200, provider.issuer]);
    expect((await otherSession.request('/api/me')).status).toBe(401);
  });

  it('limits starts per client address and refuses OIDC when the mode is off', async () => {
    const limited = await stack.boot({
      config: { ...oidcConfig(provider.issuer), ratelimit: { login_per_ip: 2, login_window: '1m' } },
      env: ENV,
    });
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const res = await new Browser().go(`${limited.url}/auth/login/oidc`, { manual: true });
      codes.push(res.status);
    }
    expect(codes).toEqual([302, 302, 429]);
    const off = await stack.boot({ env: ENV });
    for (const path of ['/auth/login/oidc', '/auth/callback?code=x&state=y']) {
      const res = await http(off.url, path);
      expect([path, res.status, res.body?.error?.code]).toEqual([path, 403, 'mode_disabled']);
    }
    expect((await http(off.url, '/api/auth/config')).body).not.toHaveProperty('oidc');
  });
});
