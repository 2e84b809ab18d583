// The SQLite schema and its upgrade ladder, run on every start. Imports better-sqlite3's types only.
//
// `PRAGMA user_version` holds the schema version. Each step runs in one transaction with the
// version bump, so a crash mid-migration leaves the previous version intact. Never edit a step
// that has shipped: add the next `if (version < N)`.
import type { Database } from 'better-sqlite3';

export const SCHEMA_VERSION = 4;

export function migrate(db: Database): number {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION)
    throw new Error(`The database has schema version ${from}, newer than this server's ${SCHEMA_VERSION}.`);
  const step = (version: number, sql: string) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  };

  if (from < 1) {
    step(
      1,
      `
      -- A user's persisted event sequence lives here, so SSE ids never repeat after a restart.
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        event_seq INTEGER NOT NULL DEFAULT 0
      );
      -- The last outbox seq applied per device: the gap-free, idempotent push contract.
      CREATE TABLE devices (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        last_seq INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id)
      );
      CREATE TABLE jobs (
        user_id TEXT NOT NULL,
        id TEXT NOT NULL,
        device_id TEXT NOT NULL,          -- the device whose snapshot was applied last (it runs the job)
        version INTEGER NOT NULL,
        state TEXT NOT NULL,
        name TEXT,
        snapshot TEXT NOT NULL,           -- JSON, as pushed
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        cancel_requested_at INTEGER,
        progress TEXT,                    -- JSON ProgressView, kept apart so lists never parse snapshots
        progress_event_at INTEGER,        -- when the newest job_progress event was written
        progress_pending INTEGER NOT NULL DEFAULT 0,
        result_sha256 TEXT,
        result_bytes INTEGER,
        result_at INTEGER,
        deleted_at INTEGER,               -- a tombstone: later pushes of this job are kept out
        PRIMARY KEY (user_id, id)
      );
      CREATE INDEX jobs_by_update ON jobs (user_id, updated_at, id);
      CREATE TABLE events (
        user_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        job_id TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX events_by_time ON events (created_at);
      `,
    );
  }

  if (from < 2) {
    step(
      2,
      `
      -- Webhook deliveries, written in the same transaction as the terminal state they announce,
      -- so a restart loses none. locked_until is a claim lease (SKIP LOCKED's shape in PostgreSQL).
      CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY,
        msg_id TEXT NOT NULL,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',   -- pending | delivered | failed
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        locked_until INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX deliveries_due ON webhook_deliveries (status, next_attempt_at);
      `,
    );
  }

  if (from < 3) {
    step(
      3,
      `
      -- Datasets uploaded once by fingerprint (the SHA-256 of their bytes), for server-queued jobs.
      CREATE TABLE datasets (
        user_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        bytes BLOB NOT NULL,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, fingerprint)
      );
      -- A job submitted to the server waits here for a runner. The lease (device, until,
      -- generation) says who trains it; every runner write must carry the current generation.
      CREATE TABLE queue_jobs (
        user_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        config TEXT NOT NULL,
        dataset_fp TEXT NOT NULL,
        queued_at INTEGER NOT NULL,
        lease_device TEXT,
        lease_until INTEGER,
        lease_generation INTEGER NOT NULL DEFAULT 0,
        lease_ms INTEGER,                   -- the length the holder asked for; renewals reuse it
        pause_requested INTEGER NOT NULL DEFAULT 0,
        checkpoint BLOB,
        checkpoint_step INTEGER,
        checkpoint_sha256 TEXT,
        checkpoint_at INTEGER,
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
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        end_reason TEXT,
        PRIMARY KEY (user_id, job_id, generation)
      );
      `,
    );
  }

  if (from < 4) {
    step(
      4,
      `
      -- A submission's breakpoint (JSON {kind, at}): the runner pauses there by itself.
      ALTER TABLE queue_jobs ADD COLUMN breakpoint TEXT;
      `,
    );
  }

  return db.pragma('user_version', { simple: true }) as number;
}
