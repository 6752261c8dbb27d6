import type { DataSource } from 'typeorm';

/** The pg pool behind a PostgreSQL data source, as far as a named statement needs it. */
interface PreparedPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `text` as a named (prepared) statement straight on the pool: PostgreSQL parses and plans
 * it once per connection rather than at every call, which matters for the few statements that sit
 * on every write's path (a reservation, an audit row). `name` must be unique to `text`.
 */
export async function preparedQuery<Row>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const pool = (dataSource.driver as unknown as { master: PreparedPool }).master;
  const result = await pool.query({ name, text, values });
  return result.rows as Row[];
}
