import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { TestApp, TestStack } from '../harness/app';
import { PASSWORD, seedUser } from '../harness/session';
import { bootWithBackend } from '../harness/storage';
import { describeIfWebBuilt, expectNoSeriousAxeViolations, launchChromium, SHOTS } from '../harness/web-browser';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the real app
 * on PostgreSQL, Redis and s3rver. Needs the built app (`npm run build:web`, part of `npm run build`).
 * Screenshots of each main screen go to STOWAGE_SCREENSHOT_DIR (default test-results/web-screenshots),
 * which CI keeps as artifacts.
 */

const BUCKET = 'dash-bucket';
const NEW_PASSWORD = 'a long new passphrase for the web';
// 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const describeIfBuilt = describeIfWebBuilt('web-dashboard');

describeIfBuilt('the web dashboard in a browser', () => {
  jest.setTimeout(120_000);
  let stack: TestStack;
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  const problems: string[] = [];

  const shot = async (name: string) => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  /** axe-core in the page: serious and critical violations of WCAG 2 A/AA. */
  const axe = (p: Page = page) => expectNoSeriousAxeViolations(p);
  const upload = async (selector: 'file-input' | 'folder-input', files: Parameters<Page['setInputFiles']>[1]) => {
    await page.getByTestId(selector).setInputFiles(files);
  };
  const uploadRow = (key: string) => page.locator(`aside li[data-key="${key}"]`);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'stowage-web-e2e-'));
    stack = await TestStack.start();
    ({ app } = await bootWithBackend(stack, {
      config: { server: { secret_key_file: join(dir, 'root.key'), public_url: 'http://127.0.0.1' } },
    }));
    await seedUser(app, { username: 'firstadmin', role: 'admin', mustChangePassword: true });
    await seedUser(app, { username: 'viewer', role: 'readonly' });
    browser = await launchChromium();
    // bypassCSP only so that the test can inject axe-core; the app itself runs under its CSP
    // (checked by the test "runs under its CSP").
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs under its CSP without a violation', async () => {
    const strict = await browser.newContext();
    const p = await strict.newPage();
    const violations: string[] = [];
    p.on('console', (m) => m.type() === 'error' && /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
    await p.goto(`${app.url}/sign-in`);
    await p.getByLabel('Username').waitFor();
    expect(violations).toEqual([]);
    await strict.close();
  });

  it('signs in and rotates the first password', async () => {
    await page.goto(app.url);
    await page.waitForURL('**/sign-in');
    await shot('sign-in');
    await axe();
    await page.getByLabel('Username').fill('firstadmin');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/change-password');
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await shot('change-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL('**/backends');
    await page.getByRole('link', { name: /Open/ }).first().waitFor();
    await shot('backends');
    await axe();
  });

  it('creates a bucket', async () => {
    await page.getByRole('link', { name: /Open/ }).first().click();
    await page.waitForURL('**/b/local');
    await page.getByRole('button', { name: 'New bucket' }).click();
    await page.getByLabel('Bucket name').fill(BUCKET);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('link', { name: BUCKET }).waitFor();
    await shot('buckets');
    await axe();
    await page.getByRole('link', { name: BUCKET }).click();
    await page.waitForURL(`**/b/local/${BUCKET}`);
    await page.getByText('This folder is empty.').waitFor();
  });

  it('uploads a 50 MiB file in parallel parts with progress', async () => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(50 * 1024 * 1024, 7));
    const started = Date.now();
    await upload('file-input', big);
    const row = uploadRow('big.bin');
    // Progress is reported while the parts go up.
    await page.waitForFunction(`(() => {
      const m = /(\\d+)%/.exec(document.querySelector('[data-testid="upload-total"]')?.textContent ?? '');
      return m && Number(m[1]) > 0 && Number(m[1]) < 100;
    })()`);
    await row.and(page.locator('[data-status="done"]')).waitFor({ timeout: 90_000 });
    console.log(`50 MiB upload through the dashboard: ${Date.now() - started} ms`);
    await page.locator('[role="listitem"][data-key="big.bin"]').waitFor();
    await expect(page.locator('[role="listitem"][data-key="big.bin"]').textContent()).resolves.toContain('50 MiB');
  });

  it('uploads a folder with progress', async () => {
    const folder = join(dir, 'photos');
    mkdirSync(join(folder, 'notes'), { recursive: true });
    writeFileSync(join(folder, 'dot.png'), PNG);
    writeFileSync(join(folder, 'notes', 'readme.txt'), 'hello from a folder upload\n');
    await upload('folder-input', folder);
    await uploadRow('photos/dot.png').and(page.locator('[data-status="done"]')).waitFor();
    await uploadRow('photos/notes/readme.txt').and(page.locator('[data-status="done"]')).waitFor();
    await page.locator('[role="listitem"][data-key="photos/"]').waitFor();
    await shot('browser');
    await axe();
  });

  it('asks before overwriting: keep both, then replace', async () => {
    const file = { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('first\n') };
    await upload('file-input', file);
    await uploadRow('hello.txt').and(page.locator('[data-status="done"]')).waitFor();
    await upload('file-input', { ...file, buffer: Buffer.from('second\n') });
    const dialog = page.getByRole('dialog', { name: /already exists/ });
    await dialog.waitFor();
    await shot('conflict-dialog');
    await dialog.getByRole('button', { name: 'Keep both' }).click();
    await uploadRow('hello (1).txt').and(page.locator('[data-status="done"]')).waitFor();
    await upload('file-input', { ...file, buffer: Buffer.from('third\n') });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Replace' }).click();
    await page.locator('aside li[data-key="hello.txt"][data-status="done"]').nth(1).waitFor();
    const res = await page.request.get(`${app.url}/api/backends/local/buckets/${BUCKET}/object?key=hello.txt`);
    expect(await res.text()).toBe('third\n');
    const kept = await page.request.get(`${app.url}/api/backends/local/buckets/${BUCKET}/object?key=${encodeURIComponent('hello (1).txt')}`);
    expect(await kept.text()).toBe('second\n');
  });

  it('previews an image and a text file', async () => {
    await page.getByRole('button', { name: 'Clear finished' }).click();
    await page.locator('[role="listitem"][data-key="photos/"] button').click();
    await page.locator('[role="listitem"][data-key="photos/dot.png"] button').click();
    const img = page.getByTestId('preview-image');
    await img.waitFor();
    await page.waitForFunction(`document.querySelector('[data-testid="preview-image"]')?.naturalWidth === 1`);
    await shot('preview-image');
    await page.locator('[role="listitem"][data-key="photos/notes/"] button').click();
    await page.locator('[role="listitem"][data-key="photos/notes/readme.txt"] button').click();
    await expect(page.getByTestId('preview-text').textContent()).resolves.toContain('hello from a folder upload');
    await shot('preview-text');
    await axe();
  });

  it('shares a file and the link opens in a fresh browser context', async () => {
    await page.getByRole('button', { name: BUCKET }).click();
    await page.getByLabel('Select hello.txt', { exact: true }).click();
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByTestId('share-url').inputValue();
    expect(url).toMatch(/\/s\/[A-Za-z0-9_-]{14}$/);
    await shot('share-dialog');
    await page.getByRole('button', { name: 'Close' }).first().click();
    const fresh = await browser.newContext();
    const recipient = await fresh.newPage();
    await recipient.goto(`${app.url}${new URL(url).pathname}`);
    await recipient.getByText('hello.txt').first().waitFor();
    await fresh.close();
    await page.getByRole('link', { name: 'My shares' }).click();
    await page.getByRole('button', { name: 'Revoke' }).waitFor();
    await shot('shares');
    await axe();
  });

  it('shows the admin screens under their own heading', async () => {
    for (const [link, name] of [
      ['Users', 'admin-users'],
      ['S3 credentials', 'credentials'],
    ] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { level: 1 }).waitFor();
      await shot(name);
      await axe();
    }
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  });

  it('hides mutating controls from a read-only user', async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${app.url}/sign-in`);
    await p.getByLabel('Username').fill('viewer');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL('**/backends');
    await p.goto(`${app.url}/b/local/${BUCKET}`);
    await p.locator('[role="listitem"][data-key="hello.txt"]').waitFor();
    expect(await p.getByRole('button', { name: 'Upload files' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'New folder' }).count()).toBe(0);
    await p.getByLabel('Select hello.txt', { exact: true }).click();
    expect(await p.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Share' }).count()).toBe(0);
    await other.close();
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    const me = await page.request.get(`${app.url}/api/me`);
    expect(me.status()).toBe(401);
    expect(problems).toEqual([]);
  });
});
