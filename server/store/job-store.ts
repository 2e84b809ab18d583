// The storage contract of the sync server: every store (SQLite now, PostgreSQL later) implements
// `JobStore` and passes tests/server/store-contract.test.ts. Types only, plus shared/jobs.ts types.
//
// Every method is async, so a networked store (pg) fits without changing callers. Each method is
// one transaction: what it writes (job rows, device sequence, events, webhook deliveries) commits
// together or not at all. Claims (`claimDeliveries`) take a lease, the shape a
// `SELECT … FOR UPDATE SKIP LOCKED` claim has in PostgreSQL.
import type { JobState } from '../../shared/jobs';
import type { RunnerQueue } from './runner-queue';

/** A user is named by the token configuration (`LATHE_TOKENS`); devices and jobs belong to one. */
export type UserId = string;

/** One change from a device's outbox. `snapshot` is the job as the device holds it (JSON object). */
export interface JobChange {
  seq: number;
  jobId: string;
  version: number;
  snapshot: JobSnapshot;
}

/** What the server reads from a snapshot; the rest is kept verbatim. */
export interface JobSnapshot {
  state: JobState;
  name?: string;
  progress?: { stage?: string; percent?: number; [key: string]: unknown };
  log?: { at: number; kind: string; text: string }[];
  [key: string]: unknown;
}

export type ConflictReason = 'stale_version' | 'deleted';

export interface PushConflict {
  seq: number;
  jobId: string;
  version: number;
  /** The server's version of the job (for `deleted`, the version it had when deleted). */
  storedVersion: number;
  reason: ConflictReason;
}

export type PushResult =
  | {
      ok: true;
      lastAppliedSeq: number;
      applied: number[];
      duplicates: number[];
      conflicts: PushConflict[];
      /** Events written by this push, in sequence order (for live streams). */
      events: StoredEvent[];
      /** Jobs whose progress changed but whose job_progress event was held back by the throttle. */
      throttledJobs: string[];
    }
  | { ok: false; reason: 'seq_gap'; expectedSeq: number; lastAppliedSeq: number };

export interface ResultMeta {
  sha256: string;
  bytes: number;
  uploadedAt: number;
}

/** What the job list and the inline-progress route show, without parsing the whole snapshot. */
export interface ProgressView {
  stage: string | null;
  percent: number | null;
  /** The newest log entry's text, at most LAST_LOG_MAX_CHARS characters. */
  lastLog: string | null;
  /** The snapshot's `progress` object as pushed. */
  progress: Record<string, unknown> | null;
}

export interface JobSummary {
  id: string;
  deviceId: string;
  version: number;
  state: JobState;
  name: string | null;
  createdAt: number;
  updatedAt: number;
  cancelRequestedAt: number | null;
  result: ResultMeta | null;
  progress: ProgressView;
}

export interface JobDetail extends JobSummary {
  snapshot: JobSnapshot;
}

export interface JobListFilter {
  state?: JobState;
  deviceId?: string;
  /** Only jobs updated at or after this time (ms since the epoch). */
  updatedSince?: number;
  limit: number;
  /** Continue after this position (from the previous page's last row). */
  after?: { updatedAt: number; id: string };
}

export type EventType = 'job_status_changed' | 'job_progress' | 'job_cancel_requested' | 'job_pause_requested' | 'job_deleted';

/** One row of a user's persisted event sequence; `seq` is the SSE `id`. */
export interface StoredEvent {
  seq: number;
  type: EventType;
  jobId: string;
  data: Record<string, unknown>;
  createdAt: number;
}

export type CancelResult =
  | { outcome: 'not_found' }
  | { outcome: 'finished'; state: JobState }
  /** queued, paused or interrupted: cancelled on the server at once. */
  | { outcome: 'cancelled'; previousState: JobState; deviceId: string; version: number; events: StoredEvent[] }
  /** running: the device that runs it is asked (job_cancel_requested) and acts within a step. */
  | { outcome: 'requested'; deviceId: string; events: StoredEvent[] };

export interface WebhookDelivery {
  id: number;
  /** The Standard Webhooks `webhook-id`: the same for every attempt, so receivers deduplicate. */
  msgId: string;
  url: string;
  body: string;
  attempts: number;
}

export interface StoreOptions {
  /** Webhook endpoints; a terminal state writes one delivery row per URL in the same transaction. */
  webhookUrls: readonly string[];
  /** job_progress events per job are at most one per this many ms. */
  progressIntervalMs: number;
}

export interface JobStore {
  /** Jobs submitted to the server, claimed by runners under leases (runner-queue.ts). */
  readonly queue: RunnerQueue;
  /** Applies a device's changes in order, all in one transaction (see server/README.md). */
  push(user: UserId, deviceId: string, changes: readonly JobChange[], now: number): Promise<PushResult>;
  listJobs(user: UserId, filter: JobListFilter): Promise<JobSummary[]>;
  getJob(user: UserId, jobId: string): Promise<JobDetail | null>;
  /** The job without its snapshot (cheap: for polling). */
  getSummary(user: UserId, jobId: string): Promise<JobSummary | null>;
  /** Deletes a job (a tombstone keeps later pushes of it out). False when unknown or deleted. */
  deleteJob(user: UserId, jobId: string, now: number): Promise<{ deleted: false } | { deleted: true; events: StoredEvent[] }>;
  requestCancel(user: UserId, jobId: string, now: number): Promise<CancelResult>;
  /** Writes a held-back job_progress event if the job's progress is still unreported. */
  flushProgress(user: UserId, jobId: string, now: number): Promise<StoredEvent | null>;
  /** Records an uploaded result; false when the job is unknown or deleted. */
  setResult(user: UserId, jobId: string, meta: ResultMeta): Promise<boolean>;
  /** Events after `afterSeq`, oldest first. */
  eventsAfter(user: UserId, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** The newest event's seq (0 when none) and the oldest retained one (null when none). */
  eventBounds(user: UserId): Promise<{ last: number; oldest: number | null }>;
  /** Drops events older than `before` (ms), keeping each user's newest one so seq never restarts. */
  pruneEvents(before: number): Promise<number>;
  /** Takes up to `limit` due deliveries and leases them until `now + leaseMs`. */
  claimDeliveries(now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]>;
  markDelivered(id: number, now: number): Promise<void>;
  /** A failed attempt: retry at `nextAttemptAt`, or give up when it is null. */
  markAttemptFailed(id: number, error: string, nextAttemptAt: number | null): Promise<void>;
  deliveryStatus(id: number): Promise<{ status: 'pending' | 'delivered' | 'failed'; attempts: number } | null>;
  close(): Promise<void>;
}
