import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { TestingModule } from '@nestjs/testing';
import { generateRootKey, Sealer } from '@stowage/crypto';
import { AuditService } from '../../src/audit/audit.service';
import { PasswordHasher } from '../../src/auth/password-hasher.service';
import { FormUploadService } from '../../src/objects/form-upload.service';
import { ObjectsService } from '../../src/objects/objects.service';
import { CreateShareDto } from '../../src/shares/dto/share.dto';
import { Recipient, ShareAccessService } from '../../src/shares/share-access.service';
import { newShareCode } from '../../src/shares/share-code';
import { NewShare, SharesRepository, ShareWithSecret } from '../../src/shares/shares.repository';
import { SharesService } from '../../src/shares/shares.service';
import { bytesOf } from '../harness/streams';
import { MemoryDriver } from './fakes/memory.driver';
import { actorOf, AuditLog, buildServices, identity, rootKeyStub, strictStub, testConfig } from './harness';

/**
 * The `shares` table as the services see it. `claimDownload` keeps the one rule the SQL statement
 * enforces that these tests rely on (never past the cap); the statement itself is covered end to end.
 */
class SharesTable {
  readonly rows = new Map<string, ShareWithSecret>();
  lookups = 0;

  readonly repository = strictStub<SharesRepository>('SharesRepository', {
    insert: async (share: NewShare) => {
      const row = Object.assign(new Object() as ShareWithSecret, {
        ...share,
        id: randomUUID(),
        code: newShareCode(),
        createdAt: new Date(),
        downloadCount: 0,
        revoked: false,
        revokedAt: null,
        lastAccessedAt: null,
        creatorEnabled: true,
      });
      this.rows.set(row.id, row);
      const { passwordHash: _hidden, creatorEnabled: _enabled, ...visible } = row;
      return visible;
    },
    findById: async (id: string) => this.rows.get(id) ?? null,
    findByCodeWithSecret: async (code: string) => {
      this.lookups++;
      return [...this.rows.values()].find((r) => r.code === code) ?? null;
    },
    list: async (createdBy?: string) => [...this.rows.values()].filter((r) => !createdBy || r.createdBy === createdBy),
    withPassword: async (ids: string[]) => new Set(ids.filter((id) => this.rows.get(id)?.passwordHash)),
    revoke: async (id: string) => {
      const row = this.rows.get(id)!;
      if (row.revoked) return false;
      row.revoked = true;
      return true;
    },
    claimDownload: async (id: string) => {
      const row = this.rows.get(id)!;
      if (row.maxDownloads !== null && row.downloadCount >= row.maxDownloads) return false;
      row.downloadCount++;
      return true;
    },
  });

  only(): ShareWithSecret {
    expect(this.rows.size).toBe(1);
    return [...this.rows.values()][0];
  }
}

/** Just enough of Redis for counted recipient sessions: SET (NX, PX), GET, DEL. */
function redisClient() {
  const values = new Map<string, string>();
  return {
    values,
    client: {
      get: async (key: string) => values.get(key) ?? null,
      set: async (key: string, value: string, ...options: unknown[]) => {
        if (options.includes('NX') && values.has(key)) return null;
        values.set(key, value);
        return 'OK';
      },
      del: async (key: string) => Number(values.delete(key)),
    },
  };
}

describe('shares (service tier)', () => {
  let module: TestingModule;
  let driver: MemoryDriver;
  let table: SharesTable;
  let audit: AuditLog;
  let shares: SharesService;
  let access: ShareAccessService;
  const creator = identity();
  const other = identity();
  const admin = identity({ role: 'admin' });
  const recipient: Recipient = { origin: { ip: '203.0.113.9' } };
  const withCookie = (cookie?: string): Recipient => ({ ...recipient, cookie });

  const create = (body: Partial<CreateShareDto> = {}) =>
    shares.create(
      { backend_id: 'mem', bucket: 'files', key: 'report.pdf', ...body } as CreateShareDto,
      actorOf(creator),
    );
  const raw = (code: string, cookie?: string, headOnly = false) =>
    access.raw(code, { inline: false, headOnly }, withCookie(cookie));
  const accessResults = () =>
    audit.rows.filter((r) => r.action === 'share.access').map((r) => (r.detail as { result: string }).result);

  async function setUp(withRootKey: boolean) {
    driver = new MemoryDriver({ id: 'mem' });
    await driver.createBucket('files');
    for (const [key, type] of [
      ['report.pdf', 'application/pdf'],
      ['page.html', 'text/html'],
    ]) {
      await driver.putObject({
        bucket: 'files',
        key,
        body: Readable.from([Buffer.from('%PDF-1.7')]),
        size: 8,
        contentType: type,
      });
    }
    table = new SharesTable();
    audit = new AuditLog();
    const config = testConfig((c) => {
      c.server.public_url = 'https://files.example.com/';
      c.ratelimit.share_unlock_per_ip = 0;
    });
    module = await buildServices({
      drivers: [driver],
      config,
      rootKey: rootKeyStub(withRootKey ? new Sealer(generateRootKey()) : undefined),
      redis: { client: redisClient().client },
      providers: [
        SharesService,
        ShareAccessService,
        ObjectsService,
        PasswordHasher,
        { provide: SharesRepository, useValue: table.repository },
        { provide: AuditService, useValue: audit.service },
        { provide: FormUploadService, useValue: strictStub<FormUploadService>('FormUploadService') },
      ],
    });
    shares = module.get(SharesService);
    access = module.get(ShareAccessService);
  }

  afterEach(() => module?.close());

  describe('creating and revoking', () => {
    beforeEach(() => setUp(true));

    it('creates a link to an existing object, with its public URL, and records share.create', async () => {
      const share = await create({ max_downloads: 3 });
      expect(share).toMatchObject({ key: 'report.pdf', has_password: false, max_downloads: 3, download_count: 0 });
      expect(share.url).toBe(`https://files.example.com/s/${share.code}`);
      expect(audit.actions()).toEqual(['share.create']);
    });

    it('refuses a link to a missing object (not_found) and stores nothing', async () => {
      await expect(create({ key: 'missing.pdf' })).rejects.toMatchObject({ code: 'not_found' });
      await expect(create({ key: '../report.pdf' })).rejects.toMatchObject({ code: 'invalid_key' });
      expect(table.rows.size).toBe(0);
    });

    it.each([
      ['in the past', { expires_at: new Date(Date.now() - 1000).toISOString() }],
      ['not a date', { expires_at: 'tomorrow' }],
      ['given twice', { expires_at: new Date(Date.now() + 60_000).toISOString(), expires_in: '1d' as const }],
    ])('refuses an expiry %s (bad_request) and stores nothing', async (_why, body) => {
      await expect(create(body)).rejects.toMatchObject({ code: 'bad_request' });
      expect(table.rows.size).toBe(0);
    });

    it('stores a password only as an argon2id hash', async () => {
      const share = await create({ password: 'open sesame' });
      expect(share.has_password).toBe(true);
      expect(table.only().passwordHash).toMatch(/^\$argon2id\$/);
      expect(JSON.stringify(share)).not.toContain('open sesame');
    });

    it('lets only the creator or an admin revoke; anyone else is told it does not exist', async () => {
      const share = await create();
      await expect(shares.revoke(share.id, actorOf(other))).rejects.toMatchObject({ code: 'not_found' });
      expect(table.only().revoked).toBe(false);
      await shares.revoke(share.id, actorOf(admin));
      await shares.revoke(share.id, actorOf(creator));
      expect(table.only().revoked).toBe(true);
      expect(audit.actions()).toEqual(['share.create', 'share.revoke']);
    });

    it('lists every share for admins only (forbidden otherwise)', async () => {
      await create();
      await expect(shares.list(other, 'all')).rejects.toMatchObject({ code: 'forbidden' });
      expect(await shares.list(other)).toEqual([]);
      expect(await shares.list(admin, 'all')).toHaveLength(1);
    });
  });

  describe('recipient gates', () => {
    beforeEach(() => setUp(true));

    it('answers not_found for an unknown code, and for a malformed one without a lookup', async () => {
      await expect(access.info(newShareCode(), recipient)).rejects.toMatchObject({ code: 'not_found' });
      const lookups = table.lookups;
      await expect(access.info('../../etc/passwd', recipient)).rejects.toMatchObject({ code: 'not_found' });
      await expect(access.info('a'.repeat(10_000), recipient)).rejects.toMatchObject({ code: 'not_found' });
      expect(table.lookups).toBe(lookups);
      expect(accessResults()).toEqual(['not_found', 'not_found', 'not_found']);
    });

    it('refuses a revoked link (revoked) and counts nothing', async () => {
      const { code } = await create({ max_downloads: 5 });
      table.only().revoked = true;
      await expect(raw(code)).rejects.toMatchObject({ code: 'revoked' });
      expect(table.only().downloadCount).toBe(0);
    });

    it('suspends the links of a disabled creator (revoked) until the account is enabled again', async () => {
      const { code } = await create();
      table.only().creatorEnabled = false;
      await expect(access.info(code, recipient)).rejects.toMatchObject({ code: 'revoked' });
      await expect(raw(code)).rejects.toMatchObject({ code: 'revoked' });
      table.only().creatorEnabled = true;
      await expect(access.info(code, recipient)).resolves.toBeDefined();
    });

    it('refuses an expired link (expired)', async () => {
      const { code } = await create({ expires_in: '1h' });
      table.only().expiresAt = new Date(Date.now() - 1);
      await expect(raw(code)).rejects.toMatchObject({ code: 'expired' });
      expect(accessResults()).toEqual(['expired']);
    });

    it('serves active content as an attachment even when inline is asked for', async () => {
      const { code } = await create({ key: 'page.html', disposition: 'inline' });
      const result = await access.raw(code, { inline: true }, recipient);
      result.object.body.destroy();
      expect(result.disposition).toBe('attachment');
    });
  });

  describe('download limits', () => {
    it('without a cookie key every request counts, and the cap holds (exhausted)', async () => {
      await setUp(false);
      const { code } = await create({ max_downloads: 2 });
      for (let i = 0; i < 2; i++) expect((await bytesOf((await raw(code)).object.body)).toString()).toBe('%PDF-1.7');
      await expect(raw(code)).rejects.toMatchObject({ code: 'exhausted' });
      expect(table.only().downloadCount).toBe(2);
      expect(accessResults()).toEqual(['ok', 'ok', 'exhausted']);
    });

    it('a HEAD request never costs a download', async () => {
      await setUp(false);
      const { code } = await create({ max_downloads: 1 });
      (await raw(code, undefined, true)).object.body.destroy();
      expect(table.only().downloadCount).toBe(0);
    });

    it('one recipient session pays for one download, however many requests it makes', async () => {
      await setUp(true);
      const { code } = await create({ max_downloads: 1 });
      const first = await raw(code);
      first.object.body.destroy();
      expect(first.cookie).toBeDefined();
      for (let i = 0; i < 3; i++) (await raw(code, first.cookie!.value)).object.body.destroy();
      expect(table.only().downloadCount).toBe(1);
      await expect(raw(code)).rejects.toMatchObject({ code: 'exhausted' });
      await expect(raw(code, 'forged.cookie')).rejects.toMatchObject({ code: 'exhausted' });
    });
  });

  describe('passwords', () => {
    beforeEach(() => setUp(true));

    it('asks for the password (password_required) and refuses a wrong one (password_mismatch)', async () => {
      const { code } = await create({ password: 'open sesame' });
      await expect(access.info(code, recipient)).rejects.toMatchObject({ code: 'password_required' });
      await expect(raw(code)).rejects.toMatchObject({ code: 'password_required' });
      await expect(access.unlock(code, 'open sesame\u0000', recipient)).rejects.toMatchObject({
        code: 'password_mismatch',
      });
      expect(table.only().downloadCount).toBe(0);
    });

    it('the right password issues a cookie that opens the object', async () => {
      const { code } = await create({ password: 'open sesame', max_downloads: 1 });
      const { cookie } = await access.unlock(code, 'open sesame', recipient);
      expect(cookie).toMatchObject({ name: `stowage_unlock_${code}`, path: `/s/${code}` });
      const result = await raw(code, cookie!.value);
      expect((await bytesOf(result.object.body)).toString()).toBe('%PDF-1.7');
      expect(table.only().downloadCount).toBe(1);
      // Another share's cookie does not open this one.
      const second = await create({ password: 'another' });
      await expect(raw(second.code, cookie!.value)).rejects.toMatchObject({ code: 'password_required' });
    });
  });
});
