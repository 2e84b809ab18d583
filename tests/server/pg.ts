// PostgreSQL for the server tests: LATHE_TEST_DATABASE_URL names a database the tests may write
// to (scripts/pg-setup.sh creates one and prints the line). Each user of it gets a fresh schema,
// dropped afterwards, so suites never see each other's rows. Without the variable, or when the
// server does not answer, PostgreSQL tests are skipped with a message; in CI they must run.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PgConnection } from '../../server/store/pg-pool';

const HOW_TO =
  'PostgreSQL tests skipped: run `bash scripts/pg-setup.sh` and export the LATHE_TEST_DATABASE_URL=postgres://… line it prints.';

async function reachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function findTestDatabase(): Promise<string | null> {
  const url = process.env.LATHE_TEST_DATABASE_URL;
  const problem = url ? await reachable(url) : 'LATHE_TEST_DATABASE_URL is not set';
  if (url && problem === null) return url;
  if (process.env.CI) throw new Error(`CI must run the PostgreSQL tests, but ${problem}. .ci/run sets it up (scripts/pg-setup.sh).`);
  console.warn(`${HOW_TO} (${problem})`);
  return null;
}

/** The test database's URL, or null when the PostgreSQL tests are to be skipped. */
export const PG_URL: string | null = await findTestDatabase();

/** A fresh, empty schema on the test database; `drop` removes it and everything in it. */
export function freshSchema(): { conn: PgConnection; drop: () => Promise<void> } {
  if (PG_URL === null) throw new Error(HOW_TO);
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    conn: { url: PG_URL, schema, maxConnections: 8 },
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
