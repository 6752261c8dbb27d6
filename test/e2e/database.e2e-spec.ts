import { DataSource } from 'typeorm';
import { DbConfig } from '@stowage/config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { revertLastMigrationLocked, runMigrationsLocked } from '../../src/database/migrate';
import { MIGRATIONS } from '../../src/database/migrations';
import { ENTITIES } from '../../src/entities';
import { TestStack } from '../harness/app';
import { createTestDatabase, TestDatabase } from '../harness/database';
import { http } from '../harness/http';

const TABLES = [
  'audit_events',
  'backends',
  'bucket_pins',
  'bucket_quotas',
  'bucket_size_tracking',
  'bucket_usage',
  'namespace_quotas',
  'password_reset_tokens',
  'quota_reservations',
  's3_anonymous_bindings',
  's3_bucket_cors',
  's3_credential_scopes',
  's3_credentials',
  'schema_migrations',
  'sessions',
  'shares',
  'users',
];

function dataSourceFor(db: TestDatabase): DataSource {
  const config = Object.assign(new DbConfig(), { url: db.url, pool_size: 3 });
  return new DataSource(dataSourceOptions(config, ENTITIES));
}

describe('database migrations', () => {
  let db: TestDatabase;
  let a: DataSource;
  let b: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    [a, b] = await Promise.all([dataSourceFor(db).initialize(), dataSourceFor(db).initialize()]);
  });
  afterAll(async () => {
    await Promise.allSettled([a.destroy(), b.destroy()]);
    await db.drop();
  });

  it('creates the whole schema once when two replicas migrate at the same time', async () => {
    const [first, second] = await Promise.all([runMigrationsLocked(a), runMigrationsLocked(b)]);
    expect(first.length + second.length).toBe(MIGRATIONS.length);
    const rows: { table_name: string }[] = await a.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(rows.map((r) => r.table_name)).toEqual(TABLES);
  });

  it('runs again as a no-op', async () => {
    expect(await runMigrationsLocked(a)).toEqual([]);
  });

  it('matches the entities exactly (nothing left for the schema builder to change)', async () => {
    const pending = await a.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('is reversible', async () => {
    for (let i = 0; i < MIGRATIONS.length; i++) await revertLastMigrationLocked(a);
    const rows: { n: string }[] = await a.query(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(Number(rows[0].n)).toBe(1); // only schema_migrations remains
    expect(await runMigrationsLocked(a)).toHaveLength(MIGRATIONS.length);
  });

  it('enforces the invariants the services rely on', async () => {
    await a.query("INSERT INTO users (username, role) VALUES ('ann', 'admin')");
    await expect(a.query("INSERT INTO users (username, role) VALUES ('ann', 'user')")).rejects.toThrow(
      /users_username_unique/,
    );
    await expect(a.query("INSERT INTO users (username, role) VALUES ('bob', 'root')")).rejects.toThrow(
      /users_role_check/,
    );
    const [{ id }] = await a.query("SELECT id FROM users WHERE username = 'ann'");
    await a.query(
      "INSERT INTO shares (code, backend_id, bucket, object_key, created_by, max_downloads, download_count) VALUES ('c1', 'b', 'k', 'o', $1, 1, 1)",
      [id],
    );
    await expect(a.query("UPDATE shares SET download_count = download_count + 1 WHERE code = 'c1'")).rejects.toThrow(
      /shares_download_cap_check/,
    );
    await a.query(
      "INSERT INTO sessions (id_hash, user_id, identity_source, csrf_hash, expires_at) VALUES ('h', $1, 'local', 'c', now())",
      [id],
    );
    await a.query('DELETE FROM users WHERE id = $1', [id]);
    expect(await a.query('SELECT * FROM sessions')).toEqual([]);
    expect(await a.query('SELECT * FROM shares')).toEqual([]);
  });
});

describe('two app instances starting at once on an empty database', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
  });
  afterAll(() => stack.stop());

  it('both come up and are ready', async () => {
    const [one, two] = await Promise.all([stack.boot(), stack.boot()]);
    expect((await http(one.url, '/readyz')).status).toBe(200);
    expect((await http(two.url, '/readyz')).status).toBe(200);
  });
});
