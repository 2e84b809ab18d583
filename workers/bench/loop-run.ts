// Times the app's real step loop (TrainingSession) with its hooks on as the trainer wires them:
// throttled progress sent to the page, and checkpoints encoded and written to IndexedDB in one
// transaction at the default cadence.
import type { LatheDb } from '../../shared/db';
import { writeCheckpoint } from '../../shared/db';
import type { MetricPoint } from '../../shared/jobs';
import type { BackendName } from '../../shared/protocol';
import { encodeCheckpoint } from '../checkpoint-codec';
import { TrainingSession, type LiveProgress } from '../session';
import { CADENCE } from './cadence';
import type { BackendRunRequest, LoopResult, Window } from './types';
import { runParts } from './run-parts';
import { benchJob, samplesForSteps, syncDevice, type RunSpec, type Workload } from './workload';

export type ProgressListener = (event: unknown) => unknown;

export interface CheckpointTarget {
  db: LatheDb;
  jobId: string;
  /** Shared with the isolated checkpoint bench, so sequence numbers keep increasing. */
  seq: { value: number };
}

export interface LoopRun {
  result: LoopResult;
  /** The trained, paused or finished session; the caller benches checkpoints on it, then disposes it. */
  session: TrainingSession;
}

export function newSession(w: Workload<RunSpec>, now?: () => number): TrainingSession {
  const { source, objective, model, optimizer } = runParts(w);
  return new TrainingSession({
    config: w.config,
    source,
    objective,
    model,
    optimizer,
    historyEverySteps: CADENCE.historyEverySteps,
    checkpointIntervalMs: CADENCE.checkpointIntervalMs,
    now,
  });
}

/** Encodes and writes one checkpoint the way the trainer's persistCheckpoint does; times both parts. */
export async function writeSessionCheckpoint(
  w: Workload<RunSpec>,
  session: TrainingSession,
  target: CheckpointTarget,
  backend: BackendName,
): Promise<{ encodeMs: number; writeMs: number; bytes: number; record: Awaited<ReturnType<typeof encodeCheckpoint>>; pruned: Promise<void> }> {
  const t0 = performance.now();
  const record = await encodeCheckpoint(session, w.config.optimizer, {
    jobId: target.jobId,
    seq: target.seq.value + 1,
    configHash: w.configHash,
    datasetFingerprint: w.dataset.fingerprint,
    createdAt: Date.now(),
  });
  const job = {
    ...benchJob(w, target.jobId, Date.now()),
    progress: { ...session.progress(), backend },
    history: [...session.history],
    checkpointStep: record.cursor.globalStep,
  };
  const t1 = performance.now();
  // What the loop waits for, as in the trainer: the commit; older checkpoints are pruned after it.
  const { pruned } = await writeCheckpoint(target.db, record, job);
  const t2 = performance.now();
  target.seq.value = record.seq;
  session.noteCheckpointWritten();
  return { encodeMs: t1 - t0, writeMs: t2 - t1, bytes: record.byteLength, record, pruned: pruned.catch(() => undefined) };
}

/** A point between two steps: the loop's step count then, and the time. */
interface Mark {
  step: number;
  t: number;
}

export async function runLoop(
  w: Workload<RunSpec>,
  request: BackendRunRequest,
  target: CheckpointTarget,
  listener: ProgressListener | null,
): Promise<LoopRun> {
  const session = newSession(w);
  const ckpt = { count: 0, totalMs: 0, encodeMs: 0, writeMs: 0, deviceWaitMs: 0 };
  let progressEvents = 0;
  let capped = false;
  let phase: 'warmup' | 'steady' = 'warmup';
  let reachedEpoch = false;
  let t0 = 0;
  let steadyStart = 0;
  // The first progress event follows the first step at once; later ones are 100 ms apart.
  let first: Mark | null = null;
  session.setHooks({
    progress: (p: LiveProgress, points: MetricPoint[]) => {
      const now = performance.now();
      progressEvents++;
      first ??= { step: p.step, t: now };
      if (listener) {
        const event = { type: 'progress', progress: { ...p, jobId: target.jobId, state: 'running', backend: request.backend }, points };
        // A Comlink proxy call, as the trainer's emit(): its promise is neither needed nor left floating.
        void Promise.resolve(listener(event)).catch(() => undefined);
      }
      if (session.finished) return;
      if (phase === 'warmup' && (p.epoch >= 1 || now - t0 >= w.spec.maxMs - w.spec.budgetMs)) {
        reachedEpoch = p.epoch >= 1;
        session.requestStop('pause');
      } else if (phase === 'steady' && now - steadyStart >= w.spec.budgetMs) {
        capped = true;
        session.requestStop('pause');
      }
    },
    checkpoint: async () => {
      // Waiting for steps the device has queued is training time, not checkpoint time.
      const start = performance.now();
      await syncDevice(session.model);
      const synced = performance.now();
      const c = await writeSessionCheckpoint(w, session, target, request.backend);
      ckpt.count++;
      ckpt.deviceWaitMs += synced - start;
      ckpt.encodeMs += c.encodeMs;
      ckpt.writeMs += c.writeMs;
      ckpt.totalMs += performance.now() - synced;
    },
  });
  try {
    t0 = performance.now();
    await session.run();
    // run() returns only once its read-backs are done, so the device is idle here: a clean mark.
    const mark: Mark = { step: session.cursor.globalStep, t: performance.now() };
    phase = 'steady';
    steadyStart = mark.t;
    if (!session.finished) await session.run();
    const end: Mark = { step: session.cursor.globalStep, t: performance.now() };
    const firstMark: Mark = first ?? end;
    // A workload that finished during warm-up has no steady window: measure from the first step.
    const from = mark.step < end.step ? mark : firstMark;
    const runMs = end.t - t0;
    const result: LoopResult = {
      firstStepMs: firstMark.t - t0,
      warmupMs: from.t - t0,
      afterFirstEpoch: from === mark && reachedEpoch,
      steady: measuredWindow(from, end, session.source.numTrain, w.config.batchSize),
      progressEvents,
      checkpoints: { ...ckpt, runMs, share: ckpt.totalMs / runMs },
      capped,
    };
    return { result, session };
  } catch (err) {
    session.dispose();
    throw err;
  }
}

export function measuredWindow(from: Mark, to: Mark, numTrain: number, batchSize: number): Window {
  const samples = samplesForSteps(to.step, numTrain, batchSize) - samplesForSteps(from.step, numTrain, batchSize);
  const ms = to.t - from.t;
  return { fromStep: from.step, steps: to.step - from.step, samples, ms, samplesPerSec: ms > 0 ? (samples * 1000) / ms : 0 };
}
