// The PostgreSQL JobStore (`LATHE_DATABASE_URL=postgres://…`): the same contract as the SQLite
// store, on a pg pool, so several server instances can share one database. Migrated on open
// (pg-schema.ts). Imports pg, the store's own modules and shared/jobs.ts.
//
// Concurrency: every write transaction first locks the user's row (pg-outbox.ts `lockUser`), so
// one user's pushes, cancels and deletes run one at a time across all instances, and the event
// sequence they write is gap-free in commit order. Users do not wait on each other.
import type pg from 'pg';
import { isTerminal, type JobState } from '../../shared/jobs';
import type {
  CancelResult,
  JobChange,
  JobDetail,
  JobListFilter,
  JobSnapshot,
  JobStore,
  JobSummary,
  ProgressView,
  PushConflict,
  PushResult,
  ResultMeta,
  StoredEvent,
  StoreOptions,
  UserId,
  WebhookDelivery,
} from './job-store';
import * as out from './pg-outbox';
import { PgEventListener } from './pg-listener';
import { ensureSchema, openPool, Rollback, tx, type PgConnection, type Queryable } from './pg-pool';
import { migratePg } from './pg-schema';
import { progressView } from './progress-view';
import { driveAsync, toPgPlaceholders, type QueueOp } from './queue-ops';
import { RunnerQueue } from './runner-queue';
import { EMPTY_PROGRESS, SUMMARY_COLUMNS, toSummary, type JobDbRow } from './sqlite-rows';

type PushOk = Extract<PushResult, { ok: true }>;

export class PgJobStore implements JobStore {
  /** The server's job queue on this database (runner-queue.ts). */
  readonly queue: RunnerQueue;

  private constructor(
    readonly pool: pg.Pool,
    private readonly conn: PgConnection,
    private readonly opts: StoreOptions,
  ) {
    this.queue = new RunnerQueue({ run: (work) => tx(pool, (q) => driveAsync(work(), (op) => this.#answer(q, op))) });
  }

  async #answer(q: Queryable, op: QueueOp): Promise<unknown> {
    switch (op.kind) {
      case 'all':
        return (await q.query(toPgPlaceholders(op.sql) + (op.skipLocked ? ' FOR UPDATE SKIP LOCKED' : ''), op.params)).rows;
      case 'run':
        return (await q.query(toPgPlaceholders(op.sql), op.params)).rowCount ?? 0;
      case 'lockUser':
        return out.lockUser(q, op.user);
      case 'event':
        return out.appendEvent(q, op.user, op.type, op.jobId, op.data, op.now);
      case 'webhook':
        return out.enqueueWebhook(q, this.opts.webhookUrls, op.type, op.data, op.now);
    }
  }

  /** Connects, creates the schema if asked, and migrates. */
  static async open(conn: PgConnection, opts: StoreOptions): Promise<PgJobStore> {
    const pool = openPool(conn);
    try {
      await ensureSchema(pool, conn.schema);
      await migratePg(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PgJobStore(pool, conn, opts);
  }

  /** Wakes `onEvent` with (user, newest seq) for events committed by any instance. */
  async subscribe(onEvent: (user: UserId, seq: number) => void, onResubscribed: () => void): Promise<{ close(): Promise<void> }> {
    const listener = new PgEventListener(this.conn, onEvent, onResubscribed);
    await listener.start();
    return listener;
  }

  async #job(q: Queryable, user: UserId, jobId: string): Promise<JobDbRow | undefined> {
    return (await q.query<JobDbRow>(`SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE user_id = $1 AND id = $2`, [user, jobId])).rows[0];
  }

  async #snapshot(q: Queryable, user: UserId, jobId: string): Promise<JobSnapshot> {
    const { rows } = await q.query<{ snapshot: string }>('SELECT snapshot FROM jobs WHERE user_id = $1 AND id = $2', [user, jobId]);
    return JSON.parse(rows[0]!.snapshot) as JobSnapshot;
  }

  async push(user: UserId, deviceId: string, changes: readonly JobChange[], now: number): Promise<PushResult> {
    return tx(this.pool, async (q): Promise<PushResult> => {
      await out.lockUser(q, user);
      const dev = await q.query<{ last_seq: number }>('SELECT last_seq FROM devices WHERE user_id = $1 AND device_id = $2', [user, deviceId]);
      const stored = dev.rows[0]?.last_seq ?? 0;
      let last = stored;
      const result: PushOk = { ok: true, lastAppliedSeq: last, applied: [], duplicates: [], conflicts: [], events: [], throttledJobs: [] };
      for (const change of changes) {
        if (change.seq <= last) {
          result.duplicates.push(change.seq);
          continue;
        }
        if (change.seq !== last + 1) throw new Rollback<PushResult>({ ok: false, reason: 'seq_gap', expectedSeq: last + 1, lastAppliedSeq: stored });
        last = change.seq;
        const conflict = await this.#applyChange(q, user, deviceId, change, now, result);
        if (conflict) result.conflicts.push(conflict);
        else result.applied.push(change.seq);
      }
      await q.query(
        `INSERT INTO devices (user_id, device_id, last_seq, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, device_id) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
        [user, deviceId, last, now],
      );
      result.lastAppliedSeq = last;
      return result;
    });
  }

  async #applyChange(q: Queryable, user: UserId, deviceId: string, change: JobChange, now: number, result: PushOk): Promise<PushConflict | null> {
    const row = await this.#job(q, user, change.jobId);
    const base = { seq: change.seq, jobId: change.jobId, version: change.version };
    if (row && row.deleted_at !== null) return { ...base, storedVersion: row.version, reason: 'deleted' };
    if (row && change.version < row.version) return { ...base, storedVersion: row.version, reason: 'stale_version' };

    const snap = change.snapshot;
    const state = snap.state;
    const view = progressView(snap);
    const viewJson = JSON.stringify(view);
    const name = typeof snap.name === 'string' ? snap.name : null;
    if (row) {
      await q.query(
        `UPDATE jobs SET device_id = $1, version = $2, state = $3, name = $4, snapshot = $5, updated_at = $6, progress = $7,
         cancel_requested_at = CASE WHEN $8 THEN NULL ELSE cancel_requested_at END WHERE user_id = $9 AND id = $10`,
        [deviceId, change.version, state, name, JSON.stringify(snap), now, viewJson, isTerminal(state), user, change.jobId],
      );
    } else {
      await q.query(
        `INSERT INTO jobs (user_id, id, device_id, version, state, name, snapshot, created_at, updated_at, progress)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)`,
        [user, change.jobId, deviceId, change.version, state, name, JSON.stringify(snap), now, viewJson],
      );
    }

    const previous = row?.state ?? null;
    if (previous !== state) {
      result.events.push(
        await out.appendEvent(q, user, 'job_status_changed', change.jobId, {
          job_id: change.jobId,
          state,
          previous_state: previous,
          device_id: deviceId,
          version: change.version,
        }, now),
      );
      if (isTerminal(state)) await this.#enqueueTerminal(q, user, change.jobId, deviceId, name, state, previous, change.version, now);
      if (state === 'running' && row?.cancel_requested_at != null)
        result.events.push(await out.appendEvent(q, user, 'job_cancel_requested', change.jobId, { job_id: change.jobId, device_id: deviceId }, now));
    }

    if (state === 'running' && (row === undefined || row.progress !== viewJson)) {
      const since = row?.progress_event_at ?? null;
      if (since === null || now - since >= this.opts.progressIntervalMs) {
        result.events.push(await this.#progressEvent(q, user, change.jobId, deviceId, view, now));
      } else {
        await q.query('UPDATE jobs SET progress_pending = 1 WHERE user_id = $1 AND id = $2', [user, change.jobId]);
        result.throttledJobs.push(change.jobId);
      }
    }
    return null;
  }

  async #progressEvent(q: Queryable, user: UserId, jobId: string, deviceId: string, view: ProgressView, now: number): Promise<StoredEvent> {
    await q.query('UPDATE jobs SET progress_event_at = $1, progress_pending = 0 WHERE user_id = $2 AND id = $3', [now, user, jobId]);
    return out.appendEvent(q, user, 'job_progress', jobId, {
      job_id: jobId,
      device_id: deviceId,
      stage: view.stage,
      percent: view.percent,
      last_log: view.lastLog,
      progress: view.progress,
    }, now);
  }

  async #enqueueTerminal(q: Queryable, user: UserId, jobId: string, deviceId: string, name: string | null, state: JobState, previous: JobState | null, version: number, now: number) {
    await out.enqueueWebhook(q, this.opts.webhookUrls, `job.${state}`, { job_id: jobId, user, device_id: deviceId, name, state, previous_state: previous, version }, now);
  }

  async listJobs(user: UserId, f: JobListFilter): Promise<JobSummary[]> {
    const where = ['user_id = $1', 'deleted_at IS NULL'];
    const args: (string | number)[] = [user];
    const and = (clause: (n: () => string) => string, ...values: (string | number)[]) => {
      where.push(clause(() => `$${args.push(values.shift()!)}`));
    };
    if (f.state !== undefined) and((n) => `state = ${n()}`, f.state);
    if (f.deviceId !== undefined) and((n) => `device_id = ${n()}`, f.deviceId);
    if (f.updatedSince !== undefined) and((n) => `updated_at >= ${n()}`, f.updatedSince);
    if (f.after !== undefined) and((n) => `(updated_at, id) > (${n()}, ${n()})`, f.after.updatedAt, f.after.id);
    args.push(f.limit);
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE ${where.join(' AND ')} ORDER BY updated_at, id LIMIT $${args.length}`;
    return (await this.pool.query<JobDbRow>(sql, args)).rows.map(toSummary);
  }

  async getJob(user: UserId, jobId: string): Promise<JobDetail | null> {
    const row = await this.#job(this.pool, user, jobId);
    if (!row || row.deleted_at !== null) return null;
    return { ...toSummary(row), snapshot: await this.#snapshot(this.pool, user, jobId) };
  }

  async getSummary(user: UserId, jobId: string): Promise<JobSummary | null> {
    const row = await this.#job(this.pool, user, jobId);
    return !row || row.deleted_at !== null ? null : toSummary(row);
  }

  async deleteJob(user: UserId, jobId: string, now: number) {
    return tx(this.pool, async (q) => {
      await out.lockUser(q, user);
      const row = await this.#job(q, user, jobId);
      if (!row || row.deleted_at !== null) return { deleted: false as const };
      await q.query(
        `UPDATE jobs SET deleted_at = $1, updated_at = $1, snapshot = '{}', progress = NULL, cancel_requested_at = NULL,
         progress_pending = 0, result_sha256 = NULL, result_bytes = NULL, result_at = NULL WHERE user_id = $2 AND id = $3`,
        [now, user, jobId],
      );
      const event = await out.appendEvent(q, user, 'job_deleted', jobId, { job_id: jobId }, now);
      return { deleted: true as const, events: [event] };
    });
  }

  async requestCancel(user: UserId, jobId: string, now: number): Promise<CancelResult> {
    return tx(this.pool, async (q): Promise<CancelResult> => {
      await out.lockUser(q, user);
      const row = await this.#job(q, user, jobId);
      if (!row || row.deleted_at !== null) return { outcome: 'not_found' };
      if (isTerminal(row.state)) return { outcome: 'finished', state: row.state };
      if (row.state === 'running') {
        await q.query('UPDATE jobs SET cancel_requested_at = $1 WHERE user_id = $2 AND id = $3', [now, user, jobId]);
        const event = await out.appendEvent(q, user, 'job_cancel_requested', jobId, { job_id: jobId, device_id: row.device_id }, now);
        return { outcome: 'requested', deviceId: row.device_id, events: [event] };
      }
      // Not training anywhere: cancelled here, one version ahead of the device's copy.
      const next: JobSnapshot = { ...(await this.#snapshot(q, user, jobId)), state: 'cancelled', finishedAt: now };
      const version = row.version + 1;
      await q.query(
        `UPDATE jobs SET version = $1, state = 'cancelled', snapshot = $2, updated_at = $3, progress = $4, cancel_requested_at = NULL
         WHERE user_id = $5 AND id = $6`,
        [version, JSON.stringify(next), now, row.progress ?? JSON.stringify(EMPTY_PROGRESS), user, jobId],
      );
      const event = await out.appendEvent(q, user, 'job_status_changed', jobId, {
        job_id: jobId,
        state: 'cancelled',
        previous_state: row.state,
        device_id: row.device_id,
        version,
      }, now);
      await this.#enqueueTerminal(q, user, jobId, row.device_id, row.name, 'cancelled', row.state, version, now);
      return { outcome: 'cancelled', previousState: row.state, deviceId: row.device_id, version, events: [event] };
    });
  }

  async flushProgress(user: UserId, jobId: string, now: number): Promise<StoredEvent | null> {
    return tx(this.pool, async (q) => {
      await out.lockUser(q, user);
      const row = await this.#job(q, user, jobId);
      if (!row || row.deleted_at !== null || row.progress_pending === 0 || row.state !== 'running') return null;
      return this.#progressEvent(q, user, jobId, row.device_id, JSON.parse(row.progress ?? 'null') as ProgressView, now);
    });
  }

  async setResult(user: UserId, jobId: string, meta: ResultMeta): Promise<boolean> {
    const r = await this.pool.query(
      'UPDATE jobs SET result_sha256 = $1, result_bytes = $2, result_at = $3 WHERE user_id = $4 AND id = $5 AND deleted_at IS NULL',
      [meta.sha256, meta.bytes, meta.uploadedAt, user, jobId],
    );
    return r.rowCount === 1;
  }

  eventsAfter(user: UserId, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return out.eventsAfter(this.pool, user, afterSeq, limit);
  }

  eventBounds(user: UserId) {
    return out.eventBounds(this.pool, user);
  }

  async pruneEvents(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM events WHERE created_at < $1', [before])).rowCount ?? 0;
  }

  claimDeliveries(now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
    return out.claimDeliveries(this.pool, now, limit, leaseMs);
  }

  markDelivered(id: number, now: number): Promise<void> {
    return out.markDelivered(this.pool, id, now);
  }

  markAttemptFailed(id: number, error: string, nextAttemptAt: number | null): Promise<void> {
    return out.markAttemptFailed(this.pool, id, error, nextAttemptAt);
  }

  deliveryStatus(id: number) {
    return out.deliveryStatus(this.pool, id);
  }

  #closed: Promise<void> | null = null;
  close(): Promise<void> {
    return (this.#closed ??= this.pool.end());
  }
}
