// The SQLite job rows: their columns, their mapping to JobSummary, and the prepared statements
// sqlite-store.ts runs inside its transactions. Imports better-sqlite3 types and store types only.
import type { Database } from 'better-sqlite3';
import type { JobState } from '../../shared/jobs';
import type { JobSummary, ProgressView } from './job-store';

/** How long a writer waits for another connection's lock before SQLITE_BUSY, in ms. */
export const BUSY_TIMEOUT_MS = 5000;

export interface JobDbRow {
  id: string;
  device_id: string;
  version: number;
  state: JobState;
  name: string | null;
  created_at: number;
  updated_at: number;
  cancel_requested_at: number | null;
  progress: string | null;
  progress_event_at: number | null;
  progress_pending: number;
  result_sha256: string | null;
  result_bytes: number | null;
  result_at: number | null;
  deleted_at: number | null;
}

export const SUMMARY_COLUMNS = `id, device_id, version, state, name, created_at, updated_at, cancel_requested_at, progress,
  progress_event_at, progress_pending, result_sha256, result_bytes, result_at, deleted_at`;

export const EMPTY_PROGRESS: ProgressView = { stage: null, percent: null, lastLog: null, progress: null };

export function toSummary(row: JobDbRow): JobSummary {
  return {
    id: row.id,
    deviceId: row.device_id,
    version: row.version,
    state: row.state,
    name: row.name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    cancelRequestedAt: row.cancel_requested_at,
    result:
      row.result_sha256 === null ? null : { sha256: row.result_sha256, bytes: row.result_bytes ?? 0, uploadedAt: row.result_at ?? 0 },
    progress: row.progress === null ? EMPTY_PROGRESS : (JSON.parse(row.progress) as ProgressView),
  };
}

/** Every statement the job side of the store uses, prepared once. */
export function prepareJobStatements(db: Database) {
  return {
      device: db.prepare<[string, string], { last_seq: number }>('SELECT last_seq FROM devices WHERE user_id = ? AND device_id = ?'),
      saveDevice: db.prepare<[string, string, number, number]>(
        `INSERT INTO devices (user_id, device_id, last_seq, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, device_id) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
      ),
      job: db.prepare<[string, string], JobDbRow>(`SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE user_id = ? AND id = ?`),
      snapshot: db.prepare<[string, string], { snapshot: string }>('SELECT snapshot FROM jobs WHERE user_id = ? AND id = ?'),
      insertJob: db.prepare<[string, string, string, number, string, string | null, string, number, number, string]>(
        `INSERT INTO jobs (user_id, id, device_id, version, state, name, snapshot, created_at, updated_at, progress)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateJob: db.prepare<[string, number, string, string | null, string, number, string, number, string, string]>(
        `UPDATE jobs SET device_id = ?, version = ?, state = ?, name = ?, snapshot = ?, updated_at = ?, progress = ?,
         cancel_requested_at = CASE WHEN ? THEN NULL ELSE cancel_requested_at END WHERE user_id = ? AND id = ?`,
      ),
      progressSent: db.prepare<[number, string, string]>(
        'UPDATE jobs SET progress_event_at = ?, progress_pending = 0 WHERE user_id = ? AND id = ?',
      ),
      progressHeld: db.prepare<[string, string]>('UPDATE jobs SET progress_pending = 1 WHERE user_id = ? AND id = ?'),
      cancelRequested: db.prepare<[number, string, string]>('UPDATE jobs SET cancel_requested_at = ? WHERE user_id = ? AND id = ?'),
      tombstone: db.prepare<[number, number, string, string]>(
        `UPDATE jobs SET deleted_at = ?, updated_at = ?, snapshot = '{}', progress = NULL, cancel_requested_at = NULL,
         progress_pending = 0, result_sha256 = NULL, result_bytes = NULL, result_at = NULL WHERE user_id = ? AND id = ?`,
      ),
      setResult: db.prepare<[string, number, number, string, string]>(
        'UPDATE jobs SET result_sha256 = ?, result_bytes = ?, result_at = ? WHERE user_id = ? AND id = ? AND deleted_at IS NULL',
      ),
  };
}

export type JobStatements = ReturnType<typeof prepareJobStatements>;
