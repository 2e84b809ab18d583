// What the optional sync server and this device agree on: the device's sync settings and state,
// outbox rows (one per job change, gap-free per device), and the server's job summaries and
// events (server/README.md is the contract). Plain TypeScript.
import type { JobRecord, JobState } from './jobs';

/** Stored under the key 'sync' in the `sync` store; read inside every job write. */
export interface SyncState {
  key: 'sync';
  enabled: boolean;
  /** e.g. "https://lathe.example.org" (no trailing slash); '' uses the page's own origin. */
  serverUrl: string;
  token: string;
  /** This browser profile's id towards the server, made once. */
  deviceId: string;
  /** The seq the next outbox row gets: gap-free from 1. */
  nextSeq: number;
  /** The highest seq the server has acknowledged. */
  ackedSeq: number;
  /** The last event id this device processed (the stream resumes after it). */
  lastEventId: number;
}

export interface OutboxRow {
  seq: number;
  jobId: string;
  /** The job's version in this change (see JobRecord.version). */
  version: number;
  snapshot: SyncSnapshot;
  at: number;
}

/** What a job looks like on the server: its record without the bulky history. */
export type SyncSnapshot = Omit<JobRecord, 'history'> & { history: JobRecord['history'] };

/** History points kept in a pushed snapshot (the newest epoch points): the server shows progress and the log, not curves. */
export const SNAPSHOT_HISTORY_POINTS = 50;

export function syncSnapshot(job: JobRecord): SyncSnapshot {
  const epochs = job.history.filter((p) => p.kind === 'epoch');
  return { ...job, history: epochs.slice(-SNAPSHOT_HISTORY_POINTS) };
}

/** A job as `GET /api/jobs` lists it. */
export interface RemoteJobSummary {
  id: string;
  device_id: string;
  version: number;
  state: JobState;
  name: string;
  created_at: number;
  updated_at: number;
  cancel_requested_at: number | null;
  stage: string | null;
  percent: number | null;
  last_log: string | null;
  result: { sha256: string; bytes: number; uploaded_at: number } | null;
}

export type SyncEvent =
  | {
      type: 'job_status_changed';
      id: number;
      /** `reason: 'lease_expired'` when the server's queue took a job back from a runner that stopped renewing. */
      data: { job_id: string; state: JobState; previous_state: JobState | null; device_id: string; version: number; at: number; reason?: string };
    }
  | { type: 'job_progress'; id: number; data: { job_id: string; device_id: string; stage: string | null; percent: number | null; last_log: string | null; at: number } }
  | { type: 'job_cancel_requested'; id: number; data: { job_id: string; device_id: string; at: number } }
  | { type: 'job_pause_requested'; id: number; data: { job_id: string; device_id: string | null; generation: number; at: number } }
  | { type: 'job_deleted'; id: number; data: { job_id: string; at: number } }
  | { type: 'resync'; id: number; data: { reason: string; last_event_id: number } };

/** How sync is doing, in the words the settings show. */
export type SyncStatus =
  | { kind: 'off' }
  | { kind: 'connected'; waiting: number }
  | { kind: 'offline'; waiting: number; reason: string }
  | { kind: 'refused'; reason: string };

/** What this device's runner ("Train jobs from the server") is doing, in the words the page shows. */
export type RunnerStatus =
  | { kind: 'off'; reason: string | null }
  | { kind: 'idle'; detail: string }
  | { kind: 'preparing'; jobId: string; name: string; detail: string }
  | { kind: 'training'; jobId: string; name: string; generation: number }
  | { kind: 'finishing'; jobId: string; name: string; outcome: string }
  | { kind: 'refused'; jobId: string; name: string; reason: string }
  | { kind: 'lost'; jobId: string; name: string };

/** One state change of a job on the server, as the event stream brought it (newest last). */
export interface QueueActivity {
  eventId: number;
  jobId: string;
  state: JobState;
  previousState: JobState | null;
  deviceId: string;
  reason: string | null;
  at: number;
}
