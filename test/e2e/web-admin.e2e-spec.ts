import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { TestApp, TestStack } from '../harness/app';
import { freePort } from '../harness/child-app';
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_SECRET_ENV, TestOidcProvider } from '../harness/oidc-provider';
import { proxyEndpoint, ROOT_KEY } from '../harness/s3-proxy';
import { startS3rver, TestS3 } from '../harness/s3rver';
import { login, PASSWORD, seedUser, Session } from '../harness/session';
import { describeIfWebBuilt, expectNoSeriousAxeViolations, launchChromium, SHOTS } from '../harness/web-browser';

/**
 * The dashboard's admin screens, OIDC sign-in, the command palette and the share QR code in a
 * real browser (Debian's Chromium through playwright-core) against the real app on PostgreSQL,
 * Redis, two s3rver backends, the S3 proxy and a real OpenID provider. Needs the built app
 * (`npm run build:web`). Screenshots go to STOWAGE_SCREENSHOT_DIR (default test-results/web-screenshots).
 */

const AWS = '/usr/bin/aws';
const run = promisify(execFile);

const describeIfBuilt = describeIfWebBuilt('web-admin');

describeIfBuilt('the dashboard’s admin screens, OIDC, palette and QR in a browser', () => {
  jest.setTimeout(90_000);
  let stack: TestStack;
  let second: TestS3;
  let provider: TestOidcProvider;
  let app: TestApp;
  let admin: Session;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  const problems: string[] = [];

  const shot = async (name: string, p: Page = page) => {
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  /** axe-core in the page: serious and critical violations of WCAG 2 A/AA. */
  const axe = (p: Page = page) => expectNoSeriousAxeViolations(p);
  const open = async (link: string) => {
    // A dialog a failed test left open would hide the navigation from the next one.
    if (await page.getByRole('dialog').count()) await page.keyboard.press('Escape');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: link }).waitFor();
  };
  const put = async (bid: string, bucket: string, key: string, body: string) => {
    const res = await admin.request(`/api/backends/${bid}/buckets/${bucket}/object?key=${encodeURIComponent(key)}`, {
      method: 'POST',
      body: Buffer.from(body),
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${key}: ${res.status} ${res.text}`);
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'stowage-web-admin-'));
    [provider, stack, second] = await Promise.all([TestOidcProvider.start(), TestStack.start(), startS3rver()]);
    const s3 = stack.s3!;
    const backend = (id: string, server: TestS3, keys: string) => ({
      id,
      endpoint: server.endpoint,
      region: server.region,
      access_key_env: `${keys}_K`,
      secret_key_env: `${keys}_S`,
      path_style: true,
      kind: 's3rver',
    });
    app = await stack.boot({
      config: {
        ratelimit: { login_per_ip: 0, api_per_minute: 0 },
        // `down` refuses connections: its requests are the dashboard's server errors.
        backends: [backend('local', s3, 'A'), backend('second', second, 'B'), { ...backend('down', s3, 'A'), endpoint: 'http://127.0.0.1:9' }],
        s3_proxy: { enabled: true, listen: `127.0.0.1:${await freePort()}`, anonymous_enabled: true },
        auth: {
          modes: ['local', 'oidc'],
          oidc: {
            issuer: provider.issuer,
            client_id: OIDC_CLIENT_ID,
            client_secret_env: OIDC_SECRET_ENV,
            scopes: ['openid', 'profile', 'email', 'groups'],
            role_claim: 'groups',
            role_mapping: { admin: ['stowage-admins'], user: ['eng'] },
            button_label: 'Sign in with Test IdP',
            end_session: true,
            http_timeout: '3s',
          },
        },
      },
      env: {
        A_K: s3.accessKey,
        A_S: s3.secretKey,
        B_K: second.accessKey,
        B_S: second.secretKey,
        [OIDC_SECRET_ENV]: OIDC_CLIENT_SECRET,
        STOWAGE_SECRET_KEY: ROOT_KEY,
      },
    });
    await provider.configure([app.url], {
      ada: { preferred_username: 'ada', email: 'ada@example.com', email_verified: true, name: 'Ada L.', groups: ['stowage-admins'] },
    });
    await seedUser(app, { username: 'root', role: 'admin' });
    admin = await login(app, 'root');
    for (const [bid, name] of [['local', 'photos'], ['local', 'reports'], ['second', 'archive']]) {
      const res = await admin.request(`/api/backends/${bid}/buckets`, { method: 'POST', body: { name } });
      expect(res.status).toBe(201);
    }
    await put('local', 'photos', 'readme.txt', 'hello from the proxy\n');
    await put('local', 'photos', 'album/a.txt', 'a\n');
    await put('local', 'photos', 'album/b.txt', 'bb\n');
    // More audit rows than one page of ten.
    for (let i = 0; i < 6; i++) await put('second', 'archive', `seed/${i}.txt`, `${i}\n`);

    browser = await launchChromium();
    // bypassCSP only so that the test can inject axe-core.
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`${app.url}/sign-in`);
    await page.getByLabel('Username').fill('root');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/backends');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await second?.close();
    await provider?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows requests and storage on the dashboard after some traffic', async () => {
    const stored = 'hello from the proxy\n'.length + 2 + 3;
    for (const bucket of ['photos', 'reports']) {
      expect((await admin.request(`/api/backends/local/buckets/${bucket}/size-tracking`, { method: 'PUT', body: { enabled: true } })).status).toBe(200);
      // 200 with the new count; on a loaded machine the answer may come too late (408): the scan goes on.
      expect([200, 408]).toContain((await admin.request(`/api/backends/local/buckets/${bucket}/quota/recompute`, { method: 'POST' })).status);
    }
    for (let tries = 0; ; tries++) {
      const dash = await admin.request('/api/admin/dashboard');
      const local = (dash.body as { storage: { by_backend: Array<{ backend_id: string; bytes: number; buckets: number }> } }).storage.by_backend.find((b) => b.backend_id === 'local');
      if (local?.bytes === stored && local.buckets === 2) break;
      if (tries > 120) throw new Error(`the size scans did not finish: ${dash.text}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const failed = await admin.request('/api/backends/down/buckets');
    expect(failed.status).toBeGreaterThanOrEqual(500);
    // Each replica adds its counts to the shared ones every second.
    await new Promise((r) => setTimeout(r, 1200));
    await open('Dashboard');
    const requests = page.getByTestId('dash-requests');
    await requests.waitFor();
    expect(Number((await requests.textContent())!.replace(/\D/g, ''))).toBeGreaterThan(10);
    expect(Number(await page.getByTestId('dash-errors').textContent())).toBeGreaterThanOrEqual(1);
    await page.getByTestId('recent-errors').getByText('GET /api/backends/down/buckets').waitFor();
    expect(await page.getByTestId('column-chart').locator('rect.fill-danger').count()).toBe(1);
    await page.locator('[data-testid="top-buckets"] a', { hasText: 'local/photos' }).waitFor();
    const shown = await page.getByRole('list', { name: 'Storage by backend' }).locator('[data-bar="local"]').getAttribute('data-value');
    expect(Number(shown)).toBe(stored);
    expect(await page.getByTestId('column-chart').locator('rect.fill-accent').count()).toBe(24);
    await shot('admin-dashboard');
    await axe();
    // The dark theme keeps its contrast.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.evaluate(`document.documentElement.classList.add('dark')`);
    await shot('admin-dashboard-dark');
    await axe();
    await page.evaluate(`document.documentElement.classList.remove('dark')`);
    await page.emulateMedia({ colorScheme: 'light' });
  }, 150_000);

  it('filters the audit log and downloads the same rows as CSV', async () => {
    await open('Audit log');
    await page.getByTestId('audit-table').waitFor();
    // Hostile filters come back as the API's readable refusal, never a broken screen.
    for (const [label, value] of [['User', 'ro\u0001ot'], ['Backend', '../local'], ['Action', 'x'.repeat(200)]]) {
      await page.getByLabel(label).fill(value);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.locator('[role="alert"][data-code="bad_request"]').waitFor();
      await page.getByRole('button', { name: 'Reset' }).click();
      await page.getByTestId('audit-table').waitFor();
    }
    await page.getByLabel('Action').fill('bucket.create');
    await page.getByLabel('Backend').fill('local');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = page.locator('[data-testid="audit-table"] tbody tr');
    await page.locator('[data-testid="audit-total"][data-total="2"]').waitFor();
    expect(await rows.count()).toBe(2);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action')))).toEqual(['bucket.create', 'bucket.create']);
    // A bucket narrows it to one, newest first.
    await page.getByLabel('Bucket').fill('reports');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('[data-testid="audit-total"][data-total="1"]').waitFor();
    await shot('admin-audit');
    await axe();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\r\n');
    expect(csv).toHaveLength(2);
    expect(csv[0]).toMatch(/action/);
    expect(csv[1]).toContain('bucket.create');
    expect(csv[1]).toContain('reports');
    // Keyset pages: with no filter and 10 rows a page, "Next" follows the cursor to older rows
    // and "Previous" comes back to the same ones.
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.getByLabel('Rows per page').selectOption('10');
    await page.waitForFunction(`document.querySelectorAll('[data-testid="audit-table"] tbody tr').length === 10`);
    const ids = () => rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-id'))));
    const first = await ids();
    expect(Number(await page.getByTestId('audit-total').getAttribute('data-total'))).toBeGreaterThan(10);
    expect(await page.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('audit-page').filter({ hasText: 'Page 2' }).waitFor();
    await page.waitForFunction(`Number(document.querySelector('[data-testid="audit-table"] tbody tr')?.getAttribute('data-id')) < ${Math.min(...first)}`);
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.waitForFunction(`Number(document.querySelector('[data-testid="audit-table"] tbody tr')?.getAttribute('data-id')) === ${first[0]}`);
    expect(await ids()).toEqual(first);
  });

  it('mints a credential whose aws CLI snippet works against the proxy', async () => {
    const endpoint = proxyEndpoint(app);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'S3 credentials', exact: true }).click();
    await page.getByRole('button', { name: 'New credential' }).waitFor();
    // Where the screen lets the endpoint be typed, it is the proxy's; otherwise the API says it.
    if (await page.getByLabel('S3 endpoint').count()) await page.getByLabel('S3 endpoint').fill(endpoint);
    await page.getByRole('button', { name: 'New credential' }).click();
    await page.getByLabel('Description').fill('ci laptop');
    await page.getByRole('dialog').getByLabel('Backend').selectOption('local');
    await page.getByLabel('Buckets (comma-separated)').fill('photos');
    await page.getByRole('button', { name: 'Create' }).click();
    const snippet = (await page.locator('pre[data-snippet="aws CLI"]').textContent())!;
    expect(snippet).toContain(`--endpoint-url ${endpoint}`);
    expect(existsSync(AWS)).toBe(true);
    const home = join(dir, 'aws-home');
    mkdirSync(home, { recursive: true });
    const { stdout } = await run('bash', ['-ec', snippet], {
      env: { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none') },
      timeout: 30_000,
    });
    expect(stdout).toContain('readme.txt');
    expect(stdout).toContain('album/');
    await page.getByRole('button', { name: 'Close' }).first().click();
    // The admin list shows it, with its owner.
    await open('All S3 credentials');
    await page.locator('[data-testid="admin-credentials"] tbody tr', { hasText: 'ci laptop' }).filter({ hasText: 'root' }).waitFor();
    // An admin widens its scope to a bucket on another backend and renames it.
    await page.locator('[data-testid="admin-credentials"] tbody tr', { hasText: 'ci laptop' }).getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog', { name: /^Edit / });
    await dialog.getByLabel('Description').fill('ci laptop, two backends');
    await dialog.getByLabel('Buckets (backend/bucket, comma-separated)').fill('local/photos, second/archive');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-testid="admin-credentials"] tbody tr', { hasText: 'ci laptop, two backends' }).filter({ hasText: 'second/archive' }).waitFor();
    await shot('admin-credentials');
    await axe();
  });

  it('opens a bucket to anonymous reads through the proxy', async () => {
    const endpoint = proxyEndpoint(app);
    expect((await fetch(`${endpoint}/photos/readme.txt`)).status).toBe(403);
    await open('Anonymous access');
    await page.getByRole('button', { name: 'Open a bucket' }).click();
    await page.getByRole('dialog').getByLabel('Backend').selectOption('local');
    await page.getByLabel('Bucket name').fill('photos');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-binding="local/photos"]').waitFor();
    const res = await fetch(`${endpoint}/photos/readme.txt`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello from the proxy\n');
    await shot('admin-anonymous');
    await axe();
  });

  it('shows the health history of every backend', async () => {
    await open('Backend health');
    await page.locator('li[data-backend="local"]').waitFor();
    await page.locator('li[data-backend="second"]').waitFor();
    await page.locator('li[data-backend="down"]').getByText('Unreachable').waitFor();
    await shot('admin-health');
    await axe();
  });

  it('copies a folder and a file across backends', async () => {
    await page.goto(`${app.url}/b/local/photos`);
    await page.locator('[role="listitem"][data-key="readme.txt"]').waitFor();
    await page.getByLabel('Select readme.txt', { exact: true }).click();
    await page.getByLabel('Select album', { exact: true }).click();
    await page.getByRole('button', { name: 'Copy or move' }).click();
    const dialog = page.getByRole('dialog', { name: /Copy or move 2 items/ });
    await dialog.getByLabel('Destination backend').selectOption('second');
    await dialog.getByLabel('Destination bucket').selectOption('archive');
    await dialog.getByLabel('Destination folder (prefix)').fill('from-local');
    await shot('copy-across-backends');
    await dialog.getByRole('button', { name: 'Start' }).click();
    await dialog.waitFor({ state: 'detached' });
    for (const [key, body] of [['from-local/readme.txt', 'hello from the proxy\n'], ['from-local/album/a.txt', 'a\n'], ['from-local/album/b.txt', 'bb\n']]) {
      const res = await admin.request(`/api/backends/second/buckets/archive/object?key=${encodeURIComponent(key)}`);
      expect(res.status).toBe(200);
      expect(res.text).toBe(body);
    }
  });

  it('shares with a QR code and revokes from the same dialog', async () => {
    await page.getByLabel('Select album', { exact: true }).click();
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByTestId('share-url').inputValue();
    const qr = page.getByRole('img', { name: 'QR code of the share link' });
    await qr.waitFor();
    expect(Number(await qr.getAttribute('data-version'))).toBeGreaterThanOrEqual(2);
    expect((await qr.locator('path').getAttribute('d'))!.length).toBeGreaterThan(500);
    await shot('share-qr');
    await axe();
    const code = new URL(url).pathname;
    expect((await fetch(`${app.url}${code}/info`)).status).toBe(200);
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('The link is revoked').waitFor();
    expect((await fetch(`${app.url}${code}/info`)).status).not.toBe(200);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).first().click();
  });

  it('jumps with the command palette and lists the shortcuts', async () => {
    await page.keyboard.press('Control+k');
    const palette = page.getByTestId('command-palette');
    await palette.waitFor();
    await page.keyboard.type('archive');
    await palette.getByRole('option', { name: /archive/ }).first().waitFor();
    await shot('command-palette');
    await axe();
    await page.keyboard.press('Enter');
    await page.waitForURL('**/b/second/archive');
    await page.locator('[role="listitem"][data-key="from-local/"]').waitFor();
    await page.keyboard.press('g');
    await page.keyboard.press('d');
    await page.waitForURL('**/admin/dashboard');
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await shot('shortcuts');
    await page.keyboard.press('Escape');
  });

  it('signs in through OIDC and signs out at the provider', async () => {
    const fresh = await browser.newContext({ bypassCSP: true });
    const p = await fresh.newPage();
    p.on('pageerror', (err) => problems.push(err.message));
    await p.goto(`${app.url}/sign-in`);
    const button = p.getByRole('link', { name: 'Sign in with Test IdP' });
    await button.waitFor();
    await shot('sign-in-oidc', p);
    await axe(p);
    await button.click();
    await p.waitForURL((url) => url.origin === provider.issuer);
    await p.locator('input[name="login"]').fill('ada');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL('**/backends');
    await p.getByText('Signed in as ada (admin)').waitFor();
    await p.getByRole('button', { name: 'Sign out' }).click();
    // RP-initiated logout: the provider asks, then returns to Stowage.
    await p.waitForURL((url) => url.origin === provider.issuer);
    await p.getByRole('button', { name: /Yes, sign me out/ }).click();
    await p.waitForURL('**/sign-in');
    expect((await p.request.get(`${app.url}/api/me`)).status()).toBe(401);
    await fresh.close();
    expect(problems).toEqual([]);
  });
});
