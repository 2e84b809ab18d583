// The server's job queue, written once for both stores (queue-ops.ts): submit, claim with a lease
// (FOR UPDATE SKIP LOCKED in PostgreSQL), renew, checkpoint, finish, expiry back to the queue,
// pause and resume. Fencing: every runner write names its lease generation; a runner whose lease
// was lost (expired, taken over) is refused and never writes over its successor. The job's row in
// `jobs` carries its state, so lists, events and cancel treat it like any other job.
// Imports queue-ops.ts, the store's types and shared/jobs.ts.
import type { JobState } from '../../shared/jobs';
import type { StoredEvent, UserId } from './job-store';
import { all, event, lockUser, one, run, webhook, type QueueDriver, type QueueTx, type SqlValue } from './queue-ops';
import type { ClaimResult, ControlResult, Fenced, FinishOutcome, Lease, LeaseRef, QueueInfo, RenewReply, SubmitInput, SubmitResult } from './queue-types';

/** Server-queued jobs show this as their device until a runner claims them. */
export const SERVER_DEVICE = 'server';
/** The job log kept in the snapshot is cut to this many newest lines. */
const MAX_LOG_LINES = 200;

interface JobRow {
  state: JobState;
  version: number;
  name: string | null;
  snapshot: string;
  cancel_requested_at: number | null;
  deleted_at: number | null;
}
interface QueueRow {
  config: string;
  dataset_fp: string;
  lease_device: string | null;
  lease_until: number | null;
  lease_generation: number;
  lease_ms: number | null;
  pause_requested: number;
  checkpoint_step: number | null;
  /** JSON of the submission's breakpoint, or null (schema 4); only the claim reads it. */
  breakpoint?: string | null;
}

const JOB = 'SELECT state, version, name, snapshot, cancel_requested_at, deleted_at FROM jobs WHERE user_id = ? AND id = ?';
const QUEUE = `SELECT config, dataset_fp, lease_device, lease_until, lease_generation, lease_ms, pause_requested, checkpoint_step
  FROM queue_jobs WHERE user_id = ? AND job_id = ?`;

export class RunnerQueue {
  constructor(private readonly db: QueueDriver) {}

  submit(user: UserId, s: SubmitInput, now: number): Promise<SubmitResult> {
    return this.db.run(function* (): QueueTx<SubmitResult> {
      yield* lockUser(user);
      if (!(yield* one('SELECT 1 AS x FROM datasets WHERE user_id = ? AND fingerprint = ?', [user, s.datasetFingerprint])))
        return { ok: false, reason: 'unknown_dataset' };
      if (yield* one('SELECT 1 AS x FROM jobs WHERE user_id = ? AND id = ?', [user, s.jobId])) return { ok: false, reason: 'exists' };
      const snapshot = {
        id: s.jobId,
        name: s.name ?? undefined,
        state: 'queued',
        source: 'server',
        config: s.config,
        dataset: { fingerprint: s.datasetFingerprint },
        breakpoint: s.breakpoint ?? null,
        createdAt: now,
        log: [{ at: now, kind: 'queued', text: 'queued on the server' }],
      };
      yield* run(
        `INSERT INTO jobs (user_id, id, device_id, version, state, name, snapshot, created_at, updated_at, progress)
         VALUES (?, ?, ?, 1, 'queued', ?, ?, ?, ?, NULL)`,
        [user, s.jobId, SERVER_DEVICE, s.name, JSON.stringify(snapshot), now, now],
      );
      yield* run('INSERT INTO queue_jobs (user_id, job_id, config, dataset_fp, queued_at, breakpoint) VALUES (?, ?, ?, ?, ?, ?)', [
        user, s.jobId, JSON.stringify(s.config), s.datasetFingerprint, now, s.breakpoint ? JSON.stringify(s.breakpoint) : null,
      ]);
      const e = yield* event(user, 'job_status_changed', s.jobId, { job_id: s.jobId, state: 'queued', previous_state: null, device_id: SERVER_DEVICE, version: 1 }, now);
      return { ok: true, events: [e] };
    });
  }

  /** Gives the oldest queued job to `deviceId` under a new lease generation, or null when none waits. */
  claim(user: UserId, deviceId: string, leaseMs: number, now: number): Promise<ClaimResult> {
    return this.db.run(function* (): QueueTx<ClaimResult> {
      yield* lockUser(user);
      const events = yield* expire(user, now);
      const [pick] = yield* all<QueueRow & { job_id: string; name: string | null }>(
        `SELECT q.job_id, q.config, q.dataset_fp, q.lease_generation, q.checkpoint_step, q.breakpoint, j.name
         FROM queue_jobs q JOIN jobs j ON j.user_id = q.user_id AND j.id = q.job_id
         WHERE q.user_id = ? AND j.state = 'queued' AND j.deleted_at IS NULL ORDER BY q.queued_at, q.job_id LIMIT 1`,
        [user],
        true,
      );
      if (!pick) return { lease: null, events };
      const generation = pick.lease_generation + 1;
      const leaseUntil = now + leaseMs;
      const fromStep = pick.checkpoint_step ?? 0;
      yield* run('UPDATE queue_jobs SET lease_device = ?, lease_until = ?, lease_generation = ?, lease_ms = ? WHERE user_id = ? AND job_id = ?', [
        deviceId, leaseUntil, generation, leaseMs, user, pick.job_id,
      ]);
      yield* run(
        'INSERT INTO queue_runs (user_id, job_id, generation, device_id, from_step, to_step, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [user, pick.job_id, generation, deviceId, fromStep, fromStep, now],
      );
      const text = `claimed by ${deviceId} (lease ${generation}), from step ${fromStep}`;
      events.push(yield* setState(user, pick.job_id, 'running', deviceId, { kind: 'claimed', text }, now, { generation }));
      const config = JSON.parse(pick.config) as Record<string, unknown>;
      return {
        lease: {
          jobId: pick.job_id, generation, leaseUntil, name: pick.name, config, datasetFingerprint: pick.dataset_fp, checkpointStep: pick.checkpoint_step,
          breakpoint: pick.breakpoint ? (JSON.parse(pick.breakpoint) as Lease['breakpoint']) : null,
        },
        events,
      };
    });
  }

  /** Returns every job whose lease ran out to the queue (all users); run by each instance's timer. */
  async expireAll(now: number): Promise<{ user: UserId; events: StoredEvent[] }[]> {
    const users = await this.db.run(function* () {
      return yield* all<{ user_id: string }>(
        `SELECT DISTINCT q.user_id FROM queue_jobs q JOIN jobs j ON j.user_id = q.user_id AND j.id = q.job_id
         WHERE j.state = 'running' AND q.lease_until <= ?`,
        [now],
      );
    });
    const out = [];
    for (const { user_id: user } of users) {
      const events = await this.db.run(function* () {
        yield* lockUser(user);
        return yield* expire(user, now);
      });
      if (events.length > 0) out.push({ user, events });
    }
    return out;
  }

  /** Extends the lease by `leaseMs`, or by the length asked for at the claim when null. */
  renew(user: UserId, ref: LeaseRef, step: number | null, leaseMs: number | null, now: number): Promise<Fenced<RenewReply>> {
    return this.db.run(function* (): QueueTx<Fenced<RenewReply>> {
      yield* lockUser(user);
      const held = yield* holds(user, ref, now);
      if (!held.ok) return held;
      const leaseUntil = now + (leaseMs ?? held.q.lease_ms ?? 0);
      yield* run('UPDATE queue_jobs SET lease_until = ? WHERE user_id = ? AND job_id = ?', [leaseUntil, user, ref.jobId]);
      if (step !== null) yield* advance(user, ref, step);
      return { ok: true, leaseUntil, cancelRequested: held.job.cancel_requested_at !== null, pauseRequested: held.q.pause_requested === 1, events: [] };
    });
  }

  /** Stores the holder's checkpoint; the lease is left as it is (renewals extend it). */
  checkpoint(user: UserId, ref: LeaseRef, step: number, bytes: Buffer, sha256: string, now: number): Promise<Fenced<{ leaseUntil: number }>> {
    return this.db.run(function* (): QueueTx<Fenced<{ leaseUntil: number }>> {
      yield* lockUser(user);
      const held = yield* holds(user, ref, now);
      if (!held.ok) return held;
      yield* run(
        'UPDATE queue_jobs SET checkpoint = ?, checkpoint_step = ?, checkpoint_sha256 = ?, checkpoint_at = ? WHERE user_id = ? AND job_id = ?',
        [bytes, step, sha256, now, user, ref.jobId],
      );
      yield* advance(user, ref, step);
      return { ok: true, leaseUntil: held.q.lease_until! };
    });
  }

  /** The lease holder ends its turn: the job finished, failed, was cancelled or paused. */
  finish(user: UserId, ref: LeaseRef, outcome: FinishOutcome, step: number, message: string | null, now: number): Promise<Fenced<{ events: StoredEvent[] }>> {
    return this.db.run(function* (): QueueTx<Fenced<{ events: StoredEvent[] }>> {
      yield* lockUser(user);
      const held = yield* holds(user, ref, now);
      if (!held.ok) return held;
      yield* advance(user, ref, step);
      yield* endRun(user, ref.jobId, ref.generation, outcome, now);
      yield* run('UPDATE queue_jobs SET lease_device = NULL, lease_until = NULL, pause_requested = 0 WHERE user_id = ? AND job_id = ?', [user, ref.jobId]);
      const text = `${outcome} at step ${step} on ${ref.deviceId}${message ? `: ${message}` : ''}`;
      const e = yield* setState(user, ref.jobId, outcome, ref.deviceId, { kind: outcome, text }, now);
      if (outcome !== 'paused') {
        const job = (yield* one<JobRow>(JOB, [user, ref.jobId]))!;
        yield* webhook(`job.${outcome}`, { job_id: ref.jobId, user, device_id: ref.deviceId, name: job.name, state: outcome, previous_state: 'running', version: job.version }, now);
      }
      return { ok: true, events: [e] };
    });
  }

  /** Pause: a queued job at once; a running one at its runner's next renewal. */
  pause(user: UserId, jobId: string, now: number): Promise<ControlResult> {
    return this.#control(user, jobId, now, 'pause');
  }

  /** Resume: a paused job goes back to the queue, to be claimed from its newest checkpoint. */
  resume(user: UserId, jobId: string, now: number): Promise<ControlResult> {
    return this.#control(user, jobId, now, 'resume');
  }

  #control(user: UserId, jobId: string, now: number, action: 'pause' | 'resume'): Promise<ControlResult> {
    return this.db.run(function* (): QueueTx<ControlResult> {
      yield* lockUser(user);
      const job = yield* one<JobRow>(JOB, [user, jobId]);
      if (!job || job.deleted_at !== null) return { outcome: 'not_found' };
      if (!(yield* one(QUEUE, [user, jobId]))) return { outcome: 'not_queue_job' };
      if (action === 'pause' && job.state === 'running') {
        const q = (yield* one<QueueRow>(QUEUE, [user, jobId]))!;
        yield* run('UPDATE queue_jobs SET pause_requested = 1 WHERE user_id = ? AND job_id = ?', [user, jobId]);
        // The holder hears of it from this event at once, or from its next renewal at the latest.
        const e = yield* event(user, 'job_pause_requested', jobId, { job_id: jobId, device_id: q.lease_device, generation: q.lease_generation }, now);
        return { outcome: 'requested', state: job.state, events: [e] };
      }
      const [from, to]: [JobState, JobState] = action === 'pause' ? ['queued', 'paused'] : ['paused', 'queued'];
      if (job.state !== from) return { outcome: 'refused', state: job.state };
      const e = yield* setState(user, jobId, to, null, { kind: to, text: `${to} from the server` }, now);
      return { outcome: 'done', state: to, events: [e] };
    });
  }

  putDataset(user: UserId, fingerprint: string, bytes: Buffer, now: number): Promise<boolean> {
    return this.db.run(function* () {
      const changed = yield* run('INSERT INTO datasets (user_id, fingerprint, bytes, size, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
        user, fingerprint, bytes, bytes.length, now,
      ]);
      return changed === 1;
    });
  }

  getDataset(user: UserId, fingerprint: string): Promise<Buffer | null> {
    return this.db.run(function* () {
      return (yield* one<{ bytes: Buffer }>('SELECT bytes FROM datasets WHERE user_id = ? AND fingerprint = ?', [user, fingerprint]))?.bytes ?? null;
    });
  }

  getCheckpoint(user: UserId, jobId: string): Promise<{ bytes: Buffer; step: number; sha256: string } | null> {
    return this.db.run(function* () {
      const r = yield* one<{ checkpoint: Buffer | null; checkpoint_step: number; checkpoint_sha256: string }>(
        'SELECT checkpoint, checkpoint_step, checkpoint_sha256 FROM queue_jobs WHERE user_id = ? AND job_id = ?',
        [user, jobId],
      );
      return r?.checkpoint ? { bytes: r.checkpoint, step: r.checkpoint_step, sha256: r.checkpoint_sha256 } : null;
    });
  }

  info(user: UserId, jobId: string): Promise<QueueInfo | null> {
    return this.db.run(function* (): QueueTx<QueueInfo | null> {
      const q = yield* one<QueueRow & { checkpoint_sha256: string | null; checkpoint_at: number | null }>(
        `SELECT dataset_fp, lease_device, lease_until, lease_generation, pause_requested, checkpoint_step, checkpoint_sha256, checkpoint_at
         FROM queue_jobs WHERE user_id = ? AND job_id = ?`,
        [user, jobId],
      );
      if (!q) return null;
      const runs = yield* all<{ generation: number; device_id: string; from_step: number; to_step: number; started_at: number; ended_at: number | null; end_reason: string | null }>(
        'SELECT generation, device_id, from_step, to_step, started_at, ended_at, end_reason FROM queue_runs WHERE user_id = ? AND job_id = ? ORDER BY generation',
        [user, jobId],
      );
      return {
        datasetFingerprint: q.dataset_fp,
        leaseDevice: q.lease_device,
        leaseUntil: q.lease_until,
        generation: q.lease_generation,
        pauseRequested: q.pause_requested === 1,
        checkpoint: q.checkpoint_step === null ? null : { step: q.checkpoint_step, sha256: q.checkpoint_sha256 ?? '', uploadedAt: q.checkpoint_at ?? 0 },
        runs: runs.map((r) => ({ generation: r.generation, deviceId: r.device_id, fromStep: r.from_step, toStep: r.to_step, startedAt: r.started_at, endedAt: r.ended_at, endReason: r.end_reason })),
      };
    });
  }
}

/** The lease is `ref`'s: same device and generation, still running, not yet expired. */
function* holds(user: UserId, ref: LeaseRef, now: number): QueueTx<Fenced<{ job: JobRow; q: QueueRow }>> {
  const job = yield* one<JobRow>(JOB, [user, ref.jobId]);
  const q = yield* one<QueueRow>(QUEUE, [user, ref.jobId]);
  if (!job || !q || job.deleted_at !== null) return { ok: false, reason: 'not_found' };
  const mine = q.lease_generation === ref.generation && q.lease_device === ref.deviceId && job.state === 'running';
  if (!mine || q.lease_until === null || q.lease_until <= now) return { ok: false, reason: 'lease_lost' };
  return { ok: true, job, q };
}

function* advance(user: UserId, ref: LeaseRef, step: number): QueueTx<void> {
  yield* run('UPDATE queue_runs SET to_step = ? WHERE user_id = ? AND job_id = ? AND generation = ? AND to_step < ?', [
    step, user, ref.jobId, ref.generation, step,
  ]);
}

function* endRun(user: UserId, jobId: string, generation: number, reason: string, now: number): QueueTx<void> {
  yield* run('UPDATE queue_runs SET ended_at = ?, end_reason = ? WHERE user_id = ? AND job_id = ? AND generation = ?', [
    now, reason, user, jobId, generation,
  ]);
}

/** Running jobs of `user` whose lease ran out go back to the queue (the caller holds the user lock). */
function* expire(user: UserId, now: number): QueueTx<StoredEvent[]> {
  const expired = yield* all<{ job_id: string; lease_generation: number; lease_device: string }>(
    `SELECT q.job_id, q.lease_generation, q.lease_device FROM queue_jobs q JOIN jobs j ON j.user_id = q.user_id AND j.id = q.job_id
     WHERE q.user_id = ? AND j.state = 'running' AND q.lease_until <= ?`,
    [user, now],
  );
  const events: StoredEvent[] = [];
  for (const x of expired) {
    yield* endRun(user, x.job_id, x.lease_generation, 'lease_expired', now);
    yield* run('UPDATE queue_jobs SET lease_device = NULL, lease_until = NULL WHERE user_id = ? AND job_id = ?', [user, x.job_id]);
    const text = `lease ${x.lease_generation} of ${x.lease_device} expired: back in the queue`;
    events.push(yield* setState(user, x.job_id, 'queued', null, { kind: 'lease_expired', text }, now, { reason: 'lease_expired' }));
  }
  return events;
}

/** Moves the job's row to `state` (one version up, a log line) and writes job_status_changed. */
function* setState(
  user: UserId,
  jobId: string,
  state: JobState,
  deviceId: string | null,
  log: { kind: string; text: string },
  now: number,
  extra: Record<string, unknown> = {},
): QueueTx<StoredEvent> {
  const job = (yield* one<JobRow & { device_id: string }>(`SELECT device_id, ${JOB.slice('SELECT '.length)}`, [user, jobId]))!;
  const snap = JSON.parse(job.snapshot) as { log?: unknown[]; [k: string]: unknown };
  const logLines = [...(Array.isArray(snap.log) ? snap.log : []), { at: now, ...log }].slice(-MAX_LOG_LINES);
  const device = deviceId ?? job.device_id;
  const version = job.version + 1;
  const terminal = state === 'completed' || state === 'failed' || state === 'cancelled';
  const params: SqlValue[] = [device, version, state, JSON.stringify({ ...snap, state, log: logLines }), now, JSON.stringify({ stage: null, percent: null, lastLog: log.text.slice(0, 80), progress: null }), terminal ? 1 : 0, user, jobId];
  yield* run(
    `UPDATE jobs SET device_id = ?, version = ?, state = ?, snapshot = ?, updated_at = ?, progress = ?,
     cancel_requested_at = CASE WHEN ? = 1 THEN NULL ELSE cancel_requested_at END WHERE user_id = ? AND id = ?`,
    params,
  );
  return yield* event(user, 'job_status_changed', jobId, { job_id: jobId, state, previous_state: job.state, device_id: device, version, ...extra }, now);
}
