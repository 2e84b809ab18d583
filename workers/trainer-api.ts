// The worker's one API object (TrainerApi): submits jobs, starts them from their newest good
// checkpoint, runs one session at a time, and persists checkpoint + job record atomically.
// Built from injected dependencies so unit tests run it in Node on the cpu backend.
import { hashConfig, validateConfig } from '../shared/config';
import { tableDatasetFromInput, validateDataset, type Dataset } from '../shared/dataset';
import { TableError, validatePlan } from '../shared/table';
import * as db from '../shared/db';
import {
  breakpointStep, describeBreakpoint, emptyProgress, toJobError, transition, validateBreakpoint, type JobRecord,
} from '../shared/jobs';
import type {
  BackendInfo, BackendName, SubmitRequest, TensorMemory, TrainerApi, WorkerEvent, WorkerEventListener, WorkerSettings,
} from '../shared/protocol';
import { DEFAULT_SETTINGS } from '../shared/settings';
import { withLog } from '../shared/job-log';
import { loadSession, JobProblem } from './session-loader';
import { isQuotaError, persistCheckpoint, runLoop, snapshotJob, type Active, type RunContext } from './run-state';
import { armBreakpoint, where } from './breakpoints';
import { createTransferApi } from './export';
import { createTableApi } from './table-api';
import { createImageApi, modelFitsImages } from './images/image-api';
import { createTextApi, modelFitsText } from './text/text-api';
import type { ImageDecoder } from './images/decode';
import { DEFAULT_PROBE_SPEC, probeSpecFor, sizeClass, type ProbeSpec } from './backend-probe';
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
  /** A sample file under public/samples/ (fetched in the browser; read from disk in tests). */
  sampleFile: (file: string) => Promise<Blob>;
  /** Decodes images and camera frames (createImageBitmap + OffscreenCanvas in browsers; a fake in Node). */
  imageDecoder: ImageDecoder;
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
  /** Names this worker in job logs, so a crash and its replacement can be told apart. */
  const workerId = crypto.randomUUID().slice(0, 8);

  const database = (): Promise<db.LatheDb> => (dbPromise ??= deps.openDb());
  const ctx: RunContext = {
    database,
    now,
    emit: (event) => emit(event),
    save: (job) => save(job),
    release: (a) => {
      if (active === a) active = null;
    },
    backendLost: () => {
      backendInfo = null;
    },
  };

  function dropActive(): void {
    active?.session.dispose();
    active = null;
  }

  function emit(event: WorkerEvent): void {
    // The listener is a Comlink proxy: its call is a promise we neither need nor may leave floating.
    void Promise.resolve(listener(event)).catch(() => undefined);
  }

  async function save(job: JobRecord): Promise<JobRecord> {
    const written = await db.putJob(await database(), job);
    emit({ type: 'job', job: written });
    return written;
  }

  async function ensureBackend(spec: ProbeSpec = DEFAULT_PROBE_SPEC): Promise<BackendInfo> {
    const key = `${settings.backend ?? 'auto'}|${spec.config.model.kind}|${sizeClass(spec)}|${settings.wasmThreads ?? 'all'} threads`;
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

  async function stopActive(jobId: string, kind: 'pause' | 'cancel'): Promise<Active | null> {
    const a = active;
    if (!a || a.job.id !== jobId) return null;
    if (a.state === 'running') {
      a.session.requestStop(kind);
      await a.loop;
    }
    return a;
  }

  const live = (jobId: string): Active | null => (active && active.job.id === jobId && active.state !== 'ended' ? active : null);
  const tableApi = createTableApi({ database, now, sampleFile: deps.sampleFile, ensureBackend, live });
  const { evaluateImageJob, ...imageApi } = createImageApi({ database, now, sampleFile: deps.sampleFile, decoder: deps.imageDecoder, ensureBackend, live });

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

    async submit(request: SubmitRequest) {
      const { name, config, breakpoint = null } = request;
      const problems = [...validateConfig(config), ...validateBreakpoint(breakpoint, config.epochs)];
      if ('dataset' in request) problems.push(...validateDataset(request.dataset));
      if (problems.length > 0) throw new Error(problems.join(' '));
      // Content-addressed, so a job's dataset can never be replaced under it.
      const stored: Dataset =
        'dataset' in request
          ? await tableDatasetFromInput(request.dataset, now())
          : await db.getDataset(await database(), request.datasetId).then((d) => {
              if (!d) throw new Error('That dataset is no longer stored (it was deleted); choose another one.');
              return d;
            });
      const planProblems =
        stored.kind === 'table' ? validatePlan(stored.table, config.table ?? stored.defaultPlan)
        : stored.kind === 'text' ? modelFitsText(stored, config)
        : modelFitsImages(stored, config);
      if (planProblems.length > 0) throw new TableError(planProblems.join(' '));
      if (stored.kind === 'table' && config.model.kind !== 'mlp') throw new TableError(`“${stored.name}” is a table: train it with an MLP, not a ${config.model.kind.toUpperCase()}.`);
      const t = now();
      const job: JobRecord = {
        // A server job claimed by this device's runner keeps the server's id (see ServerJobLink).
        id: request.serverJob?.id ?? crypto.randomUUID(), name, state: 'queued', datasetId: stored.id, config, configHash: await hashConfig(config),
        createdAt: t, queuedAt: t, startedAt: null, finishedAt: null, durationMs: 0, error: null, notice: null,
        progress: emptyProgress(config.epochs), history: [], backend: null, backendReason: null,
        checkpointStep: null, resumedFromStep: null, crashCount: 0, breakpoint,
        log: [{ at: t, kind: 'queued', text: `Queued: ${config.epochs} epochs on ${stored.name}${request.serverJob ? ' for the server' : ''}` }],
        ...(request.serverJob ? { serverJob: { generation: request.serverJob.generation } } : {}),
      };
      const written = await db.putDatasetAndJob(await database(), stored, job);
      emit({ type: 'job', job: written });
      return written;
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
      const info = await ensureBackend(dataset ? probeSpecFor(dataset, job.config) : DEFAULT_PROBE_SPEC);
      const base = { backend: info.backend, backendReason: info.reason, error: null, notice: null, crashCount };
      job = crashRecovery ? { ...job, ...base } : transition(job, 'running', now(), base);
      if (crashRecovery)
        job = withLog(job, 'crashed', `The training worker crashed (crash ${crashCount}); a new one takes over from step ${job.checkpointStep ?? 0}`, now(), {
          data: { crashCount, step: job.checkpointStep ?? 0 },
        });
      job = withLog(job, 'worker-started', `Worker ${workerId} started it on ${info.backend}`, now(), { data: { worker: workerId, backend: info.backend } });
      job = await save({ ...job, progress: { ...job.progress, stage: 'preprocessing', backend: info.backend } });
      try {
        const loaded = await loadSession(database_, job, settings, dataset);
        const armed = armBreakpoint(loaded.session, job.breakpoint ?? null);
        const from = loaded.checkpoint?.cursor.globalStep;
        if (from !== undefined) job = withLog(job, 'resumed', `Resumed from the checkpoint at step ${from}`, now(), { data: { step: from } });
        for (const note of [loaded.notice, armed.notice]) if (note) job = withLog(job, 'note', note, now());
        const a: Active = {
          job: {
            ...job, resumedFromStep: loaded.checkpoint?.cursor.globalStep ?? null, checkpointStep: loaded.checkpoint?.cursor.globalStep ?? null,
            notice: [loaded.notice, armed.notice].filter(Boolean).join(' ') || null, breakpoint: armed.breakpoint,
          },
          session: loaded.session, state: 'running', datasetFingerprint: loaded.datasetFingerprint,
          seq: loaded.checkpoint?.seq ?? 0, segmentStart: now(), baseDurationMs: job.durationMs, loop: null, storageFull: false,
          loggedStages: new Set(),
        };
        a.session.setHooks({
          progress: (p, points) => {
            a.job = { ...a.job, progress: { ...p, backend: a.job.backend } };
            emit({ type: 'progress', progress: { ...a.job.progress, jobId: a.job.id, state: 'running' }, points });
          },
          stage: (stage) => {
            if (stage === 'saving-checkpoint' || a.loggedStages.has(stage)) return;
            a.loggedStages.add(stage);
            a.job = withLog(a.job, 'stage', `Stage: ${stage}`, now(), { data: { step: a.session.cursor.globalStep } });
          },
          checkpoint: async () => {
            try {
              await persistCheckpoint(ctx, a, snapshotJob(ctx, a));
            } catch (err) {
              if (!isQuotaError(err)) throw err;
              a.storageFull = true;
              a.session.requestStop('pause');
            }
          },
        });
        active = a;
        a.job = await save(snapshotJob(ctx, a));
        void runLoop(ctx, a);
        return a.job;
      } catch (err) {
        if (!(err instanceof JobProblem)) console.error('Lathe: a job could not start', err);
        const error = toJobError(err);
        return save(withLog(transition(job, 'failed', now(), { error }), 'failed', `Could not start: ${error.message}`, now(), { stack: error.stack }));
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
      a.loggedStages.clear();
      const step = a.session.cursor.globalStep;
      a.job = await save(withLog(transition(snapshotJob(ctx, a), 'running', now(), { notice: null }), 'resumed', `Resumed at step ${step}`, now(), { data: { step } }));
      void runLoop(ctx, a);
      return a.job;
    },

    async cancel(jobId) {
      const a = await stopActive(jobId, 'cancel');
      if (a && a.state === 'paused') {
        // Cancelling a job paused in memory: no loop to stop.
        active = null;
        a.session.dispose();
        const step = a.session.cursor.globalStep;
        return save(withLog(transition(snapshotJob(ctx, a), 'cancelled', now()), 'cancelled', `Cancelled at step ${step} while paused`, now()));
      }
      if (a) return (await db.getJob(await database(), jobId)) ?? a.job;
      return db.updateJob(await database(), jobId, (j) => withLog(transition(j, 'cancelled', now()), 'cancelled', 'Cancelled before it ran again', now())).then((j) => {
        emit({ type: 'job', job: j });
        return j;
      });
    },

    async setBreakpoint(jobId, bp) {
      const problems = validateBreakpoint(bp, Number.POSITIVE_INFINITY);
      if (problems.length > 0) throw new Error(problems.join(' '));
      const a = active;
      if (a && a.job.id === jobId && a.state !== 'ended') {
        if (bp && bp.kind === 'epoch' && bp.at >= a.job.config.epochs) throw new Error(validateBreakpoint(bp, a.job.config.epochs).join(' '));
        const target = bp ? breakpointStep(bp, a.session.stepsPerEpoch) : null;
        if (target !== null && target <= a.session.cursor.globalStep)
          throw new Error(`The job is already at step ${a.session.cursor.globalStep}, past ${where(bp!, target)}.`);
        if (target !== null && target >= a.session.totalSteps)
          throw new Error(`A breakpoint at ${where(bp!, target)} is at or past the last step (${a.session.totalSteps}); the job simply completes there.`);
        a.session.breakpointStep = target;
        a.job = await save(withLog({ ...(a.state === 'running' ? snapshotJob(ctx, a) : a.job), breakpoint: bp }, 'note', bp ? `Breakpoint set at ${where(bp, target!)}` : 'Breakpoint cleared', now()));
        return a.job;
      }
      const job = await db.updateJob(await database(), jobId, (j) => {
        if (j.state === 'completed') throw new Error(`“${j.name}” is completed, so a breakpoint would never fire.`);
        const more = validateBreakpoint(bp, j.config.epochs);
        if (more.length > 0) throw new Error(more.join(' '));
        if (bp && bp.kind === 'step' && j.checkpointStep !== null && bp.at <= j.checkpointStep)
          throw new Error(`The job resumes from step ${j.checkpointStep}, past step ${bp.at}.`);
        return withLog({ ...j, breakpoint: bp }, 'note', bp ? `Breakpoint set at ${describeBreakpoint(bp)}` : 'Breakpoint cleared', now());
      });
      emit({ type: 'job', job });
      return job;
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
    ...createTransferApi({ database, now, sampleFile: deps.sampleFile, ensureBackend, onJob: (job) => emit({ type: 'job', job }) }),
    // Datasets, evaluation and predictions (issue 8), delegated to table-api.ts.
    ...tableApi,
    // Image datasets, camera frames and image predictions (issue 9), delegated to images/image-api.ts.
    ...imageApi,
    // Text datasets and generation (issue 10), delegated to text/text-api.ts.
    ...createTextApi({ database, now, sampleFile: deps.sampleFile, ensureBackend, live }),
    // One evaluation for every kind: an image job's has a grid of misclassified images.
    evaluate: async (jobId) => (await evaluateImageJob(jobId)) ?? tableApi.evaluate(jobId),
  };
  return api;
}
