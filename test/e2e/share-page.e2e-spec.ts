import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { TestApp, TestStack } from '../harness/app';
import { http } from '../harness/http';
import { Session } from '../harness/session';
import { bootWithBackend } from '../harness/storage';

const BUCKET = 'page-files';
const CONTENT = 'Quarterly numbers, shared through the recipient page.\n';
const SHARE_PASSWORD = 'recipient page passphrase';

describe('the recipient page /s/{code} in a browser', () => {
  let stack: TestStack;
  let keyDir: string;
  let app: TestApp;
  let alice: Session;
  let browser: Browser;

  const create = async (body: Record<string, unknown>) => {
    const res = await alice.request('/api/shares', {
      method: 'POST',
      body: { backend_id: 'local', bucket: BUCKET, key: 'reports/q3.txt', ...body },
    });
    if (res.status !== 201) throw new Error(`share creation failed: ${res.status} ${res.text}`);
    return res.body as { id: string; code: string; url: string };
  };

  /** A fresh browser context (no cookies) with every console error and CSP violation collected. */
  async function open(url: string): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      // Expected: the 401s of the password prompt, and the browser's own favicon probe.
      const expected = /status of 401/.test(message.text()) || message.location().url.endsWith('/favicon.ico');
      if (message.type() === 'error' && !expected) problems.push(`${message.text()} ${message.location().url}`);
    });
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(url);
    return { page, problems };
  }

  beforeAll(async () => {
    stack = await TestStack.start();
    keyDir = mkdtempSync(join(tmpdir(), 'stowage-share-page-'));
    ({ app, user: alice } = await bootWithBackend(stack, {
      bucket: BUCKET,
      config: {
        server: { secret_key_file: join(keyDir, 'root.key') },
        ratelimit: { login_per_ip: 0, api_per_minute: 0 },
      },
    }));
    const put = await alice.request(`/api/backends/local/buckets/${BUCKET}/object?key=reports/q3.txt`, {
      method: 'POST',
      body: CONTENT,
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.status).toBe(201);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('serves one static page under a strict Content-Security-Policy', async () => {
    const res = await http(app.url, '/s/AAAAAAAAAAAAAA');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    // No inline script, no inline handler, no inline style: all of it comes from /s/assets/.
    expect(res.text).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>|\son[a-z]+=|style=/);
    // The page is the same for every code: it reveals nothing about which codes exist.
    const other = await create({});
    expect((await http(app.url, `/s/${other.code}`)).text).toBe(res.text);
    const script = await http(app.url, '/s/assets/share.js');
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    const style = await http(app.url, '/s/assets/share.css');
    expect([style.status, style.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
  });

  it('asks for the password, refuses a wrong one, unlocks and downloads the file', async () => {
    const share = await create({ password: SHARE_PASSWORD, max_downloads: 3 });
    const { page, problems } = await open(`${app.url}/s/${share.code}`);
    await page.locator('#unlock').waitFor({ state: 'visible' });
    expect(await page.locator('#file').isVisible()).toBe(false);

    await page.fill('#password', 'not the password');
    await page.click('#unlock-button');
    await page.locator('#unlock-error').waitFor({ state: 'visible' });
    expect(await page.textContent('#unlock-error')).toContain('Wrong password');

    await page.fill('#password', SHARE_PASSWORD);
    await page.click('#unlock-button');
    await page.locator('#file').waitFor({ state: 'visible' });
    expect(await page.textContent('#file-name')).toBe('q3.txt');
    expect(await page.textContent('#file-meta')).toContain(`${CONTENT.length} B`);
    expect(await page.textContent('#file-limits')).toContain('3 of 3 downloads left');
    // On a capped link the preview waits for a click.
    expect(await page.locator('#preview-button').isVisible()).toBe(true);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('q3.txt');
    expect(readFileSync((await download.path())!, 'utf8')).toBe(CONTENT);

    // Previewing after the download is the same visit: it costs nothing more.
    await page.click('#preview-button');
    await page.locator('#preview pre', { hasText: 'Quarterly' }).waitFor();
    const listed = await alice.request('/api/shares');
    expect(listed.body.shares.find((s: { id: string }) => s.id === share.id).download_count).toBe(1);
    expect(problems).toEqual([]);
  });

  it('previews an open share straight away, without asking for anything', async () => {
    const share = await create({ disposition: 'inline' });
    const { page, problems } = await open(`${app.url}/s/${share.code}`);
    await page.locator('#file').waitFor({ state: 'visible' });
    expect(await page.locator('#unlock').isVisible()).toBe(false);
    await page.locator('#preview pre', { hasText: 'Quarterly' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('says only that a revoked or unknown link is no longer available', async () => {
    const share = await create({});
    await alice.request(`/api/shares/${share.id}`, { method: 'DELETE' });
    for (const code of [share.code, 'AAAAAAAAAAAAAA']) {
      const { page } = await open(`${app.url}/s/${code}`);
      await page.locator('#gone').waitFor({ state: 'visible' });
      expect(await page.textContent('#gone h1')).toBe('This link is no longer available');
    }
  });
});
