// Job records and the job state machine. Plain TypeScript: shared by the page and the worker,
// so it imports neither the DOM nor tfjs.
import type { TrainConfig } from './config';
import type { JobLogEntry } from './job-log';

export const JOB_STATES = [
  'queued',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const STAGES = ['preprocessing', 'warmup', 'training', 'validation', 'saving-checkpoint'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * Legal moves. `cancelled`, `failed` and `interrupted` can go back to `queued` because their last
 * checkpoint stays loadable: "resume" re-queues them. `paused` goes to `queued` when the user
 * resumes it while another job holds the trainer.
 */
const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['paused', 'completed', 'failed', 'cancelled', 'interrupted'],
  paused: ['running', 'queued', 'cancelled', 'failed'],
  interrupted: ['queued', 'cancelled'],
  cancelled: ['queued'],
  failed: ['queued'],
  completed: [],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: JobState,
    readonly to: JobState,
  ) {
    super(`A job cannot go from "${from}" to "${to}".`);
    this.name = 'IllegalTransitionError';
  }
}

export function isTerminal(state: JobState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/** States from which "Resume" makes sense in the UI. */
export function isResumable(state: JobState): boolean {
  return state === 'paused' || state === 'interrupted' || state === 'cancelled' || state === 'failed';
}

export interface JobError {
  message: string;
  stack?: string;
}

/** One point of the metric history: per epoch (`kind: 'epoch'`) or every N steps (`kind: 'step'`). */
export interface MetricPoint {
  kind: 'epoch' | 'step';
  epoch: number;
  step: number;
  loss: number;
  /** e.g. `{ acc: 0.97, val_loss: 0.1, val_acc: 0.95 }` */
  metrics: Record<string, number>;
  timeMs: number;
}

export interface JobProgress {
  stage: Stage;
  /** 0-based epoch currently running; equals `epochs` once finished. */
  epoch: number;
  epochs: number;
  /** Global optimizer step count. */
  step: number;
  stepsPerEpoch: number;
  percent: number;
  loss: number | null;
  metrics: Record<string, number>;
  samplesPerSec: number | null;
  etaMs: number | null;
  backend: string | null;
}

/**
 * A debugger-style breakpoint: the step loop pauses right after this step (writing a checkpoint
 * there), as if the user had pressed Pause at exactly that moment. `epoch` means "after epoch N
 * completes". It is consumed when it fires, so Resume carries on. It never changes the run's
 * trajectory, so it is not part of the config hash and can change at any time.
 */
export interface Breakpoint {
  kind: 'step' | 'epoch';
  /** 1-based: step N is the N-th optimizer step; epoch N is the end of the N-th epoch. */
  at: number;
}

/** The global step after which `bp` pauses a run with `stepsPerEpoch` steps per epoch. */
export function breakpointStep(bp: Breakpoint, stepsPerEpoch: number): number {
  return bp.kind === 'step' ? bp.at : bp.at * stepsPerEpoch;
}

export function describeBreakpoint(bp: Breakpoint): string {
  return bp.kind === 'step' ? `step ${bp.at}` : `the end of epoch ${bp.at}`;
}

/** Problems with a breakpoint for a job of `epochs` epochs; empty means valid. */
export function validateBreakpoint(bp: Breakpoint | null, epochs: number): string[] {
  if (bp === null) return [];
  if (bp.kind !== 'step' && bp.kind !== 'epoch') return [`Unknown breakpoint kind "${String(bp.kind)}".`];
  if (!Number.isInteger(bp.at) || bp.at < 1) return [`Pause at ${bp.kind}: enter a whole number from 1.`];
  if (bp.kind === 'epoch' && bp.at >= epochs)
    return [`Pause at epoch: ${bp.at} is not before the last epoch (${epochs}); the job would simply complete.`];
  return [];
}

/**
 * Marks a job this device trains for the sync server's queue (a "runner turn", see
 * src/lib/sync/runner.svelte.ts). Its id is the server's job id; it never enters the sync outbox
 * (shared/sync-outbox.ts says why), and only the runner starts it.
 */
export interface ServerJobLink {
  /** The lease generation of the claim that made this local copy. */
  generation: number;
}

export interface JobRecord {
  id: string;
  name: string;
  state: JobState;
  datasetId: string;
  config: TrainConfig;
  /** SHA-256 of the canonical training config, checked on resume. */
  configHash: string;
  createdAt: number;
  /** When it last entered the queue; the queue is FIFO on this. */
  queuedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Time spent in `running`, summed across resumes. */
  durationMs: number;
  error: JobError | null;
  /** A non-error notice for the user, e.g. why a job was paused. */
  notice: string | null;
  progress: JobProgress;
  history: MetricPoint[];
  backend: string | null;
  backendReason: string | null;
  /** Global step of the newest checkpoint, or null when none exists. */
  checkpointStep: number | null;
  /** Global step the current run resumed from (a checkpoint's step), or null for a fresh start. */
  resumedFromStep: number | null;
  /** How many times a crashed worker was respawned for this job. */
  crashCount: number;
  /** Where the step loop will pause by itself; absent on records written before breakpoints existed. */
  breakpoint?: Breakpoint | null;
  /** What happened to the job, oldest first (see job-log.ts); absent on older records. */
  log?: JobLogEntry[];
  /** Raised by one on every stored write (see sync-outbox.ts): the sync server keeps the highest. */
  version?: number;
  /** Set when this device trains the job for the server's queue; absent for the device's own jobs. */
  serverJob?: ServerJobLink | null;
}

/** Apply a transition, enforcing the state machine and the timestamps that go with it. */
export function transition(job: JobRecord, to: JobState, now: number, extra: Partial<JobRecord> = {}): JobRecord {
  if (!canTransition(job.state, to)) throw new IllegalTransitionError(job.state, to);
  const next: JobRecord = { ...job, ...extra, state: to };
  if (to === 'running' && job.startedAt === null) next.startedAt = now;
  if (to === 'queued') {
    next.queuedAt = now;
    next.finishedAt = null;
    next.error = extra.error ?? null;
  }
  if (isTerminal(to)) next.finishedAt = now;
  return next;
}

export function emptyProgress(epochs: number): JobProgress {
  return {
    stage: 'preprocessing',
    epoch: 0,
    epochs,
    step: 0,
    stepsPerEpoch: 0,
    percent: 0,
    loss: null,
    metrics: {},
    samplesPerSec: null,
    etaMs: null,
    backend: null,
  };
}

export function toJobError(err: unknown): JobError {
  if (err instanceof Error) return { message: err.message || err.name, stack: err.stack };
  return { message: String(err) };
}
