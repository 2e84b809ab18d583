// The leader's scheduler against a real (fake-indexeddb) database and a fake trainer worker.
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config';
import { getJob, openLatheDb, putJob, updateJob, type LatheDb } from '../../shared/db';
import { emptyProgress, transition, type Breakpoint, type JobRecord, type JobState } from '../../shared/jobs';
import { Scheduler, type SchedulerClient } from '../../src/lib/scheduler';

let dbCounter = 0;

function makeJob(id: string, state: JobState, at: number, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    name: `job ${id}`,
    state,
    datasetId: 'sample:xor@test',
    config: DEFAULT_CONFIG,
    configHash: 'hash',
    createdAt: at,
    queuedAt: state === 'queued' ? at : null,
    startedAt: null,
    finishedAt: null,
    durationMs: 0,
    error: null,
    notice: null,
    progress: emptyProgress(DEFAULT_CONFIG.epochs),
    history: [],
    backend: null,
    backendReason: null,
    checkpointStep: null,
    resumedFromStep: null,
    crashCount: 0,
    ...extra,
  };
}

/** Behaves like the worker: one job in memory, state changes written to the database. */
class FakeWorker implements SchedulerClient {
  calls: string[] = [];
  active: { jobId: string; state: JobState } | null = null;
  constructor(private db: LatheDb) {}

  async start(jobId: string): Promise<JobRecord> {
    this.calls.push(`start ${jobId}`);
    this.active = { jobId, state: 'running' };
    return updateJob(this.db, jobId, (j) => (j.state === 'running' ? j : transition(j, 'running', 1)));
  }
  async pause(jobId: string): Promise<JobRecord> {
    this.calls.push(`pause ${jobId}`);
    this.active = { jobId, state: 'paused' };
    return updateJob(this.db, jobId, (j) => transition(j, 'paused', 2));
  }
  async resume(jobId: string): Promise<JobRecord | null> {
    this.calls.push(`resume ${jobId}`);
    if (this.active?.jobId !== jobId) return null;
    this.active = { jobId, state: 'running' };
    return updateJob(this.db, jobId, (j) => transition(j, 'running', 3));
  }
  async cancel(jobId: string): Promise<JobRecord> {
    this.calls.push(`cancel ${jobId}`);
    this.active = null;
    return updateJob(this.db, jobId, (j) => transition(j, 'cancelled', 4));
  }
  async setBreakpoint(jobId: string, breakpoint: Breakpoint | null): Promise<JobRecord> {
    this.calls.push(`breakpoint ${jobId}`);
    return updateJob(this.db, jobId, (j) => ({ ...j, breakpoint }));
  }
  activeJob(): Promise<{ jobId: string; state: JobState } | null> {
    return Promise.resolve(this.active);
  }
  /** The running job ends, as the worker would report it. */
  async finish(jobId: string): Promise<JobRecord> {
    this.active = null;
    return updateJob(this.db, jobId, (j) => transition(j, 'completed', 5));
  }
}

interface Rig {
  db: LatheDb;
  worker: FakeWorker;
  scheduler: Scheduler;
  published: JobRecord[];
  reported: string[];
}

async function rig(options: { autoResume?: boolean } = {}): Promise<Rig> {
  const db = await openLatheDb(`scheduler-test-${++dbCounter}`);
  const worker = new FakeWorker(db);
  const published: JobRecord[] = [];
  const reported: string[] = [];
  let clock = 1000;
  const scheduler = new Scheduler({
    db,
    client: worker,
    now: () => ++clock,
    publish: (job) => published.push(job),
    autoResume: () => options.autoResume ?? false,
    report: (error, context) => reported.push(`${context}: ${String(error)}`),
  });
  return { db, worker, scheduler, published, reported };
}

async function stateOf(db: LatheDb, id: string): Promise<JobState | undefined> {
  return (await getJob(db, id))?.state;
}

describe('scheduler', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });

  it('marks a job left running by a closed tab as interrupted, naming its checkpoint step', async () => {
    await putJob(r.db, makeJob('a', 'running', 1, { checkpointStep: 120 }));
    await r.scheduler.becomeLeader();
    const job = await getJob(r.db, 'a');
    expect(job?.state).toBe('interrupted');
    expect(job?.notice).toBe(
      'Interrupted: the tab that was training it closed or crashed. Resume continues from the last checkpoint (step 120).',
    );
    expect(r.published.map((j) => j.state)).toEqual(['interrupted']);
    expect(r.worker.calls).toEqual([]);
  });

  it('with auto-resume on, an orphaned job is queued again and started', async () => {
    const auto = await rig({ autoResume: true });
    await putJob(auto.db, makeJob('a', 'running', 1, { checkpointStep: 40 }));
    await auto.scheduler.becomeLeader();
    expect(auto.worker.calls).toEqual(['start a']);
    expect(await stateOf(auto.db, 'a')).toBe('running');
  });

  it('starts queued jobs one at a time, oldest first', async () => {
    await putJob(r.db, makeJob('late', 'queued', 30));
    await putJob(r.db, makeJob('early', 'queued', 10));
    await putJob(r.db, makeJob('middle', 'queued', 20));
    await r.scheduler.becomeLeader();
    expect(r.worker.calls).toEqual(['start early']);

    await r.scheduler.pump();
    expect(r.worker.calls).toEqual(['start early']);

    r.scheduler.jobChanged(await r.worker.finish('early'));
    await r.scheduler.pump();
    expect(r.worker.calls).toEqual(['start early', 'start middle']);
  });

  it('many pump requests at once still start only one job', async () => {
    await putJob(r.db, makeJob('a', 'queued', 1));
    await putJob(r.db, makeJob('b', 'queued', 2));
    await Promise.all([r.scheduler.pump(), r.scheduler.pump(), r.scheduler.pump(), r.scheduler.submitted()]);
    expect(r.worker.calls).toEqual(['start a']);
  });

  it('resuming an interrupted job queues it and starts it when the trainer is free', async () => {
    await putJob(r.db, makeJob('a', 'running', 1, { checkpointStep: 50 }));
    await r.scheduler.becomeLeader();
    await r.scheduler.command('resume', 'a');
    await r.scheduler.pump();
    expect(r.worker.calls).toEqual(['start a']);
    const job = await getJob(r.db, 'a');
    expect(job?.state).toBe('running');
    expect(job?.notice).toBeNull();
  });

  it('resuming an interrupted job while another trains leaves it queued behind that one', async () => {
    await putJob(r.db, makeJob('busy', 'queued', 1));
    await putJob(r.db, makeJob('old', 'interrupted', 0));
    await r.scheduler.becomeLeader();
    await r.scheduler.command('resume', 'old');
    await r.scheduler.pump();
    expect(await stateOf(r.db, 'old')).toBe('queued');
    expect(r.worker.calls).toEqual(['start busy']);
  });

  it('cancelling a queued job cancels it in the database without touching the worker', async () => {
    await putJob(r.db, makeJob('busy', 'queued', 1));
    await putJob(r.db, makeJob('waiting', 'queued', 2));
    await r.scheduler.becomeLeader();
    await r.scheduler.command('cancel', 'waiting');
    expect(await stateOf(r.db, 'waiting')).toBe('cancelled');
    expect(r.worker.calls).toEqual(['start busy']);
    expect(r.published.at(-1)?.state).toBe('cancelled');
  });

  it('cancelling the running job asks the worker, and the next queued job starts', async () => {
    await putJob(r.db, makeJob('a', 'queued', 1));
    await putJob(r.db, makeJob('b', 'queued', 2));
    await r.scheduler.becomeLeader();
    await r.scheduler.command('cancel', 'a');
    await r.scheduler.pump();
    expect(r.worker.calls).toEqual(['start a', 'cancel a', 'start b']);
    expect(await stateOf(r.db, 'a')).toBe('cancelled');
  });

  it('a paused job does not block the queue', async () => {
    await putJob(r.db, makeJob('a', 'queued', 1));
    await r.scheduler.becomeLeader();
    await r.scheduler.command('pause', 'a');
    await putJob(r.db, makeJob('b', 'queued', 2));
    await r.scheduler.submitted();
    expect(r.worker.calls).toEqual(['start a', 'pause a', 'start b']);
  });

  it('resuming a paused job the worker still holds continues it in place', async () => {
    await putJob(r.db, makeJob('a', 'queued', 1));
    await r.scheduler.becomeLeader();
    await r.scheduler.command('pause', 'a');
    await r.scheduler.command('resume', 'a');
    expect(r.worker.calls).toEqual(['start a', 'pause a', 'resume a']);
    expect(await stateOf(r.db, 'a')).toBe('running');
  });

  it('resuming a paused job the worker no longer holds queues it to start from its checkpoint', async () => {
    await putJob(r.db, makeJob('a', 'paused', 1, { checkpointStep: 30 }));
    await r.scheduler.becomeLeader();
    await r.scheduler.command('resume', 'a');
    await r.scheduler.pump();
    expect(r.worker.calls).toEqual(['resume a', 'start a']);
    expect(await stateOf(r.db, 'a')).toBe('running');
  });

  it('resuming a completed job is refused with a readable reason', async () => {
    await putJob(r.db, makeJob('a', 'completed', 1));
    await expect(r.scheduler.command('resume', 'a')).rejects.toThrow('“job a” is completed, so there is nothing to resume.');
  });

  it('after a worker crash the job it was running is started again', async () => {
    await putJob(r.db, makeJob('a', 'queued', 1));
    await r.scheduler.becomeLeader();
    await r.scheduler.recoverFromCrash('a');
    expect(r.worker.calls).toEqual(['start a', 'start a']);
  });

  it('a worker that keeps crashing at start stops being restarted, with a message', async () => {
    await putJob(r.db, makeJob('a', 'running', 1));
    r.worker.start = (jobId) => {
      r.worker.calls.push(`start ${jobId}`);
      return Promise.reject(Object.assign(new Error('gone'), { name: 'WorkerCrashedError' }));
    };
    for (let i = 0; i < 5; i++) await r.scheduler.recoverFromCrash('a');
    expect(r.worker.calls).toEqual(['start a', 'start a', 'start a']);
    expect(r.reported.some((m) => m.includes('keeps crashing'))).toBe(true);
  });
});
