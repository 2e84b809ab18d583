// JobsStore: the page's reactive copy of every job. Worker events and other tabs' messages enter
// reactivity here, in `apply`, and nowhere else.
import { SvelteMap } from 'svelte/reactivity';
import { listJobs, type LatheDb } from '../../shared/db';
import type { JobRecord, JobState } from '../../shared/jobs';
import type { BackendInfo, ProgressEvent, TabMessage, WorkerEvent } from '../../shared/protocol';
import { mergeJobs, sortByCreation } from './job-records';

/** Longest an outside event waits before the page shows it. */
export const APPLY_INTERVAL_MS = 100;

/** One line for screen readers when a job changes state. */
export type StateChange = { job: JobRecord; from: JobState | null };

export class JobsStore {
  /** Oldest first, as IndexedDB returns them; replaced, never mutated. */
  jobs: JobRecord[] = $state.raw([]);
  selectedId: string | null = $state(null);
  /** The latest backend a worker reported, from this tab's worker or the leader's. */
  backendInfo: BackendInfo | null = $state.raw(null);
  /** Last state change, for the polite live region. */
  lastChange: StateChange | null = $state.raw(null);
  loaded = $state(false);

  /** Newest first, as the job list shows them. */
  readonly newestFirst = $derived([...this.jobs].reverse());
  readonly selected = $derived(this.jobs.find((j) => j.id === this.selectedId) ?? null);
  readonly running = $derived(this.jobs.find((j) => j.state === 'running') ?? null);
  /** Queued jobs in the order the scheduler will start them. */
  readonly queue = $derived(
    this.jobs
      .filter((j) => j.state === 'queued')
      .sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0) || a.createdAt - b.createdAt),
  );

  /** When each job's current record arrived, so a running job's duration can tick between records. */
  #recordSeenAt = new SvelteMap<string, number>();
  #pending: (WorkerEvent | TabMessage)[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  #now: () => number;
  #stateListeners: ((change: StateChange) => void)[] = [];

  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  /** Time spent running, including the part since the worker last wrote the record. */
  liveDurationMs(job: JobRecord, now: number): number {
    const seenAt = this.#recordSeenAt.get(job.id);
    if (job.state !== 'running' || seenAt === undefined) return job.durationMs;
    return job.durationMs + Math.max(0, now - seenAt);
  }

  /** Loads every stored job; records that arrived by event meanwhile are newer and win. */
  async load(db: LatheDb): Promise<void> {
    const stored = await listJobs(db);
    this.jobs = mergeJobs(stored, this.jobs);
    for (const j of stored) if (!this.#recordSeenAt.has(j.id)) this.#recordSeenAt.set(j.id, this.#now());
    this.loaded = true;
    if (this.selectedId === null) this.selectedId = this.running?.id ?? this.newestFirst[0]?.id ?? null;
  }

  select(id: string | null): void {
    this.selectedId = id;
  }

  /**
   * Outside events as they arrive: applied together at most every APPLY_INTERVAL_MS, so a job
   * that reports dozens of times a second costs the page one render per batch, not one per event.
   */
  enqueue(message: WorkerEvent | TabMessage): void {
    this.#pending.push(message);
    this.#flushTimer ??= setTimeout(() => this.flush(), APPLY_INTERVAL_MS);
  }

  flush(): void {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    const batch = this.#pending;
    this.#pending = [];
    for (const message of batch) this.apply(message);
  }

  /** The one entry point for outside events. Commands and queue notices are not state: ignored here. */
  apply(message: WorkerEvent | TabMessage): void {
    // A record applied directly must not be overwritten later by an older queued one.
    if (this.#pending.length > 0 && message.type === 'job') this.flush();
    switch (message.type) {
      case 'job':
        this.#putJob(message.job);
        break;
      case 'progress':
        this.#applyProgress(message.progress, message.points);
        break;
      case 'backend':
        this.backendInfo = message.info;
        break;
      default:
        break;
    }
  }

  #putJob(incoming: JobRecord): void {
    const index = this.jobs.findIndex((j) => j.id === incoming.id);
    const previous = index < 0 ? null : this.jobs[index]!;
    // Checkpoint records repeat the history progress events already delivered; keeping the same
    // array spares the chart a recomputation for every checkpoint.
    const job =
      previous && sameHistory(previous.history, incoming.history) ? { ...incoming, history: previous.history } : incoming;
    if (index < 0) {
      this.jobs = sortByCreation([...this.jobs, job]);
      // A tab showing nothing follows the first job that appears (e.g. submitted in another tab).
      if (this.selectedId === null && this.loaded) this.selectedId = job.id;
    } else {
      const next = this.jobs.slice();
      next[index] = job;
      this.jobs = next;
    }
    this.#recordSeenAt.set(job.id, this.#now());
    if (previous?.state !== job.state) this.#stateChanged({ job, from: previous?.state ?? null });
  }

  /** Calls `listener` with every job state change this tab sees (e.g. notifications); returns an unsubscribe. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.#stateListeners = [...this.#stateListeners, listener];
    return () => {
      this.#stateListeners = this.#stateListeners.filter((l) => l !== listener);
    };
  }

  #stateChanged(change: StateChange): void {
    this.lastChange = change;
    for (const listener of this.#stateListeners) listener(change);
  }

  #applyProgress(event: ProgressEvent, points: JobRecord['history']): void {
    const { jobId, state, ...progress } = event;
    const index = this.jobs.findIndex((j) => j.id === jobId);
    // Progress for a job this tab has not loaded yet: its next `job` record brings everything.
    if (index < 0) return;
    const job = this.jobs[index]!;
    const next = this.jobs.slice();
    next[index] = {
      ...job,
      state,
      progress,
      history: points.length > 0 ? [...job.history, ...points] : job.history,
    };
    this.jobs = next;
    if (job.state !== state) this.#stateChanged({ job: next[index], from: job.state });
  }
}

function sameHistory(a: JobRecord['history'], b: JobRecord['history']): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const x = a[a.length - 1];
  const y = b[b.length - 1];
  return x === y || (x !== undefined && y !== undefined && x.step === y.step && x.kind === y.kind && x.loss === y.loss);
}
