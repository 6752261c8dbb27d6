import { DataSource } from 'typeorm';
import { DbConfig } from '@stowage/config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { revertLastMigrationLocked, runMigrationsLocked } from '../../src/database/migrate';
import { MIGRATIONS } from '../../src/database/migrations';
import { ENTITIES } from '../../src/entities';
import { createTestDatabase, TestDatabase } from '../harness/database';

const PREFIX = 'team.a-';
/** Bytes of each usage row: the namespace's own, and neighbours that must never count. */
const OWN: Record<string, number> = { 'team.a-x': 100, 'team.a-1.b': 20, 'team.a--x': 3, 'team.a-z': 4 };
const NEIGHBOURS: Record<string, number> = {
  'team.a-': 1e12, // the prefix itself (no name of its own)
  'team.a': 1e12,
  'team.ab-x': 1e12,
  'teamxa-y': 1e12, // '.' is no wildcard
  'team-a-x': 1e12,
  'team.a.x': 1e12, // '.' sorts right after '-' in byte order
  'team.b-x': 1e12,
  tea: 1e12,
};
const OWN_BYTES = Object.values(OWN).reduce((a, b) => a + b, 0);

/** Reproducible pseudo-random numbers (a linear congruential generator). */
function numbers(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('namespace usage (a prefix range in byte order, whatever the database collation)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  const usage = async (backend: string, prefix: string): Promise<{ bytes: number; reserved: number }> => {
    const [row] = (await ds.query(`SELECT * FROM stowage_namespace_usage($1, $2)`, [backend, prefix])) as {
      out_bytes: string;
      out_reserved: string;
    }[];
    return { bytes: Number(row.out_bytes), reserved: Number(row.out_reserved) };
  };
  const addUsage = (backend: string, rows: Record<string, number>) =>
    ds.query(
      `INSERT INTO bucket_usage (backend_id, bucket, bytes) SELECT $1, b, n FROM unnest($2::text[], $3::bigint[]) AS t(b, n)`,
      [backend, Object.keys(rows), Object.values(rows)],
    );

  beforeAll(async () => {
    // en-US ignores '.' and '-' at first: ranges of the default collation do not bound a prefix.
    db = await createTestDatabase({ icuLocale: 'en-US' });
    ds = await new DataSource(
      dataSourceOptions(Object.assign(new DbConfig(), { url: db.url, pool_size: 2 }), ENTITIES),
    ).initialize();
    await runMigrationsLocked(ds);
    await addUsage('local', { ...OWN, ...NEIGHBOURS });
    await addUsage('other', { 'team.a-x': 1e12 });
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('runs on a database whose collation would break a plain range (so the cases mean something)', async () => {
    const rows = (await ds.query(
      `SELECT bucket FROM bucket_usage WHERE backend_id = 'local' AND bucket > $1 AND bucket < $1 || '{'`,
      [PREFIX],
    )) as { bucket: string }[];
    expect(rows.map((r) => r.bucket).sort()).not.toEqual(Object.keys(OWN).sort());
  });

  it('sums exactly the buckets of a prefix with dots and hyphens, not its neighbours or other backends', async () => {
    expect(await usage('local', PREFIX)).toEqual({ bytes: OWN_BYTES, reserved: 0 });
    expect(await usage('local', 'team.a')).toEqual({ bytes: OWN_BYTES + 1e12 * 3, reserved: 0 });
    expect(await usage('local', 'team.ab-')).toEqual({ bytes: 1e12, reserved: 0 });
    expect(await usage('nowhere', PREFIX)).toEqual({ bytes: 0, reserved: 0 });
    expect(await usage('local', "team.a-' OR '1'='1")).toEqual({ bytes: 0, reserved: 0 });
  });

  it('agrees with the definition (longer than the prefix, starting with it) for random names', async () => {
    const random = numbers(19);
    const alphabet = 'ab.-0z';
    const word = (length: number) =>
      Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const names = new Map<string, number>();
    while (names.size < 400) names.set(`r${word(1 + Math.floor(random() * 5))}`, 1 + Math.floor(random() * 1000));
    await addUsage('random', Object.fromEntries(names));
    const prefixes = [...new Set([...names.keys()].map((n) => n.slice(0, 1 + Math.floor(random() * n.length))))];
    for (const prefix of prefixes) {
      let expected = 0;
      for (const [name, bytes] of names) if (name.length > prefix.length && name.startsWith(prefix)) expected += bytes;
      expect({ prefix, bytes: (await usage('random', prefix)).bytes }).toEqual({ prefix, bytes: expected });
    }
  });

  it('checks a reservation against the namespace’s own buckets only', async () => {
    await ds.query(`INSERT INTO namespace_quotas (backend_id, bucket_prefix, hard_bytes) VALUES ('local', $1, $2)`, [
      PREFIX,
      OWN_BYTES + 100,
    ]);
    const reserve = async (bucket: string, bytes: number) =>
      (
        (await ds.query(`SELECT * FROM stowage_quota_reserve('local', $1, gen_random_uuid(), $2, 60000)`, [
          bucket,
          bytes,
        ])) as { out_outcome: string; out_used: string; out_reserved: string; out_namespace: string | null }[]
      )[0];
    expect((await reserve('team.a-x', 100)).out_outcome).toBe('reserved');
    const refused = await reserve('team.a-new', 1);
    expect(refused).toMatchObject({ out_outcome: 'refused', out_namespace: PREFIX });
    expect([Number(refused.out_used), Number(refused.out_reserved)]).toEqual([OWN_BYTES, 100]);
    await ds.query(`DELETE FROM namespace_quotas`);
  });

  it('reads one range of the byte-ordered index, also with the prefix as a parameter', async () => {
    const plan = await ds.transaction(async (m) => {
      await m.query(`SET LOCAL enable_seqscan = off`);
      await m.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
      await m.query(`PREPARE usage_plan(text, text) AS SELECT * FROM stowage_namespace_usage($1, $2)`);
      const rows = (await m.query(`EXPLAIN (COSTS OFF) EXECUTE usage_plan('local', '${PREFIX}')`)) as {
        'QUERY PLAN': string;
      }[];
      await m.query(`DEALLOCATE usage_plan`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('bucket_usage_bucket_bytewise');
    expect(plan).toMatch(/Index Cond: .*\(bucket\)::text > \$2.*\(bucket\)::text < \(\$2 \|\| '\{'::text\)/);
  });

  it('migrates down and up again, summing the same either way', async () => {
    const index = async () =>
      (
        (await ds.query(
          `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'bucket_usage_bucket_bytewise'`,
        )) as {
          n: number;
        }[]
      )[0].n;
    expect(MIGRATIONS[MIGRATIONS.length - 1].name).toBe('NamespaceUsageIndex1797500000000');
    await revertLastMigrationLocked(ds);
    expect(await index()).toBe(0);
    expect(await usage('local', PREFIX)).toEqual({ bytes: OWN_BYTES, reserved: 100 });
    expect(await runMigrationsLocked(ds)).toHaveLength(1);
    expect(await index()).toBe(1);
    expect(await usage('local', PREFIX)).toEqual({ bytes: OWN_BYTES, reserved: 100 });
  });
});
