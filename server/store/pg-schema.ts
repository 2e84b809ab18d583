// The PostgreSQL schema and its upgrade ladder, run on every start (the same tables as
// sqlite-schema.ts, with BIGINT times). Imports pg types and pg-pool.ts only.
//
// `lathe_schema.version` holds the version. All steps run in one transaction under an advisory
// lock, so instances starting together migrate once, and a failure leaves the old version intact.
// Never edit a step that has shipped: add the next `if (version < N)`.
import type pg from 'pg';
import { tx } from './pg-pool';

export const PG_SCHEMA_VERSION = 4;
/** pg_advisory_xact_lock key for migrations ("lathe" in ASCII). */
const MIGRATION_LOCK = 0x6c617468;

export async function migratePg(pool: pg.Pool): Promise<number> {
  return tx(pool, async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await q.query('CREATE TABLE IF NOT EXISTS lathe_schema (version INTEGER NOT NULL)');
    const rows = (await q.query<{ version: number }>('SELECT version FROM lathe_schema')).rows;
    if (rows.length === 0) await q.query('INSERT INTO lathe_schema (version) VALUES (0)');
    const from = rows[0]?.version ?? 0;
    if (from > PG_SCHEMA_VERSION)
      throw new Error(`The database has schema version ${from}, newer than this server's ${PG_SCHEMA_VERSION}.`);

    if (from < 1) {
      await q.query(`
        -- A user's event sequence: the row lock on it orders every write of that user's events.
        CREATE TABLE users (
          id TEXT PRIMARY KEY,
          event_seq BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE devices (
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          last_seq BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          PRIMARY KEY (user_id, device_id)
        );
        CREATE TABLE jobs (
          user_id TEXT NOT NULL,
          id TEXT COLLATE "C" NOT NULL,    -- byte order, as SQLite sorts, for the list cursor
          device_id TEXT NOT NULL,
          version BIGINT NOT NULL,
          state TEXT NOT NULL,
          name TEXT,
          snapshot TEXT NOT NULL,          -- JSON as pushed (TEXT keeps it verbatim; JSONB would not)
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          cancel_requested_at BIGINT,
          progress TEXT,
          progress_event_at BIGINT,
          progress_pending INTEGER NOT NULL DEFAULT 0,
          result_sha256 TEXT,
          result_bytes BIGINT,
          result_at BIGINT,
          deleted_at BIGINT,
          PRIMARY KEY (user_id, id)
        );
        CREATE INDEX jobs_by_update ON jobs (user_id, updated_at, id);
        CREATE TABLE events (
          user_id TEXT NOT NULL,
          seq BIGINT NOT NULL,
          type TEXT NOT NULL,
          job_id TEXT NOT NULL,
          data TEXT NOT NULL,
          created_at BIGINT NOT NULL,
          PRIMARY KEY (user_id, seq)
        );
        CREATE INDEX events_by_time ON events (created_at);
      `);
    }
    if (from < 2) {
      await q.query(`
        -- Claimed with FOR UPDATE SKIP LOCKED plus a lease (locked_until), so each delivery is
        -- sent by one instance, and again only after its sender's lease ran out.
        CREATE TABLE webhook_deliveries (
          id BIGSERIAL PRIMARY KEY,
          msg_id TEXT NOT NULL,
          url TEXT NOT NULL,
          body TEXT NOT NULL,
          status TEXT NOT NULL DEFAULT 'pending',
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_at BIGINT NOT NULL,
          locked_until BIGINT,
          last_error TEXT,
          created_at BIGINT NOT NULL,
          delivered_at BIGINT
        );
        CREATE INDEX deliveries_due ON webhook_deliveries (status, next_attempt_at);
      `);
    }
    if (from < 3) {
      await q.query(`
        -- Datasets uploaded once by fingerprint (the SHA-256 of their bytes), for server-queued jobs.
        CREATE TABLE datasets (
          user_id TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          bytes BYTEA NOT NULL,
          size INTEGER NOT NULL,
          created_at BIGINT NOT NULL,
          PRIMARY KEY (user_id, fingerprint)
        );
        -- A job submitted to the server waits here for a runner. The lease (device, until,
        -- generation) says who trains it; every runner write must carry the current generation.
        CREATE TABLE queue_jobs (
          user_id TEXT NOT NULL,
          job_id TEXT NOT NULL,
          config TEXT NOT NULL,
          dataset_fp TEXT NOT NULL,
          queued_at BIGINT NOT NULL,
          lease_device TEXT,
          lease_until BIGINT,
          lease_generation INTEGER NOT NULL DEFAULT 0,
          lease_ms INTEGER,                   -- the length the holder asked for; renewals reuse it
          pause_requested INTEGER NOT NULL DEFAULT 0,
          checkpoint BYTEA,
          checkpoint_step INTEGER,
          checkpoint_sha256 TEXT,
          checkpoint_at BIGINT,
          PRIMARY KEY (user_id, job_id)
        );
        CREATE INDEX queue_waiting ON queue_jobs (user_id, lease_until, queued_at);
        -- Which device trained which steps: one row per lease.
        CREATE TABLE queue_runs (
          user_id TEXT NOT NULL,
          job_id TEXT NOT NULL,
          generation INTEGER NOT NULL,
          device_id TEXT NOT NULL,
          from_step INTEGER NOT NULL,
          to_step INTEGER NOT NULL,
          started_at BIGINT NOT NULL,
          ended_at BIGINT,
          end_reason TEXT,
          PRIMARY KEY (user_id, job_id, generation)
        );
      `);
    }
    if (from < 4) {
      await q.query(`
        -- A submission's breakpoint (JSON {kind, at}): the runner pauses there by itself.
        ALTER TABLE queue_jobs ADD COLUMN breakpoint TEXT;
      `);
    }
    await q.query('UPDATE lathe_schema SET version = $1', [PG_SCHEMA_VERSION]);
    return PG_SCHEMA_VERSION;
  });
}
