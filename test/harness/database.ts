import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

const ADMIN_URL = process.env.STOWAGE_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database of its own for one test file; `drop()` removes it. `icuLocale` (such
 * as `en-US`) makes that ICU collation the database's default instead of the server's.
 */
export async function createTestDatabase(options: { icuLocale?: 'en-US' } = {}): Promise<TestDatabase> {
  const name = `stowage_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const collation = options.icuLocale
    ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${options.icuLocale}'`
    : '';
  await admin((c) => c.query(`CREATE DATABASE "${name}"${collation}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
