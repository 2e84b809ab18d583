// The embedded JobStore: better-sqlite3 12 in WAL mode, migrated on open (sqlite-schema.ts).
// Imports better-sqlite3, the store's own modules and shared/jobs.ts (plain TypeScript).
//
// better-sqlite3 is synchronous; each method runs one transaction to completion inside an async
// function, so callers already await as they will for a networked store.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
import { progressView } from './progress-view';
import { driveSync, type QueueDriver, type QueueOp, type SqlValue } from './queue-ops';
import { RunnerQueue } from './runner-queue';
import { migrate } from './sqlite-schema';
import { SqliteOutbox } from './sqlite-outbox';
import {
  BUSY_TIMEOUT_MS,
  EMPTY_PROGRESS,
  SUMMARY_COLUMNS,
  prepareJobStatements,
  toSummary,
  type JobDbRow,
  type JobStatements,
} from './sqlite-rows';

class SeqGap extends Error {
  constructor(readonly expectedSeq: number) {
    super(`expected seq ${expectedSeq}`);
  }
}

export class SqliteJobStore implements JobStore {
  readonly #db: Database.Database;
  readonly #out: SqliteOutbox;
  readonly #opts: StoreOptions;
  readonly #listCache = new Map<string, Database.Statement>();
  readonly #s: JobStatements;
  readonly #queueStatements = new Map<string, Database.Statement<SqlValue[]>>();
  /** The server's job queue on this database (runner-queue.ts). */
  readonly queue: RunnerQueue;

  /** `path` is a file (its folder is created) or `:memory:`. */
  constructor(path: string, opts: StoreOptions) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // WAL with synchronous=NORMAL survives a crash of the process (a restart loses nothing); only
    // a power loss can drop the newest commits.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrate(this.#db);
    this.#opts = opts;
    this.#out = new SqliteOutbox(this.#db);
    const db = this.#db;
    this.#s = prepareJobStatements(db);
    const driver: QueueDriver = {
      // better-sqlite3 is synchronous: the whole generator runs inside one immediate transaction.
      run: async (tx) => db.transaction(() => driveSync(tx(), (op) => this.#answer(op))).immediate(),
    };
    this.queue = new RunnerQueue(driver);
  }

  #answer(op: QueueOp): unknown {
    const prepared = (sql: string) => {
      let stmt = this.#queueStatements.get(sql);
      if (!stmt) this.#queueStatements.set(sql, (stmt = this.#db.prepare<SqlValue[]>(sql)));
      return stmt;
    };
    switch (op.kind) {
      case 'all':
        return prepared(op.sql).all(...op.params);
      case 'run':
        return prepared(op.sql).run(...op.params).changes;
      case 'lockUser':
        return this.#out.ensureUser(op.user); // the immediate transaction already excludes other writers
      case 'event':
        return this.#out.append(op.user, op.type, op.jobId, op.data, op.now);
      case 'webhook':
        return this.#out.enqueueWebhook(this.#opts.webhookUrls, op.type, op.data, op.now);
    }
  }

  async push(user: UserId, deviceId: string, changes: readonly JobChange[], now: number): Promise<PushResult> {
    const stored = this.#s.device.get(user, deviceId)?.last_seq ?? 0;
    try {
      return this.#db.transaction(() => this.#applyPush(user, deviceId, changes, now)).immediate();
    } catch (err) {
      // The transaction rolled back: nothing of this push was applied.
      if (err instanceof SeqGap) return { ok: false, reason: 'seq_gap', expectedSeq: err.expectedSeq, lastAppliedSeq: stored };
      throw err;
    }
  }

  #applyPush(user: UserId, deviceId: string, changes: readonly JobChange[], now: number): PushResult {
    this.#out.ensureUser(user);
    let last = this.#s.device.get(user, deviceId)?.last_seq ?? 0;
    const result = {
      ok: true as const,
      lastAppliedSeq: last,
      applied: [] as number[],
      duplicates: [] as number[],
      conflicts: [] as PushConflict[],
      events: [] as StoredEvent[],
      throttledJobs: [] as string[],
    };
    for (const change of changes) {
      if (change.seq <= last) {
        result.duplicates.push(change.seq);
        continue;
      }
      if (change.seq !== last + 1) throw new SeqGap(last + 1);
      last = change.seq;
      const conflict = this.#applyChange(user, deviceId, change, now, result);
      if (conflict) result.conflicts.push(conflict);
      else result.applied.push(change.seq);
    }
    this.#s.saveDevice.run(user, deviceId, last, now);
    result.lastAppliedSeq = last;
    return result;
  }

  #applyChange(
    user: UserId,
    deviceId: string,
    change: JobChange,
    now: number,
    out: { events: StoredEvent[]; throttledJobs: string[] },
  ): PushConflict | null {
    const row = this.#s.job.get(user, change.jobId);
    const base = { seq: change.seq, jobId: change.jobId, version: change.version };
    if (row && row.deleted_at !== null) return { ...base, storedVersion: row.version, reason: 'deleted' };
    if (row && change.version < row.version) return { ...base, storedVersion: row.version, reason: 'stale_version' };

    const snap = change.snapshot;
    const state = snap.state;
    const view = progressView(snap);
    const viewJson = JSON.stringify(view);
    const name = typeof snap.name === 'string' ? snap.name : null;
    if (row) {
      this.#s.updateJob.run(deviceId, change.version, state, name, JSON.stringify(snap), now, viewJson, isTerminal(state) ? 1 : 0, user, change.jobId);
    } else {
      this.#s.insertJob.run(user, change.jobId, deviceId, change.version, state, name, JSON.stringify(snap), now, now, viewJson);
    }

    const previous = row?.state ?? null;
    if (previous !== state) {
      out.events.push(
        this.#out.append(user, 'job_status_changed', change.jobId, {
          job_id: change.jobId,
          state,
          previous_state: previous,
          device_id: deviceId,
          version: change.version,
        }, now),
      );
      if (isTerminal(state)) this.#enqueueTerminal(user, change.jobId, deviceId, name, state, previous, change.version, now);
      // A cancel asked for while the job was queued on a device that had already started it.
      if (state === 'running' && row?.cancel_requested_at != null)
        out.events.push(this.#out.append(user, 'job_cancel_requested', change.jobId, { job_id: change.jobId, device_id: deviceId }, now));
    }

    if (state === 'running' && (row === undefined || row.progress !== viewJson)) {
      const since = row?.progress_event_at ?? null;
      if (since === null || now - since >= this.#opts.progressIntervalMs) {
        out.events.push(this.#progressEvent(user, change.jobId, deviceId, view, now));
      } else {
        this.#s.progressHeld.run(user, change.jobId);
        out.throttledJobs.push(change.jobId);
      }
    }
    return null;
  }

  #progressEvent(user: UserId, jobId: string, deviceId: string, view: ProgressView, now: number): StoredEvent {
    this.#s.progressSent.run(now, user, jobId);
    return this.#out.append(user, 'job_progress', jobId, {
      job_id: jobId,
      device_id: deviceId,
      stage: view.stage,
      percent: view.percent,
      last_log: view.lastLog,
      progress: view.progress,
    }, now);
  }

  #enqueueTerminal(
    user: UserId,
    jobId: string,
    deviceId: string,
    name: string | null,
    state: JobState,
    previous: JobState | null,
    version: number,
    now: number,
  ): void {
    this.#out.enqueueWebhook(this.#opts.webhookUrls, `job.${state}`, {
      job_id: jobId,
      user,
      device_id: deviceId,
      name,
      state,
      previous_state: previous,
      version,
    }, now);
  }

  async listJobs(user: UserId, f: JobListFilter): Promise<JobSummary[]> {
    const where = ['user_id = ?', 'deleted_at IS NULL'];
    const args: (string | number)[] = [user];
    const and = (clause: string, ...values: (string | number)[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (f.state !== undefined) and('state = ?', f.state);
    if (f.deviceId !== undefined) and('device_id = ?', f.deviceId);
    if (f.updatedSince !== undefined) and('updated_at >= ?', f.updatedSince);
    if (f.after !== undefined) and('(updated_at, id) > (?, ?)', f.after.updatedAt, f.after.id);
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM jobs WHERE ${where.join(' AND ')} ORDER BY updated_at, id LIMIT ?`;
    let stmt = this.#listCache.get(sql);
    if (!stmt) this.#listCache.set(sql, (stmt = this.#db.prepare(sql)));
    return (stmt.all(...args, f.limit) as JobDbRow[]).map(toSummary);
  }

  async getJob(user: UserId, jobId: string): Promise<JobDetail | null> {
    const row = this.#s.job.get(user, jobId);
    if (!row || row.deleted_at !== null) return null;
    const snapshot = JSON.parse(this.#s.snapshot.get(user, jobId)!.snapshot) as JobSnapshot;
    return { ...toSummary(row), snapshot };
  }

  async getSummary(user: UserId, jobId: string): Promise<JobSummary | null> {
    const row = this.#s.job.get(user, jobId);
    return !row || row.deleted_at !== null ? null : toSummary(row);
  }

  async deleteJob(user: UserId, jobId: string, now: number) {
    return this.#db.transaction(() => {
      const row = this.#s.job.get(user, jobId);
      if (!row || row.deleted_at !== null) return { deleted: false as const };
      this.#s.tombstone.run(now, now, user, jobId);
      const event = this.#out.append(user, 'job_deleted', jobId, { job_id: jobId }, now);
      return { deleted: true as const, events: [event] };
    }).immediate();
  }

  async requestCancel(user: UserId, jobId: string, now: number): Promise<CancelResult> {
    return this.#db.transaction((): CancelResult => {
      const row = this.#s.job.get(user, jobId);
      if (!row || row.deleted_at !== null) return { outcome: 'not_found' };
      if (isTerminal(row.state)) return { outcome: 'finished', state: row.state };
      if (row.state === 'running') {
        this.#s.cancelRequested.run(now, user, jobId);
        const event = this.#out.append(user, 'job_cancel_requested', jobId, { job_id: jobId, device_id: row.device_id }, now);
        return { outcome: 'requested', deviceId: row.device_id, events: [event] };
      }
      // Not training anywhere (queued, paused, interrupted): cancel here, one version ahead of the
      // device's copy, so the device's older snapshot of it is kept out and it adopts this one.
      const snapshot = JSON.parse(this.#s.snapshot.get(user, jobId)!.snapshot) as JobSnapshot;
      const next: JobSnapshot = { ...snapshot, state: 'cancelled', finishedAt: now };
      const version = row.version + 1;
      this.#s.updateJob.run(row.device_id, version, 'cancelled', row.name, JSON.stringify(next), now, row.progress ?? JSON.stringify(EMPTY_PROGRESS), 1, user, jobId);
      const event = this.#out.append(user, 'job_status_changed', jobId, {
        job_id: jobId,
        state: 'cancelled',
        previous_state: row.state,
        device_id: row.device_id,
        version,
      }, now);
      this.#enqueueTerminal(user, jobId, row.device_id, row.name, 'cancelled', row.state, version, now);
      return { outcome: 'cancelled', previousState: row.state, deviceId: row.device_id, version, events: [event] };
    }).immediate();
  }

  async flushProgress(user: UserId, jobId: string, now: number): Promise<StoredEvent | null> {
    return this.#db.transaction(() => {
      const row = this.#s.job.get(user, jobId);
      if (!row || row.deleted_at !== null || row.progress_pending === 0 || row.state !== 'running') return null;
      return this.#progressEvent(user, jobId, row.device_id, JSON.parse(row.progress ?? 'null') as ProgressView, now);
    }).immediate();
  }

  async setResult(user: UserId, jobId: string, meta: ResultMeta): Promise<boolean> {
    return this.#s.setResult.run(meta.sha256, meta.bytes, meta.uploadedAt, user, jobId).changes === 1;
  }

  async eventsAfter(user: UserId, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.#out.eventsAfter(user, afterSeq, limit);
  }

  async eventBounds(user: UserId) {
    return this.#out.bounds(user);
  }

  async pruneEvents(before: number): Promise<number> {
    return this.#out.prune(before);
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
    return this.#out.claim(now, limit, leaseMs);
  }

  async markDelivered(id: number, now: number): Promise<void> {
    this.#out.markDelivered(id, now);
  }

  async markAttemptFailed(id: number, error: string, nextAttemptAt: number | null): Promise<void> {
    this.#out.markAttemptFailed(id, error, nextAttemptAt);
  }

  async deliveryStatus(id: number) {
    return this.#out.status(id);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
