// The leader tab's job scheduler: adopts jobs orphaned by a dead tab, starts queued jobs one at a
// time (FIFO), carries out pause/resume/cancel, and restarts a job after its worker crashed.
import { getJob, jobsInState, updateJob, type LatheDb } from '../../shared/db';
import { transition, type Breakpoint, type JobRecord, type JobState } from '../../shared/jobs';
import { withLog } from '../../shared/job-log';

/** The slice of TrainerClient the scheduler drives; tests hand in a fake. */
export interface SchedulerClient {
  start(jobId: string): Promise<JobRecord>;
  pause(jobId: string): Promise<JobRecord>;
  resume(jobId: string): Promise<JobRecord | null>;
  cancel(jobId: string): Promise<JobRecord>;
  setBreakpoint(jobId: string, breakpoint: Breakpoint | null): Promise<JobRecord>;
  activeJob(): Promise<{ jobId: string; state: JobState } | null>;
}

export interface SchedulerDeps {
  db: LatheDb;
  client: SchedulerClient;
  now: () => number;
  /** Applies a job record changed by this tab to the local store and tells the other tabs. */
  publish: (job: JobRecord) => void;
  autoResume: () => boolean;
  /** Shows a problem the user should know about; the scheduler itself carries on. */
  report: (error: unknown, context: string) => void;
  /** Whether a queued job may start now; a server job's copy waits for its runner. All may by default. */
  mayStart?: (job: JobRecord) => boolean;
}

export type JobCommand = 'pause' | 'resume' | 'cancel';

/**
 * Worker crashes in a row without a successful start before the scheduler stops restarting.
 * The worker fails a job itself after 3 crashes; this guards against a worker that cannot even
 * load, which would otherwise respawn forever.
 */
export const MAX_CONSECUTIVE_CRASHES = 3;

export function interruptedNotice(job: JobRecord): string {
  return (
    'Interrupted: the tab that was training it closed or crashed. ' +
    `Resume continues from the last checkpoint (step ${job.checkpointStep ?? 0}).`
  );
}

export class Scheduler {
  #deps: SchedulerDeps;
  /** Every operation runs after the previous one, so two starts can never overlap. */
  #tail: Promise<void> = Promise.resolve();
  #pumpQueued: Promise<void> | null = null;
  #crashesInARow = 0;
  #halted = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  /** Call once this tab holds the trainer lock. */
  async becomeLeader(): Promise<void> {
    await this.#serial(() => this.#adoptOrphans());
    await this.pump();
  }

  /** Starts the oldest queued job when nothing runs. Never rejects: problems are reported. */
  pump(): Promise<void> {
    // One queued pump covers every request made before it begins.
    this.#pumpQueued ??= this.#serial(async () => {
      this.#pumpQueued = null;
      await this.#pumpOnce();
    });
    return this.#pumpQueued;
  }

  /** After a submit: a user action also lifts a crash halt. */
  submitted(): Promise<void> {
    this.#clearHalt();
    return this.pump();
  }

  /** A job record changed elsewhere (worker event or another tab): a job leaving `running` frees the trainer. */
  jobChanged(job: JobRecord): void {
    if (job.state !== 'running') this.#requestPump();
  }

  /** Rejects with a readable error when the command cannot be carried out. */
  command(command: JobCommand, jobId: string): Promise<void> {
    if (command === 'resume') this.#clearHalt();
    return this.#serial(async () => {
      if (command === 'pause') await this.#pause(jobId);
      else if (command === 'resume') await this.#resume(jobId);
      else await this.#cancel(jobId);
    }).finally(() => this.#requestPump());
  }

  /** Sets or clears a job's breakpoint; the worker decides (it knows a running job's step). */
  setBreakpoint(jobId: string, breakpoint: Breakpoint | null): Promise<void> {
    return this.#serial(async () => {
      this.#publishSettled(await this.#deps.client.setBreakpoint(jobId, breakpoint));
    });
  }

  /** The worker died; `jobId` is the job it was running, if known. The next call spawns a new worker. */
  recoverFromCrash(jobId: string | null): Promise<void> {
    this.#crashesInARow++;
    return this.#serial(async () => {
      if (this.#crashesInARow > MAX_CONSECUTIVE_CRASHES) {
        this.#halted = true;
        this.#deps.report(
          new Error('The training worker keeps crashing, so training has stopped. Reload the page to try again.'),
          'Training stopped',
        );
        return;
      }
      // After a crash every `running` job was ours: the worker takes it as a crash recovery.
      const running = await jobsInState(this.#deps.db, 'running');
      const victim = running.find((j) => j.id === jobId) ?? running[0];
      if (victim) await this.#start(victim);
    }).finally(() => this.#requestPump());
  }

  async #adoptOrphans(): Promise<void> {
    const { db, now, publish } = this.#deps;
    for (const orphan of await jobsInState(db, 'running')) {
      let job = await updateJob(db, orphan.id, (j) =>
        j.state === 'running'
          ? withLog(transition(j, 'interrupted', now(), { notice: interruptedNotice(j) }), 'interrupted',
              `Interrupted: its tab closed or crashed; the last checkpoint is at step ${j.checkpointStep ?? 0}`, now())
          : j,
      );
      publish(job);
      // A server job's lease went with the closed tab: the server hands it on, not auto-resume.
      if (this.#deps.autoResume() && job.state === 'interrupted' && !job.serverJob) {
        job = await updateJob(db, job.id, (j) =>
          j.state === 'interrupted' ? withLog(transition(j, 'queued', now()), 'queued', 'Queued again by auto-resume', now()) : j,
        );
        publish(job);
      }
    }
  }

  async #pumpOnce(): Promise<void> {
    const { db } = this.#deps;
    try {
      // A job that fails at start frees the trainer at once, so try the next one.
      for (;;) {
        if (this.#halted) return;
        if ((await jobsInState(db, 'running')).length > 0) return;
        const mayStart = this.#deps.mayStart ?? (() => true);
        const next = (await jobsInState(db, 'queued'))
          .filter(mayStart)
          .sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0) || a.createdAt - b.createdAt)[0];
        if (!next) return;
        const job = await this.#start(next);
        if (!job || job.state === 'running' || job.state === 'queued') return;
      }
    } catch (error) {
      this.#deps.report(error, 'Could not check the queue');
    }
  }

  /** Returns the started record, or null when the start failed (already reported or being recovered). */
  async #start(job: JobRecord): Promise<JobRecord | null> {
    try {
      const started = await this.#deps.client.start(job.id);
      if (started.state === 'running') this.#crashesInARow = 0;
      this.#publishSettled(started);
      return started;
    } catch (error) {
      // A crash is handled by recoverFromCrash, which the client's onCrash hook triggers.
      if (!isCrash(error)) this.#deps.report(error, `Could not start “${job.name}”`);
      return null;
    }
  }

  async #pause(jobId: string): Promise<void> {
    this.#publishSettled(await this.#deps.client.pause(jobId));
  }

  async #resume(jobId: string): Promise<void> {
    const { db, client } = this.#deps;
    const job = await getJob(db, jobId);
    if (!job) throw new Error('That job no longer exists.');
    if (job.state === 'paused') {
      const resumed = await client.resume(jobId);
      if (resumed) {
        this.#publishSettled(resumed);
        return;
      }
      // Not in the worker's memory (another job ran since, or the page reloaded): its
      // checkpoint is on disk, so it rejoins the queue and starts from there.
      await this.#requeue(jobId);
    } else if (job.state === 'interrupted' || job.state === 'cancelled' || job.state === 'failed') {
      await this.#requeue(jobId);
    } else {
      throw new Error(`“${job.name}” is ${job.state}, so there is nothing to resume.`);
    }
  }

  async #cancel(jobId: string): Promise<void> {
    const { db, client, now } = this.#deps;
    const active = await client.activeJob();
    if (active?.jobId === jobId && (active.state === 'running' || active.state === 'paused')) {
      this.#publishSettled(await client.cancel(jobId));
      return;
    }
    this.#deps.publish(await updateJob(db, jobId, (j) => withLog(transition(j, 'cancelled', now()), 'cancelled', `Cancelled while ${j.state}`, now())));
  }

  async #requeue(jobId: string): Promise<void> {
    const { db, now, publish } = this.#deps;
    publish(
      await updateJob(db, jobId, (j) =>
        withLog(transition(j, 'queued', now(), { notice: null }), 'queued', `Queued to resume from step ${j.checkpointStep ?? 0}`, now()),
      ),
    );
  }

  /**
   * Records returned by worker calls reach the page over a different port than the worker's
   * events, so a `running` one may be older than events already shown; those events carry it.
   */
  #publishSettled(job: JobRecord): void {
    if (job.state !== 'running') this.#deps.publish(job);
  }

  #requestPump(): void {
    void this.pump().catch((error: unknown) => this.#deps.report(error, 'Could not check the queue'));
  }

  #clearHalt(): void {
    this.#halted = false;
    this.#crashesInARow = 0;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

function isCrash(error: unknown): boolean {
  return error instanceof Error && error.name === 'WorkerCrashedError';
}
