// The PostgreSQL connection pool for the pg store: BIGINT columns (times in ms, sequences) come
// back as JS numbers, an optional schema is put on the search_path (tests give each suite its own),
// and `tx()` runs one transaction on one client. Imports pg only.
import pg from 'pg';

/** Times in ms and sequences stay far below 2^53, so BIGINT is read as a number, not a string. */
const INT8_OID = 20;
const typeParser = ((oid: number, format?: 'text' | 'binary') => {
  if (oid === INT8_OID) return (value: string) => Number(value);
  return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
}) as pg.CustomTypesConfig['getTypeParser'];

/** A schema name we put into SQL ourselves, so it must be a plain identifier. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PgConnection {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Tables live in this schema (created if missing); default: the database's search_path. */
  schema?: string;
  /** Pool size per server instance. */
  maxConnections?: number;
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

export function openPool(c: PgConnection): pg.Pool {
  if (c.schema !== undefined && !SCHEMA_NAME.test(c.schema)) throw new Error(`Not a plain schema name: "${c.schema}".`);
  return new pg.Pool({
    connectionString: c.url,
    max: c.maxConnections ?? 10,
    types: { getTypeParser: typeParser },
    ...(c.schema === undefined ? {} : { options: `-c search_path=${c.schema}` }),
  });
}

/** Creates the configured schema if it is missing (before migrations run in it). */
export async function ensureSchema(pool: pg.Pool, schema: string | undefined): Promise<void> {
  if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
}

/** The application_name of the LISTEN connection (in pg_stat_activity), with its schema if any. */
export const listenerName = (c: PgConnection): string => `lathe-listen${c.schema === undefined ? '' : `:${c.schema}`}`;

/** A client for a dedicated connection (LISTEN), with the same settings as the pool's. */
export function openClient(c: PgConnection): pg.Client {
  return new pg.Client({
    connectionString: c.url,
    application_name: listenerName(c),
    types: { getTypeParser: typeParser },
    ...(c.schema === undefined ? {} : { options: `-c search_path=${c.schema}` }),
  });
}

export class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('rollback');
  }
}

/**
 * Runs `work` in one transaction. Throwing `Rollback(value)` rolls back and resolves with value;
 * any other error rolls back and rejects.
 */
export async function tx<T>(pool: pg.Pool, work: (q: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const value = await work(client);
      await client.query('COMMIT');
      return value;
    } catch (err) {
      await client.query('ROLLBACK');
      if (err instanceof Rollback) return err.value as T;
      throw err;
    }
  } finally {
    client.release();
  }
}
