// The worker's one API object (TrainerApi): submits jobs, starts them from their newest good
// checkpoint, runs one session at a time, and persists checkpoint + job record atomically.
// Built from injected dependencies so unit tests run it in Node on the cpu backend.
import { hashConfig, validateConfig } from '../shared/config';
import { fingerprintDataset, validateDataset, type Dataset } from '../shared/dataset';
import * as db from '../shared/db';
import { emptyProgress, toJobError, transition, type JobRecord } from '../shared/jobs';
import type {
  BackendInfo, BackendName, SubmitRequest, TensorMemory, TrainerApi, WorkerEvent, WorkerEventListener, WorkerSettings,
} from '../shared/protocol';
import { DEFAULT_SETTINGS } from '../shared/settings';
import { loadSession, JobProblem } from './session-loader';
import { encodeCheckpoint } from './checkpoint-codec';
import type { TrainingSession } from './session';
import { createTransferApi } from './export';
import { setTrainerBusy } from './trainer-idle';
import { sizeClass, type ProbeSpec } from './backend-probe';
import { DEFAULT_CONFIG } from '../shared/config';

/** What `backend()` probes for before any job exists: a small MLP like the samples. */
const DEFAULT_PROBE_SPEC: ProbeSpec = { config: DEFAULT_CONFIG, numFeatures: 4, numOutputs: 3 };
import * as tf from '@tensorflow/tfjs';

/** After this many worker crashes on one job, the job fails instead of looping forever. */
export const MAX_CRASHES_PER_JOB = 3;

export interface TrainerDeps {
  openDb: () => Promise<db.LatheDb>;
  /** Picks and initialises the backend for a model like `spec` (see backend.ts `chooseBackend`). */
  selectBackend: (
    forced: BackendName | null,
    spec: ProbeSpec,
    db: db.LatheDb,
    wasmThreads: number | null,
    /** Later: the same choice with the complete probe ranking (backends measured in the background). */
    onComplete?: (info: BackendInfo) => void,
  ) => Promise<BackendInfo>;
  /** Wall clock, ms since the epoch. */
  now?: () => number;
}

interface Active {
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
}

export function isQuotaError(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' || (err instanceof Error && /quota/i.test(err.message));
}

function isGpuLoss(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /device (was )?lost|GPUDevice.*lost|mapAsync/i.test(text);
}

export function createTrainerApi(deps: TrainerDeps): TrainerApi {
  const now = deps.now ?? (() => Date.now());
  let dbPromise: Promise<db.LatheDb> | null = null;
  let settings: WorkerSettings = { backend: null, checkpointIntervalSec: DEFAULT_SETTINGS.checkpointIntervalSec, historyEverySteps: DEFAULT_SETTINGS.historyEverySteps };
  let listener: WorkerEventListener = () => undefined;
  let backendInfo: BackendInfo | null = null;
  /** What `backendInfo` was chosen for: the forced backend and the model size class. */
  let backendKey: string | null = null;
  let active: Active | null = null;

  const database = (): Promise<db.LatheDb> => (dbPromise ??= deps.openDb());

  function emit(event: WorkerEvent): void {
    // The listener is a Comlink proxy: its call is a promise we neither need nor may leave floating.
    void Promise.resolve(listener(event)).catch(() => undefined);
  }

  async function save(job: JobRecord): Promise<JobRecord> {
    await db.putJob(await database(), job);
    emit({ type: 'job', job });
    return job;
  }

  async function ensureBackend(spec: ProbeSpec = DEFAULT_PROBE_SPEC): Promise<BackendInfo> {
    const key = `${settings.backend ?? 'auto'}|${sizeClass(spec)}|${settings.wasmThreads ?? 'all'} threads`;
    // A job held in memory (running, or paused) keeps its backend: re-initialising WASM for a new
    // thread count would destroy its tensors. Setting changes apply from the next job on.
    if (backendInfo && (backendKey === key || (active !== null && active.state !== 'ended'))) return backendInfo;
    backendInfo = await deps.selectBackend(settings.backend, spec, await database(), settings.wasmThreads ?? null, (complete) => {
      if (backendKey !== key || backendInfo?.backend !== complete.backend) return; // superseded meanwhile
      backendInfo = complete;
      // A faster backend measured late: the next job chooses again (from the now complete cache).
      if (complete.probe && complete.probe.chosen !== complete.backend) backendKey = null;
      emit({ type: 'backend', info: complete });
    });
    backendKey = key;
    emit({ type: 'backend', info: backendInfo });
    return backendInfo;
  }

  function elapsed(a: Active): number {
    return a.baseDurationMs + (a.state === 'running' ? now() - a.segmentStart : 0);
  }

  function snapshotJob(a: Active, extra: Partial<JobRecord> = {}): JobRecord {
    const progress = { ...a.session.progress(), backend: a.job.backend };
    return { ...a.job, progress, history: [...a.session.history], durationMs: elapsed(a), ...extra };
  }

  /**
   * Serializes first, then writes checkpoint and job record in one transaction. The loop's own
   * checkpoints (`waitForPrune` false) go on training while older checkpoints are pruned.
   */
  async function persistCheckpoint(a: Active, job: JobRecord, waitForPrune = true): Promise<JobRecord> {
    if (a.seq > 0 && a.job.checkpointStep === a.session.cursor.globalStep) {
      // Nothing trained since the last checkpoint: a second copy would only push out the fallback.
      a.job = await save({ ...job, checkpointStep: a.job.checkpointStep });
      return a.job;
    }
    const checkpoint = await encodeCheckpoint(a.session, a.job.config.optimizer, a.session.data.normalization, {
      jobId: a.job.id,
      seq: a.seq + 1,
      configHash: a.job.configHash,
      datasetFingerprint: a.datasetFingerprint,
      createdAt: now(),
    });
    // Encoding drained the session's pending read-backs, so its history is complete only now.
    const record = { ...job, history: checkpoint.history, checkpointStep: checkpoint.cursor.globalStep };
    const { pruned } = await db.writeCheckpoint(await database(), checkpoint, record);
    // A failed prune only leaves an extra older checkpoint, which the next prune removes.
    if (waitForPrune) await pruned.catch(() => undefined);
    else void pruned.catch(() => undefined);
    a.seq = checkpoint.seq;
    a.session.noteCheckpointWritten();
    a.job = record;
    emit({ type: 'job', job: record });
    return record;
  }

  function dropActive(): void {
    active?.session.dispose();
    active = null;
  }

  const storageFullNotice =
    'Paused: storage is full, so the latest checkpoint could not be saved. The previous checkpoint is intact. Free some space (or delete old jobs), then resume.';

  async function finishRun(a: Active, outcome: 'completed' | 'paused' | 'cancelled' | { error: unknown }): Promise<void> {
    if (outcome === 'paused') {
      a.baseDurationMs = elapsed(a);
      a.state = 'paused';
      const notice = a.storageFull ? storageFullNotice : null;
      const paused = transition(snapshotJob(a), 'paused', now(), { notice });
      if (a.storageFull) a.job = await save(paused).catch(() => paused);
      else await persistCheckpoint(a, paused).catch(async (err: unknown) => {
        a.job = await save({ ...paused, notice: isQuotaError(err) ? storageFullNotice : `Paused, but the checkpoint failed: ${toJobError(err).message}` });
      });
      return;
    }
    a.baseDurationMs = elapsed(a);
    a.state = 'ended';
    active = null;
    try {
      if (outcome === 'completed') {
        const done = transition(snapshotJob(a), 'completed', now());
        await persistCheckpoint(a, done).catch(async (err: unknown) => {
          await save({ ...done, notice: `The final checkpoint could not be saved: ${toJobError(err).message}` });
        });
      } else if (outcome === 'cancelled') {
        await save(transition(snapshotJob(a), 'cancelled', now()));
      } else if (isGpuLoss(outcome.error)) {
        backendInfo = null;
        await save(transition(snapshotJob(a), 'interrupted', now(), {
          notice: `The GPU was lost (${toJobError(outcome.error).message}). Resume continues from the last checkpoint (step ${a.job.checkpointStep ?? 0}).`,
        }));
      } else {
        await save(transition(snapshotJob(a), 'failed', now(), { error: toJobError(outcome.error) }));
      }
    } finally {
      a.session.dispose();
    }
  }

  function runLoop(a: Active): Promise<void> {
    a.state = 'running';
    a.segmentStart = now();
    setTrainerBusy(true);
    const loop = a.session
      .run()
      .then(
        (outcome) => finishRun(a, outcome),
        (error: unknown) => finishRun(a, { error }),
      )
      .catch((err: unknown) => {
        // Persisting the outcome failed; the job record keeps its last good state.
        console.error('Lathe: could not record the end of a run', err);
      })
      .finally(() => setTrainerBusy(false));
    a.loop = loop;
    return loop;
  }

  async function stopActive(jobId: string, kind: 'pause' | 'cancel'): Promise<Active | null> {
    const a = active;
    if (!a || a.job.id !== jobId) return null;
    if (a.state === 'running') {
      a.session.requestStop(kind);
      await a.loop;
    }
    return a;
  }

  const api: TrainerApi = {
    async init(s, l) {
      settings = { ...s };
      listener = l;
      await database();
    },

    backend: () => ensureBackend(),

    async updateSettings(s) {
      settings = { ...s };
      if (active) {
        active.session.checkpointIntervalMs = s.checkpointIntervalSec * 1000;
        active.session.historyEverySteps = Math.max(1, s.historyEverySteps);
      }
    },

    async submit({ name, config, dataset }: SubmitRequest) {
      const problems = [...validateConfig(config), ...validateDataset(dataset)];
      if (problems.length > 0) throw new Error(problems.join(' '));
      const fingerprint = await fingerprintDataset(dataset);
      // Content-addressed, so a job's dataset can never be replaced under it.
      const stored: Dataset = { ...dataset, id: `${dataset.id}@${fingerprint.slice(0, 16)}`, fingerprint, createdAt: now() };
      const t = now();
      const job: JobRecord = {
        id: crypto.randomUUID(), name, state: 'queued', datasetId: stored.id, config, configHash: await hashConfig(config),
        createdAt: t, queuedAt: t, startedAt: null, finishedAt: null, durationMs: 0, error: null, notice: null,
        progress: emptyProgress(config.epochs), history: [], backend: null, backendReason: null,
        checkpointStep: null, resumedFromStep: null, crashCount: 0,
      };
      await db.putDatasetAndJob(await database(), stored, job);
      emit({ type: 'job', job });
      return job;
    },

    async start(jobId) {
      const database_ = await database();
      if (active && active.job.id !== jobId) {
        if (active.state === 'running') throw new Error(`Another job ("${active.job.name}") is training in this worker.`);
        dropActive(); // paused in memory; its checkpoint is on disk
      }
      if (active && active.job.id === jobId && active.state === 'paused') return (await api.resume(jobId))!;
      let job = await db.getJob(database_, jobId);
      if (!job) throw new Error(`There is no job with id ${jobId}.`);
      if (job.state !== 'queued' && job.state !== 'paused' && job.state !== 'running')
        throw new Error(`Job "${job.name}" is ${job.state}; only queued or paused jobs can start.`);
      const crashRecovery = job.state === 'running';
      const crashCount = job.crashCount + (crashRecovery ? 1 : 0);
      if (crashCount > MAX_CRASHES_PER_JOB) {
        return save({ ...transition(job, 'failed', now()), crashCount, error: { message: `The training worker crashed ${crashCount} times on this job, so Lathe stopped retrying. Its last checkpoint (step ${job.checkpointStep ?? 0}) is kept.` } });
      }
      const dataset = await db.getDataset(database_, job.datasetId);
      const info = await ensureBackend(
        dataset ? { config: job.config, numFeatures: dataset.numFeatures, numOutputs: dataset.task === 'classification' ? dataset.classNames.length : 1 } : DEFAULT_PROBE_SPEC,
      );
      const base = { backend: info.backend, backendReason: info.reason, error: null, notice: null, crashCount };
      job = crashRecovery ? { ...job, ...base } : transition(job, 'running', now(), base);
      job = await save({ ...job, progress: { ...job.progress, stage: 'preprocessing', backend: info.backend } });
      try {
        const loaded = await loadSession(database_, job, settings, dataset);
        const a: Active = {
          job: { ...job, resumedFromStep: loaded.checkpoint?.cursor.globalStep ?? null, checkpointStep: loaded.checkpoint?.cursor.globalStep ?? null, notice: loaded.notice },
          session: loaded.session, state: 'running', datasetFingerprint: loaded.datasetFingerprint,
          seq: loaded.checkpoint?.seq ?? 0, segmentStart: now(), baseDurationMs: job.durationMs, loop: null, storageFull: false,
        };
        a.session.setHooks({
          progress: (p, points) => {
            a.job = { ...a.job, progress: { ...p, backend: a.job.backend } };
            emit({ type: 'progress', progress: { ...a.job.progress, jobId: a.job.id, state: 'running' }, points });
          },
          checkpoint: async () => {
            try {
              await persistCheckpoint(a, snapshotJob(a), false);
            } catch (err) {
              if (!isQuotaError(err)) throw err;
              a.storageFull = true;
              a.session.requestStop('pause');
            }
          },
        });
        active = a;
        a.job = await save(snapshotJob(a));
        void runLoop(a);
        return a.job;
      } catch (err) {
        if (!(err instanceof JobProblem)) console.error('Lathe: a job could not start', err);
        return save(transition(job, 'failed', now(), { error: toJobError(err) }));
      }
    },

    async pause(jobId) {
      const a = await stopActive(jobId, 'pause');
      if (!a) throw new Error('That job is not training in this tab, so it cannot be paused here.');
      return a.job;
    },

    async resume(jobId) {
      const a = active;
      if (!a || a.job.id !== jobId || a.state !== 'paused') return null;
      a.storageFull = false;
      a.job = await save(transition(snapshotJob(a), 'running', now(), { notice: null }));
      void runLoop(a);
      return a.job;
    },

    async cancel(jobId) {
      const a = await stopActive(jobId, 'cancel');
      if (a && a.state === 'paused') {
        // Cancelling a job paused in memory: no loop to stop.
        active = null;
        a.session.dispose();
        return save(transition(snapshotJob(a), 'cancelled', now()));
      }
      if (a) return (await db.getJob(await database(), jobId)) ?? a.job;
      return db.updateJob(await database(), jobId, (j) => transition(j, 'cancelled', now())).then((j) => {
        emit({ type: 'job', job: j });
        return j;
      });
    },

    async activeJob() {
      return active && active.state !== 'ended' ? { jobId: active.job.id, state: active.state } : null;
    },

    async memory(): Promise<TensorMemory> {
      const m = tf.memory();
      return { numTensors: m.numTensors, numBytes: m.numBytes };
    },

    async ping() {
      return now();
    },

    // Export and import (issue 4), delegated to workers/export/.
    ...createTransferApi({ database, now, ensureBackend, onJob: (job) => emit({ type: 'job', job }) }),
  };
  return api;
}
