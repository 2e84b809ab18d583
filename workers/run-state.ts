// One run held in worker memory, and its lifecycle: snapshotting the job record, checkpoints
// (serialized first, then written with the record in one transaction), and recording how the run
// ended (paused, breakpoint, completed, cancelled, failed, GPU lost) in the record and its log.
import * as db from '../shared/db';
import { formatBytes, formatDuration } from '../shared/format';
import { withLog } from '../shared/job-log';
import { toJobError, transition, type JobRecord } from '../shared/jobs';
import type { WorkerEvent } from '../shared/protocol';
import { encodeCheckpoint } from './checkpoint-codec';
import type { RunOutcome, TrainingSession } from './session';
import { setTrainerBusy } from './trainer-idle';

export interface Active {
  job: JobRecord;
  session: TrainingSession;
  /** `ended` once the run finished, failed or was cancelled; the record is final then. */
  state: 'running' | 'paused' | 'ended';
  datasetFingerprint: string;
  seq: number;
  /** Wall time the current running segment began; durations add up across segments. */
  segmentStart: number;
  baseDurationMs: number;
  loop: Promise<void> | null;
  storageFull: boolean;
  /** Stages already logged in this running segment: each is logged once, not every epoch. */
  loggedStages: Set<string>;
}

/** What the lifecycle needs from the worker API that owns the run. */
export interface RunContext {
  database: () => Promise<db.LatheDb>;
  now: () => number;
  emit: (event: WorkerEvent) => void;
  /** Writes the record and tells the page. */
  save: (job: JobRecord) => Promise<JobRecord>;
  /** The run ended: the worker no longer holds it. */
  release: (a: Active) => void;
  /** The GPU was lost: the backend must be chosen again. */
  backendLost: () => void;
}

export function isQuotaError(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' || (err instanceof Error && /quota/i.test(err.message));
}

function isGpuLoss(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /device (was )?lost|GPUDevice.*lost|mapAsync/i.test(text);
}

export function elapsed(ctx: RunContext, a: Active): number {
  return a.baseDurationMs + (a.state === 'running' ? ctx.now() - a.segmentStart : 0);
}

export function snapshotJob(ctx: RunContext, a: Active, extra: Partial<JobRecord> = {}): JobRecord {
  const progress = { ...a.session.progress(), backend: a.job.backend };
  return { ...a.job, progress, history: [...a.session.history], durationMs: elapsed(ctx, a), ...extra };
}

/**
 * Serializes first, then writes checkpoint and job record in one transaction. `final` (a pause
 * or the end) also stores the checkpoint's log entry before telling anyone, so a quick Resume
 * can never be overwritten by this write.
 */
export async function persistCheckpoint(ctx: RunContext, a: Active, job: JobRecord, final = false): Promise<JobRecord> {
  if (a.seq > 0 && a.job.checkpointStep === a.session.cursor.globalStep) {
    // Nothing trained since the last checkpoint: a second copy would only push out the fallback.
    a.job = await ctx.save({ ...job, checkpointStep: a.job.checkpointStep });
    return a.job;
  }
  const startedAt = performance.now();
  const checkpoint = await encodeCheckpoint(a.session, a.job.config.optimizer, {
    jobId: a.job.id,
    seq: a.seq + 1,
    configHash: a.job.configHash,
    datasetFingerprint: a.datasetFingerprint,
    createdAt: ctx.now(),
  });
  // Encoding drained the session's pending read-backs, so its history is complete only now.
  const { job: record, pruned } = await db.writeCheckpoint(await ctx.database(), checkpoint, {
    ...job, history: checkpoint.history, checkpointStep: checkpoint.cursor.globalStep,
  });
  // Older checkpoints are pruned in a transaction of their own: the loop's own checkpoints train
  // on meanwhile; a pause or the end waits for it. A failed prune only leaves one extra checkpoint.
  if (final) await pruned.catch(() => undefined);
  else void pruned.catch(() => undefined);
  a.seq = checkpoint.seq;
  a.session.noteCheckpointWritten();
  // Logged once committed, so the log never claims a checkpoint that did not land; the entry is
  // stored with the next write of the record.
  const ms = Math.round(performance.now() - startedAt);
  a.job = withLog(record, 'checkpoint', `Checkpoint at step ${checkpoint.cursor.globalStep} (${formatBytes(checkpoint.byteLength)}, ${ms} ms)`, ctx.now(), {
    data: { step: checkpoint.cursor.globalStep, bytes: checkpoint.byteLength, ms },
  });
  if (final) a.job = await db.putJob(await ctx.database(), a.job);
  ctx.emit({ type: 'job', job: a.job });
  return a.job;
}

export const storageFullNotice =
  'Paused: storage is full, so the latest checkpoint could not be saved. The previous checkpoint is intact. Free some space (or delete old jobs), then resume.';

export async function finishRun(ctx: RunContext, a: Active, outcome: RunOutcome | { error: unknown }): Promise<void> {
  // A breakpoint is consumed when it fires (or when a pause lands on the same step).
  if (a.session.breakpointStep === null) a.job = { ...a.job, breakpoint: null };
  if (outcome === 'paused' || outcome === 'breakpoint') {
    a.baseDurationMs = elapsed(ctx, a);
    a.state = 'paused';
    const step = a.session.cursor.globalStep;
    const notice = a.storageFull
      ? storageFullNotice
      : outcome === 'breakpoint'
        ? `Paused at step ${step} by the breakpoint. Resume continues from here.`
        : null;
    const paused = withLog(
      transition(snapshotJob(ctx, a), 'paused', ctx.now(), { notice }),
      outcome === 'breakpoint' ? 'breakpoint' : 'paused',
      outcome === 'breakpoint' ? `Paused at step ${step} by the breakpoint` : `Paused at step ${step}`,
      ctx.now(),
      { data: { step } },
    );
    if (a.storageFull) a.job = await ctx.save(paused).catch(() => paused);
    else
      await persistCheckpoint(ctx, a, paused, true).catch(async (err: unknown) => {
        a.job = await ctx.save({ ...paused, notice: isQuotaError(err) ? storageFullNotice : `Paused, but the checkpoint failed: ${toJobError(err).message}` });
      });
    return;
  }
  a.baseDurationMs = elapsed(ctx, a);
  a.state = 'ended';
  ctx.release(a);
  try {
    const step = a.session.cursor.globalStep;
    if (outcome === 'completed') {
      const done = withLog(transition(snapshotJob(ctx, a), 'completed', ctx.now()), 'completed', `Completed: ${step} steps in ${formatDuration(a.baseDurationMs)}`, ctx.now(), {
        data: { step, durationMs: a.baseDurationMs },
      });
      await persistCheckpoint(ctx, a, done, true).catch(async (err: unknown) => {
        await ctx.save({ ...done, notice: `The final checkpoint could not be saved: ${toJobError(err).message}` });
      });
    } else if (outcome === 'cancelled') {
      await ctx.save(withLog(transition(snapshotJob(ctx, a), 'cancelled', ctx.now()), 'cancelled', `Cancelled at step ${step}`, ctx.now(), { data: { step } }));
    } else if (isGpuLoss(outcome.error)) {
      ctx.backendLost();
      const message = toJobError(outcome.error).message;
      await ctx.save(withLog(transition(snapshotJob(ctx, a), 'interrupted', ctx.now(), {
        notice: `The GPU was lost (${message}). Resume continues from the last checkpoint (step ${a.job.checkpointStep ?? 0}).`,
      }), 'interrupted', `The GPU was lost at step ${step}: ${message}`, ctx.now()));
    } else {
      const error = toJobError(outcome.error);
      await ctx.save(withLog(transition(snapshotJob(ctx, a), 'failed', ctx.now(), { error }), 'failed', `Failed at step ${step}: ${error.message}`, ctx.now(), {
        stack: error.stack,
      }));
    }
  } finally {
    a.session.dispose();
  }
}

export function runLoop(ctx: RunContext, a: Active): Promise<void> {
  a.state = 'running';
  a.segmentStart = ctx.now();
  setTrainerBusy(true);
  const loop = a.session
    .run()
    .then(
      (outcome) => finishRun(ctx, a, outcome),
      (error: unknown) => finishRun(ctx, a, { error }),
    )
    .catch((err: unknown) => {
      // Persisting the outcome failed; the job record keeps its last good state.
      console.error('Lathe: could not record the end of a run', err);
    })
    .finally(() => setTrainerBusy(false));
  a.loop = loop;
  return loop;
}
