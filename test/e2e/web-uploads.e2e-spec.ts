import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { TestApp, TestStack } from '../harness/app';
import { freePort } from '../harness/child-app';
import { PASSWORD, seedUser, Session } from '../harness/session';
import { bootWithBackend } from '../harness/storage';
import { describeIfWebBuilt, launchChromium, SHOTS } from '../harness/web-browser';

/**
 * The dashboard's big listings, upload resume, bucket settings and quota screens in a real browser
 * (Debian's Chromium through playwright-core) against the real app on PostgreSQL, Redis and
 * s3rver. Needs the built app (`npm run build:web`). Screenshots go where web-dashboard's do.
 */

const BUCKET = 'web-uploads';
/** The 10,000 keys live in a bucket of their own: s3rver walks the whole bucket for every listing. */
const MANY = 'web-many';
const MiB = 1024 * 1024;

const describeIfBuilt = describeIfWebBuilt('web-uploads');

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describeIfBuilt('the dashboard: big listings, resumed uploads, bucket settings and quotas', () => {
  jest.setTimeout(120_000);
  let stack: TestStack;
  let app: TestApp;
  let admin: Session;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  const problems: string[] = [];
  const base = `/api/backends/local/buckets/${BUCKET}`;

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stowage-web-uploads-'));
    stack = await TestStack.start();
    // The S3 proxy on a fixed free port, so the endpoint the API shows with a credential is the real one.
    const proxyPort = await freePort();
    ({ app, admin } = await bootWithBackend(stack, {
      bucket: BUCKET,
      config: { s3_proxy: { enabled: true, listen: `127.0.0.1:${proxyPort}` } },
      env: { STOWAGE_SECRET_KEY: randomBytes(32).toString('hex') },
    }));
    browser = await launchChromium();
    // bypassCSP only so that the test can evaluate its wait conditions in the page.
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
    // The admin's session, as a sign-in would have set it.
    const { hostname } = new URL(app.url);
    await context.addCookies([
      { name: 'stowage_session', value: admin.token, domain: hostname, path: '/', httpOnly: true, sameSite: 'Lax' },
      { name: 'stowage_csrf', value: admin.csrf, domain: hostname, path: '/', sameSite: 'Lax' },
    ]);
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resumes a 50 MiB multipart upload after a reload from the server\'s part list, sending only the missing parts', async () => {
    const path = join(dir, 'resume.bin');
    const data = Buffer.alloc(50 * MiB);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
    writeFileSync(path, data);
    await page.goto(`${app.url}/b/local/${BUCKET}`);
    await page.getByText('This folder is empty.').or(page.locator('[role="listitem"]').first()).waitFor();

    // Parts 3 to 7 are held in the browser, so the reload comes with parts 1 and 2 stored.
    const held = /\/multipart\/parts\/[3-7]\?/;
    const pending: Route[] = [];
    await page.route(held, (route) => void pending.push(route));
    await page.getByTestId('file-input').setInputFiles(path);
    await page
      .waitForFunction(
        `(() => {
      const saved = JSON.parse(localStorage.getItem('stowage.uploads.v1') || '[]');
      return saved.length === 1 && Object.keys(saved[0].parts).length === 2;
    })()`,
        undefined,
        { timeout: 60_000 },
      )
      .catch(async (err: unknown) => {
        console.log(
          `no two parts: ${await page.locator('aside').textContent()} ${await page.evaluate(`localStorage.getItem('stowage.uploads.v1')`)}`,
        );
        throw err;
      });
    await page.reload();
    // The held requests belonged to the page that is gone: drop them, and hold nothing more.
    await page.unroute(held);
    await Promise.all(pending.map((route) => route.abort().catch(() => undefined)));

    const unfinished = page.locator('[data-unfinished="resume.bin"]');
    await unfinished.waitFor();
    // What this browser holds as stored; the server is sent the rest, and only the rest.
    const stored = (await page.evaluate(
      `Object.keys(JSON.parse(localStorage.getItem('stowage.uploads.v1'))[0].parts)`,
    )) as string[];
    const missing = ['1', '2', '3', '4', '5', '6', '7'].filter((n) => !stored.includes(n));
    expect(stored).toEqual(expect.arrayContaining(['1', '2']));
    expect(missing.length).toBeGreaterThan(0);
    await shot('upload-unfinished');
    // Another file is refused readably.
    const other = join(dir, 'other.bin');
    writeFileSync(other, Buffer.alloc(1024));
    await page.getByTestId('resume-input-resume.bin').setInputFiles(other);
    await unfinished.getByRole('alert').waitFor();
    expect(await unfinished.getByRole('alert').textContent()).toMatch(/another file/);

    const seen: string[] = [];
    page.on('console', (m) => seen.push(`console ${m.type()}: ${m.text()}`));
    page.on('requestfailed', (r) => seen.push(`failed ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
    page.on(
      'response',
      (r) => r.url().includes('/multipart') && seen.push(`${r.status()} ${r.request().method()} ${r.url()}`),
    );
    const parts: string[] = [];
    // The part list is asked of the server after the reload: what it holds is what is not sent again.
    const partLists: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'GET' && /\/multipart\/parts\?/.test(r.url())) partLists.push(r.url());
      const m = /\/multipart\/parts\/(\d+)\?/.exec(r.url());
      if (m && r.method() === 'PUT') parts.push(m[1]!);
    });
    await page.getByTestId('resume-input-resume.bin').setInputFiles(path);
    const row = page.locator('aside li[data-key="resume.bin"]');
    await row
      .and(page.locator('[data-status="done"], [data-status="failed"]'))
      .waitFor({ timeout: 60_000 })
      .catch(async (err: unknown) => {
        console.log(`resume stuck: ${await row.textContent()}\n${seen.join('\n')}`);
        throw err;
      });
    expect([await row.getAttribute('data-status'), await row.textContent()]).toEqual(['done', expect.any(String)]);
    expect(parts.sort()).toEqual(missing);
    expect(partLists).toHaveLength(1);
    const back = await fetch(`${app.url}${base}/object?key=resume.bin`, { headers: { cookie: admin.cookie } });
    const whole = Buffer.from(await back.arrayBuffer());
    expect([whole.length, sha256(whole)]).toEqual([data.length, sha256(data)]);
    expect(await page.evaluate(`localStorage.getItem('stowage.uploads.v1')`)).toBe('[]');
  });

  it('sets a quota in human sizes on the settings screen, meters it, and refuses an upload past it readably', async () => {
    const bucket = 'web-quota';
    expect(
      (await admin.request('/api/backends/local/buckets', { method: 'POST', body: { name: bucket } })).status,
    ).toBe(201);
    const put = await admin.request(`/api/backends/local/buckets/${bucket}/object?key=held.bin`, {
      method: 'POST',
      body: Buffer.alloc(2.5 * MiB),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(201);
    await page.goto(`${app.url}/b/local/${bucket}/settings`);
    const quota = page.getByRole('region', { name: 'Quota' });
    await quota.getByLabel('Hard cap').fill('3Mi');
    await quota.getByLabel('Soft cap').fill('2Mi');
    await quota.getByRole('button', { name: 'Save quota' }).click();
    await quota.getByText('Saved.').waitFor();
    await quota.getByRole('button', { name: 'Count again' }).click();
    await quota.getByTestId('quota-usage').getByText('2.5 MiB in 1 object').waitFor();
    await quota.getByText('Past the soft cap').waitFor();
    await shot('bucket-settings');

    await page.goto(`${app.url}/b/local`);
    const meter = page.getByTestId(`quota-${bucket}`);
    await meter.getByRole('progressbar').waitFor();
    expect(await meter.textContent()).toBe('2.5 MiB of 3.0 MiB');
    expect(await meter.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('83');
    // Past the soft cap, under the hard one: the bar says so by its colour, not only the text.
    expect(await meter.locator('[data-tone]').getAttribute('data-tone')).toBe('warn');
    await shot('buckets-quota');

    // The Quotas screen: every bucket with a quota, from the bucket lists, under the Admin heading.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('heading', { name: 'Admin' }).waitFor();
    const names = await nav.getByRole('link').allTextContents();
    expect(new Set(names).size).toBe(names.length);
    await nav.getByRole('list', { name: 'Admin' }).getByRole('link', { name: 'Quotas', exact: true }).click();
    const row = page.locator(`[data-testid="quotas"] tr[data-bucket="local/${bucket}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('2.5 MiB of 3.0 MiB');
    expect(await row.textContent()).toContain('Past the soft cap');
    expect(await page.locator('[data-testid="quotas"] tbody tr').count()).toBe(1);
    await shot('admin-quotas');

    await page.goto(`${app.url}/b/local/${bucket}`);
    await page
      .getByTestId('file-input')
      .setInputFiles({ name: 'too-big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(MiB) });
    const failed = page.locator('aside li[data-key="too-big.bin"][data-status="failed"]');
    await failed.waitFor();
    const message = await failed.getByRole('alert').textContent();
    console.log(`quota refusal as shown: ${message}`);
    expect(message).toContain('The bucket would exceed its hard quota.');
    const missing = await admin.request(`/api/backends/local/buckets/${bucket}/object/info?key=too-big.bin`);
    expect(missing.status).toBe(404);
  });

  it('shows folder sizes, and says readably when size tracking is off', async () => {
    for (const key of ['sized/a.txt', 'sized/deeper/b.txt']) {
      const res = await admin.request(`${base}/object?key=${encodeURIComponent(key)}`, {
        method: 'POST',
        body: 'x'.repeat(1000),
        headers: { 'content-type': 'text/plain' },
      });
      expect(res.status).toBe(201);
    }
    await page.goto(`${app.url}/b/local/${BUCKET}?prefix=sized%2F`);
    await page.getByRole('button', { name: 'Size of this folder' }).click();
    await page.getByTestId('folder-size').getByText('2.0 KiB in 2 objects').waitFor();
    await shot('folder-size');

    await page.goto(`${app.url}/b/local/${BUCKET}/settings`);
    await page.getByLabel('Count this bucket’s size').click();
    await page.waitForFunction(`!document.querySelector('input[type=checkbox]:checked')`);
    // Versioning, policy and lifecycle: s3rver has none, and each section says so readably.
    await page.getByRole('region', { name: 'Versioning' }).getByRole('alert').waitFor();
    await page.goto(`${app.url}/b/local/${BUCKET}?prefix=sized%2F`);
    await page.getByRole('button', { name: 'Size of this folder' }).click();
    const alert = page.locator('[role="alert"][data-code="size_tracking_disabled"]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Size tracking is disabled for this bucket.');
    expect(problems).toEqual([]);
  });
  it('previews PDF, audio and video files: each element present and loaded, without an error', async () => {
    // A real WebM clip, recorded by the browser itself (no encoder on the test machine needed).
    const maker = await context.newPage();
    await maker.goto(`${app.url}/sign-in`);
    const webm = Buffer.from(
      (await maker.evaluate(`(async () => {
        const canvas = document.createElement('canvas');
        canvas.width = 64;
        canvas.height = 48;
        document.body.append(canvas);
        const ctx = canvas.getContext('2d');
        const recorder = new MediaRecorder(canvas.captureStream(20), { mimeType: 'video/webm;codecs=vp8' });
        const chunks = [];
        recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
        const stopped = new Promise((resolve) => (recorder.onstop = resolve));
        recorder.start(100);
        for (let i = 0; i < 12; i++) {
          ctx.fillStyle = 'hsl(' + i * 30 + ', 80%, 50%)';
          ctx.fillRect(0, 0, 64, 48);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        recorder.stop();
        await stopped;
        const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
        let text = '';
        for (const b of bytes) text += String.fromCharCode(b);
        return btoa(text);
      })()`)) as string,
      'base64',
    );
    await maker.close();
    expect(webm.length).toBeGreaterThan(100);
    // Half a second of a 440 Hz tone as 8 kHz 16-bit mono WAV.
    const samples = 4000;
    const wav = Buffer.alloc(44 + samples * 2);
    wav.write('RIFF', 0);
    wav.writeUInt32LE(36 + samples * 2, 4);
    wav.write('WAVEfmt ', 8);
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20);
    wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(8000, 24);
    wav.writeUInt32LE(16000, 28);
    wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36);
    wav.writeUInt32LE(samples * 2, 40);
    for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), 44 + i * 2);
    const pdf = Buffer.from(
      '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
        '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
    );
    for (const [key, body, type] of [
      ['media/clip.webm', webm, 'video/webm'],
      ['media/tone.wav', wav, 'audio/wav'],
      ['media/doc.pdf', pdf, 'application/pdf'],
    ] as const) {
      const res = await admin.request(`${base}/object?key=${encodeURIComponent(key)}`, {
        method: 'POST',
        body,
        headers: { 'content-type': type },
      });
      expect(res.status).toBe(201);
    }
    const failed: string[] = [];
    const onFailed = (r: { url(): string; failure(): { errorText: string } | null }) =>
      r.url().includes('/object') && failed.push(`${r.url()}: ${r.failure()?.errorText}`);
    page.on('requestfailed', onFailed);
    await page.goto(`${app.url}/b/local/${BUCKET}?prefix=media%2F`);
    const open = async (key: string) => {
      await page.locator(`[role="listitem"][data-key="${key}"] button`).click();
    };

    await open('media/tone.wav');
    await page.getByTestId('preview-audio').waitFor();
    await page.waitForFunction(
      `(() => { const a = document.querySelector('[data-testid="preview-audio"]'); return a && a.readyState >= 1 && !a.error && a.duration > 0.4; })()`,
    );
    await shot('preview-audio');

    await open('media/clip.webm');
    await page.getByTestId('preview-video').waitFor();
    await page.waitForFunction(
      `(() => { const v = document.querySelector('[data-testid="preview-video"]'); return v && v.readyState >= 1 && !v.error && v.videoWidth === 64 && v.videoHeight === 48; })()`,
    );
    await shot('preview-video');

    await open('media/doc.pdf');
    const frame = page.getByTestId('preview-pdf');
    await frame.waitFor();
    const src = (await frame.getAttribute('src'))!;
    expect(src).toMatch(/^blob:/);
    const loaded = await (await frame.elementHandle())!.contentFrame();
    await loaded!.waitForLoadState('load');
    // The frame shows the object's bytes, as a PDF.
    expect(
      await page.evaluate(`fetch(${JSON.stringify(src)}).then(async (r) => [r.headers.get('content-type'), (await r.text()).slice(0, 8)])`),
    ).toEqual(['application/pdf', '%PDF-1.4']);
    await shot('preview-pdf');
    expect(await page.locator('aside [role="alert"]').count()).toBe(0);
    page.off('requestfailed', onFailed);
    expect(failed).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('drives a user-role account through its screens: its buckets and credentials, no admin controls', async () => {
    await seedUser(app, { username: 'member', role: 'user' });
    const own = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
    const p = await own.newPage();
    const errors: string[] = [];
    p.on('pageerror', (err) => errors.push(err.message));
    await p.goto(`${app.url}/sign-in`);
    await p.getByLabel('Username').fill('member');
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.waitForURL('**/backends');
    await p.getByText('Signed in as member (').waitFor();
    const nav = p.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Backends', 'My shares', 'S3 credentials']);
    expect(await nav.getByRole('heading', { name: 'Admin' }).count()).toBe(0);

    // Buckets: listed with their sizes, pins offered; no create, delete or settings.
    await p.goto(`${app.url}/b/local`);
    await p.getByRole('link', { name: BUCKET, exact: true }).waitFor();
    await p.getByRole('button', { name: `Pin ${BUCKET}` }).waitFor();
    expect(await p.getByRole('button', { name: 'New bucket' }).count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    expect(await p.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await p.screenshot({ path: join(SHOTS, 'user-buckets.png'), fullPage: true });

    // The bucket: it may upload and manage objects, but not open the settings.
    await p.goto(`${app.url}/b/local/${BUCKET}`);
    await p.locator('[role="listitem"][data-key="resume.bin"]').waitFor();
    await p.getByRole('button', { name: 'Upload files' }).waitFor();
    await p.getByRole('button', { name: 'New folder' }).waitFor();
    expect(await p.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await p.getByTestId('file-input').setInputFiles({ name: 'member.txt', mimeType: 'text/plain', buffer: Buffer.from('from a user') });
    await p.locator('aside li[data-key="member.txt"][data-status="done"]').waitFor();
    await p.locator('[role="listitem"][data-key="member.txt"]').waitFor();

    // Its own S3 credentials: mint one (the secret shown once), see it listed, disable it.
    await nav.getByRole('link', { name: 'S3 credentials', exact: true }).click();
    await p.getByRole('button', { name: 'New credential' }).click();
    await p.getByLabel('Description').fill('member laptop');
    await p.getByLabel('Buckets (comma-separated)').fill(BUCKET);
    await p.getByRole('button', { name: 'Create' }).click();
    const akid = await p.getByTestId('minted-akid').inputValue();
    expect(await p.getByTestId('minted-secret').inputValue()).not.toBe('');
    await p.getByRole('button', { name: 'Close' }).first().click();
    const row = p.locator('tbody tr', { hasText: akid });
    await row.getByText('member laptop').waitFor();
    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByRole('button', { name: 'Enable' }).waitFor();
    await p.screenshot({ path: join(SHOTS, 'user-credentials.png'), fullPage: true });

    // An admin screen typed into the address bar shows why, and no admin control.
    for (const path of ['/admin/users', '/admin/quotas', '/admin/s3-credentials']) {
      await p.goto(`${app.url}${path}`);
      await p.locator('[role="alert"][data-code="forbidden"]').waitFor();
      expect(await p.getByRole('button', { name: /^New / }).count()).toBe(0);
    }
    expect(errors).toEqual([]);
    await own.close();
  });

  it('mints a credential whose aws CLI snippet works against the proxy as shown', async () => {
    await page.goto(`${app.url}/credentials`);
    await page.getByRole('button', { name: 'New credential' }).click();
    await page.getByLabel('Buckets (comma-separated)').fill(BUCKET);
    await page.getByRole('button', { name: 'Create' }).click();
    const endpoint = await page.getByTestId('minted-endpoint').inputValue();
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await page.getByTestId('minted-bucket-urls').textContent()).toBe(`${endpoint}/${BUCKET}`);
    const snippet = await page.locator('pre[data-snippet="aws CLI"]').textContent();
    expect(snippet).toContain(`--endpoint-url ${endpoint} `);
    await shot('credential-minted');
    const home = mkdtempSync(join(tmpdir(), 'stowage-aws-'));
    const listing = await new Promise<string>((resolve, reject) =>
      execFile(
        'bash',
        ['-c', snippet!],
        {
          // The caller's environment (the CLI may live under pyenv), without any AWS profile of theirs.
          env: {
            ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
            AWS_CONFIG_FILE: join(home, 'config'),
            AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
          },
          timeout: 60_000,
        },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      ),
    );
    rmSync(home, { recursive: true, force: true });
    expect(listing).toContain('resume.bin');
  });

  it('shows the first screenful of a 10,000-key prefix at once, scrollable while the rest loads (prints the times)', async () => {
    const s3 = new S3Client({
      endpoint: stack.s3!.endpoint,
      region: stack.s3!.region,
      forcePathStyle: true,
      credentials: { accessKeyId: stack.s3!.accessKey, secretAccessKey: stack.s3!.secretKey },
    });
    expect((await admin.request('/api/backends/local/buckets', { method: 'POST', body: { name: MANY } })).status).toBe(
      201,
    );
    // One real PUT, then its files in s3rver's store copied under 9,999 more names.
    await s3.send(new PutObjectCommand({ Bucket: MANY, Key: 'many/key-00000.txt', Body: 'x' }));
    const folder = join(stack.s3!.directory!, MANY, 'many');
    const files = readdirSync(folder).filter((f) => f.startsWith('key-00000.txt._S3rver_'));
    for (let i = 1; i < 10_000; i++) {
      const name = `key-${String(i).padStart(5, '0')}.txt`;
      for (const f of files) copyFileSync(join(folder, f), join(folder, f.replace('key-00000.txt', name)));
    }

    s3.destroy();
    // Where the time goes: one page from s3rver (through the backend driver), and through the API route.
    const backend = app.app.get(BackendRegistry).forBucket({ backendId: 'local', bucket: MANY });
    const timed = async (work: () => Promise<unknown>) => {
      const started = performance.now();
      await work();
      return Math.round(performance.now() - started);
    };
    const figures: string[] = [];
    for (const size of [200, 1000]) {
      const upstream = await timed(() =>
        backend.listObjects({ bucket: MANY, prefix: 'many/', delimiter: '/', maxKeys: size }),
      );
      const route = await timed(() =>
        admin.request(`/api/backends/local/buckets/${MANY}/objects?prefix=many%2F&max_keys=${size}`),
      );
      figures.push(`${size}-key page: s3rver ${upstream} ms, API route ${route} ms`);
    }
    s3.destroy();

    // Cold: a full page load of the folder's address (the app boots, then lists), in a fresh page
    // so nothing is cached in memory. Timed in the page from its navigation start, with the
    // requests it made on the way (where the time goes).
    const coldPage = await context.newPage();
    const timeline: string[] = [];
    coldPage.on('requestfinished', (r) => {
      const at = r.timing();
      const path = new URL(r.url()).pathname.replace(/-[\w-]{8}\.(js|css)$/, '.$1');
      timeline.push(`${path}${r.url().includes('/objects?') ? ` (max_keys ${new URL(r.url()).searchParams.get('max_keys')})` : ''}: ${Math.round(at.startTime)}..${Math.round(at.startTime + at.responseEnd)} ms`);
    });
    const cold = Date.now();
    await coldPage.goto(`${app.url}/b/local/${MANY}?prefix=many%2F`);
    await coldPage.locator('[role="listitem"][data-key="many/key-00000.txt"]').waitFor();
    const coldRows = Date.now() - cold;
    const coldStatus = coldPage.getByTestId('list-status');
    const coldInApp = await coldStatus.getAttribute('data-first-ms');
    const coldFromNavigation = Number(await coldStatus.getAttribute('data-first-at'));
    const navigationStart = (await coldPage.evaluate('performance.timeOrigin')) as number;
    timeline.sort((a, b) => Number(/: (\d+)/.exec(a)![1]) - Number(/: (\d+)/.exec(b)![1]));
    // The page's Link preloads started the first listing, the session check and the screen's code
    // with the page, and the app used them: one request each, all sent before the app's own code
    // had finished arriving.
    const startOf = (line: string) => Number(/: (\d+)/.exec(line)![1]);
    const endOf = (line: string) => Number(/\.\.(\d+) ms/.exec(line)![1]);
    const appCode = timeline.find((line) => line.startsWith('/assets/index.js'))!;
    for (const request of ['(max_keys 200)', '/api/me:', '/assets/Browser.js']) {
      const seen = timeline.filter((line) => line.includes(request));
      expect([request, seen.length]).toEqual([request, 1]);
      expect(startOf(seen[0]!)).toBeLessThan(endOf(appCode));
    }
    await coldPage.close();
    // Warm: the app is running and the person opens the folder from the bucket's root.
    await page.goto(`${app.url}/b/local/${MANY}`);
    const folderRow = page.locator('[role="listitem"][data-key="many/"] button');
    await folderRow.waitFor();
    // Timed in the page too: from the click event to the first row in the DOM.
    await page.evaluate(`window.__firstRow = new Promise((resolve) => {
      document.addEventListener('click', () => {
        const t0 = performance.now();
        const found = () => document.querySelector('[data-key="many/key-00000.txt"]');
        new MutationObserver((_, observer) => {
          if (found()) { observer.disconnect(); resolve(Math.round(performance.now() - t0)); }
        }).observe(document.body, { childList: true, subtree: true });
      }, { capture: true, once: true });
    }); undefined`);
    const started = Date.now();
    await folderRow.click();
    await page.locator('[role="listitem"][data-key="many/key-00000.txt"]').waitFor();
    const firstRows = Date.now() - started;
    const clickToRows = (await page.evaluate('window.__firstRow')) as number;
    // Usable at once: the list scrolls through the rows that have arrived (timed in the page, from
    // the scroll to row 150 being in the DOM).
    const scrollMs = (await page.evaluate(`new Promise((resolve) => {
      const list = document.querySelector('[data-testid="object-list"]');
      const t0 = performance.now();
      const done = () => document.querySelector('[data-key="many/key-00150.txt"]');
      new MutationObserver((_, observer) => {
        if (done()) { observer.disconnect(); resolve(Math.round(performance.now() - t0)); }
      }).observe(list, { childList: true, subtree: true });
      list.scrollTop = 150 * 36;
      if (done()) resolve(0);
    })`)) as number;
    await page.locator('[role="listitem"][data-key="many/key-00150.txt"]').waitFor();
    const scrolled = Date.now() - started;
    const status = page.locator('[data-testid="list-status"][data-complete="true"]');
    await status.waitFor({ timeout: 60_000 });
    const complete = Date.now() - started;
    const inApp = await status.getAttribute('data-first-ms');
    const inAppAll = await status.getAttribute('data-ms');
    console.log(
      [
        '10,000-key prefix in the browser:',
        `  opened from the bucket's root: first screenful in the DOM ${clickToRows} ms after the click event (in the page; ${firstRows} ms as the test driver saw it, ${inApp} ms after the listing started)`,
        `  scrolled to row 150 at ${scrolled} ms (the scroll itself: ${scrollMs} ms in the page)`,
        `  cold page load of the folder's address: first screenful rendered ${coldFromNavigation} ms after navigation start (in the page; ${coldInApp} ms after the screen mounted; ${coldRows} ms as the test driver saw it)`,
        `  its requests (from navigation start at ${Math.round(navigationStart)}):`,
        ...timeline.map((line) => `    ${line.replace(/(\d+)\.\.(\d+)/, (_, a: string, b: string) => `${Math.round(Number(a) - navigationStart)}..${Math.round(Number(b) - navigationStart)}`)}`),
        `  all 10,000 counted at ${complete} ms (${inAppAll} ms after mount)`,
        ...figures.map((f) => `  ${f}`),
      ].join('\n'),
    );
    expect(await status.getAttribute('data-count')).toBe('10000');
    // Target: under a second from navigation to the first screenful (a loose bound here, as the
    // test machine is shared; the figure printed above is the one to watch).
    expect(coldFromNavigation).toBeGreaterThan(0);
    expect(coldFromNavigation).toBeLessThan(3000);
    expect(await page.locator('[role="listitem"]').count()).toBeLessThan(100);
    await page.getByTestId('object-list').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator('[role="listitem"][data-key="many/key-09999.txt"]').waitFor();
  });
});
