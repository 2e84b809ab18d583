// The browser runner's decisions without a browser: renew timing, claim backoff, what each local
// state means for the server turn, the one-in-flight upload queue, and the Runner class driven by a
// fake server and a fake trainer (fake timers: nothing waits on the machine's speed).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emptyProgress, type JobRecord } from '../../shared/jobs';
import { claimDelayMs, LatestOnlyUploads, refusalOf, renewEveryMs, turnAction } from '../../shared/runner-turn';
import { LeaseLostError, type Claim, type RunnerApi } from '../../src/lib/sync/runner-api';
import { Runner } from '../../src/lib/sync/runner.svelte';

function job(state: JobRecord['state'], checkpointStep: number | null, step = checkpointStep ?? 0, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'job-1', name: 'server job', state, datasetId: 'd', config: {} as JobRecord['config'], configHash: 'h', createdAt: 0, queuedAt: 0,
    startedAt: null, finishedAt: null, durationMs: 0, error: null, notice: null, progress: { ...emptyProgress(3), step }, history: [],
    backend: null, backendReason: null, checkpointStep, resumedFromStep: null, crashCount: 0, serverJob: { generation: 1 }, ...extra,
  };
}

describe('runner timing and decisions', () => {
  it('renews every third of the lease, and backs off further the longer nothing is queued or the server is down', () => {
    expect(renewEveryMs(30_000)).toBe(10_000);
    expect(renewEveryMs(3_000)).toBe(1_000);
    expect([1, 2, 3, 4, 5, 9].map((n) => claimDelayMs('empty', n))).toEqual([2_000, 5_000, 10_000, 30_000, 60_000, 60_000]);
    expect([1, 2, 3, 4, 7].map((n) => claimDelayMs('failed', n))).toEqual([5_000, 15_000, 30_000, 60_000, 60_000]);
  });

  it('uploads each newer checkpoint while training, and ends the turn with the local outcome (paused and completed after their checkpoint)', () => {
    expect(turnAction(job('running', null), null)).toEqual({ kind: 'wait' });
    expect(turnAction(job('running', 7), null)).toEqual({ kind: 'upload', step: 7 });
    expect(turnAction(job('running', 7), 7)).toEqual({ kind: 'wait' });
    expect(turnAction(job('paused', 40, 40, { notice: 'Paused at step 40 by the breakpoint.' }), 35)).toEqual({
      kind: 'finish', outcome: 'paused', step: 40, message: 'Paused at step 40 by the breakpoint.', upload: true,
    });
    expect(turnAction(job('paused', 40), 40)).toMatchObject({ kind: 'finish', outcome: 'paused', upload: false });
    expect(turnAction(job('completed', 90), 84)).toMatchObject({ kind: 'finish', outcome: 'completed', step: 90, upload: true });
    expect(turnAction(job('cancelled', 84, 86), 84)).toEqual({ kind: 'finish', outcome: 'cancelled', step: 86, message: null, upload: false });
    expect(turnAction(job('failed', 84, 86, { error: { message: 'NaN loss' } }), 84)).toMatchObject({ kind: 'finish', outcome: 'failed', message: 'NaN loss' });
    expect(turnAction(job('interrupted', 84, 86), 84)).toMatchObject({ kind: 'finish', outcome: 'paused', step: 84 });
  });

  it('refuses models a browser runner cannot feed from a CSV download', () => {
    expect(refusalOf({ model: { kind: 'mlp', hidden: [] } })).toBeNull();
    expect(refusalOf({ model: { kind: 'cnn' } })).toMatch(/tables .* only; this job's model is "cnn"/);
    expect(refusalOf({})).toMatch(/"unknown"/);
  });

  it('keeps one upload in flight, merges requests into the newest, and sends nothing once fenced', async () => {
    const started: number[] = [];
    const finish: (() => void)[] = [];
    let newest = 1;
    const uploads = new LatestOnlyUploads(
      () => {
        const step = newest;
        started.push(step);
        return new Promise<number>((resolve) => finish.push(() => resolve(step)));
      },
      () => undefined,
    );
    uploads.request();
    newest = 2;
    uploads.request();
    newest = 3;
    uploads.request();
    expect(started).toEqual([1]);
    finish.shift()!();
    await vi.waitFor(() => expect(started).toEqual([1, 3]));
    uploads.fence();
    newest = 4;
    uploads.request();
    finish.shift()!();
    await uploads.flush();
    expect(started).toEqual([1, 3]);
    expect(uploads.uploaded).toBe(3);
  });
});

const CLAIM: Claim = {
  job_id: 'job-1', generation: 1, lease_until: 0, lease_ms: 3_000, name: 'server job',
  config: { model: { kind: 'mlp', hidden: [] }, epochs: 3 }, dataset: { fingerprint: 'f', url: '/api/datasets/f' }, checkpoint: null, breakpoint: null,
};

/** A fake server and trainer around one Runner; `calls` lists what reached the server, in order. */
function harness(claim: Claim = CLAIM) {
  const calls: string[] = [];
  let lost = false;
  let renewReply = { lease_until: 0, cancel_requested: false, pause_requested: false };
  let exportedStep = 0;
  const commands: string[] = [];
  const api = {
    claim: vi.fn(async () => (calls.push('claim'), calls.filter((c) => c === 'claim').length === 1 ? claim : null)),
    renew: vi.fn(async () => {
      calls.push('renew');
      if (lost) throw new LeaseLostError('job-1');
      return renewReply;
    }),
    uploadCheckpoint: vi.fn(async (_ref: unknown, bytes: Uint8Array) => {
      if (lost) throw new LeaseLostError('job-1');
      calls.push(`checkpoint ${bytes[0]}`);
      return bytes[0]!;
    }),
    uploadResult: vi.fn(async () => void calls.push('result')),
    finish: vi.fn(async (_ref: unknown, outcome: string, step: number) => {
      if (lost) throw new LeaseLostError('job-1');
      calls.push(`finish ${outcome} ${step}`);
    }),
    download: vi.fn(async () => new TextEncoder().encode('x,y\n1,2\n')),
    resume: vi.fn(async () => undefined),
  };
  const client = {
    importTable: vi.fn(async () => ({ dataset: { id: 'd' } as never, reused: false })),
    submit: vi.fn(async () => job('queued', null)),
    importFiles: vi.fn(async () => ({ kind: 'package' as const, job: job('paused', 40), dataset: 'already-stored' as const })),
    exportPackage: vi.fn(async () => ({ name: 'p.lathe', type: 'x', bytes: new Uint8Array([exportedStep]) })),
    exportModel: vi.fn(async () => ({ kind: 'zip' as const, file: { name: 'm.zip', type: 'zip', bytes: new Uint8Array([9]) } })),
    activeJob: vi.fn(async () => null),
  };
  let local: JobRecord | null = null;
  const runner = new Runner({
    api: () => api as unknown as RunnerApi,
    deviceId: () => 'device-a',
    client: () => client,
    job: () => local,
    idle: () => true,
    publish: (j) => void (local = j),
    start: async () => undefined,
    command: async (c) => void commands.push(c),
    leaseMs: 3_000,
    share: () => undefined,
  });
  /** The worker wrote a record of the local copy (with its newest checkpoint step). */
  const localChange = (j: JobRecord) => {
    local = j;
    exportedStep = j.checkpointStep ?? 0;
    runner.jobChanged(j);
  };
  return {
    runner, api, client, calls, commands, localChange,
    loseLease: () => void (lost = true),
    renewSays: (r: Partial<typeof renewReply>) => void (renewReply = { ...renewReply, ...r }),
  };
}

describe('the runner against a fake server', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  async function startTurn(h: ReturnType<typeof harness>) {
    h.runner.becomeLeader();
    h.runner.setEnabled(true);
    await vi.advanceTimersByTimeAsync(0);
    await vi.waitFor(() => expect(h.runner.status.kind).toBe('training'));
  }

  it('renews every third of the lease with the step, uploads each new checkpoint, and finishes completed after the final checkpoint and the model', async () => {
    const h = harness();
    await startTurn(h);
    expect(h.client.submit).toHaveBeenCalledWith(expect.objectContaining({ serverJob: { id: 'job-1', generation: 1 } }));
    h.localChange(job('running', 10, 12));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.api.renew).toHaveBeenLastCalledWith({ jobId: 'job-1', deviceId: 'device-a', generation: 1 }, 12);
    h.localChange(job('completed', 30));
    await vi.waitFor(() => expect(h.calls).toContain('finish completed 30'));
    expect(h.calls.filter((c) => c !== 'renew' && c !== 'claim')).toEqual(['checkpoint 10', 'checkpoint 30', 'result', 'finish completed 30']);
    expect(h.runner.status.kind).toBe('idle');
  });

  it('a remote pause reaches the runner by its renewal: it pauses the local run, uploads that checkpoint, then finishes paused', async () => {
    const h = harness();
    await startTurn(h);
    h.localChange(job('running', 5, 7));
    h.renewSays({ pause_requested: true });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.commands).toEqual(['pause']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.commands).toEqual(['pause']); // asked once, not at every renewal
    h.localChange(job('paused', 8));
    await vi.waitFor(() => expect(h.calls).toContain('finish paused 8'));
    expect(h.calls.filter((c) => c.startsWith('checkpoint') || c.startsWith('finish'))).toEqual(['checkpoint 5', 'checkpoint 8', 'finish paused 8']);
  });

  it('a remote pause reaches the runner at once through the job_pause_requested event of its own lease', async () => {
    const h = harness();
    await startTurn(h);
    h.runner.onEvent({ type: 'job_pause_requested', id: 5, data: { job_id: 'job-1', device_id: 'device-a', generation: 0, at: 1 } });
    expect(h.commands).toEqual([]); // another generation's request is not this turn's
    h.runner.onEvent({ type: 'job_pause_requested', id: 6, data: { job_id: 'job-1', device_id: 'device-a', generation: 1, at: 1 } });
    expect(h.commands).toEqual(['pause']);
  });

  it('a remote cancel stops the local run and finishes the turn cancelled, without uploading', async () => {
    const h = harness();
    await startTurn(h);
    expect(h.runner.cancelRequested('other-job')).toBe(false);
    expect(h.runner.cancelRequested('job-1')).toBe(true);
    expect(h.commands).toEqual(['cancel']);
    h.localChange(job('cancelled', null, 4));
    await vi.waitFor(() => expect(h.calls).toContain('finish cancelled 4'));
    expect(h.calls.some((c) => c.startsWith('checkpoint'))).toBe(false);
  });

  it('a runner that comes back after losing its lease stops its run at once and never uploads over its successor', async () => {
    const h = harness();
    await startTurn(h);
    h.localChange(job('running', 10, 11));
    await vi.advanceTimersByTimeAsync(0);
    expect(h.calls).toContain('checkpoint 10');
    // The laptop slept: the lease ran out and another runner holds the job now.
    h.loseLease();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.commands).toEqual(['cancel']);
    expect(h.runner.status).toMatchObject({ kind: 'lost', jobId: 'job-1' });
    const sent = h.calls.length;
    h.localChange(job('running', 20, 21));
    h.localChange(job('cancelled', 20, 21));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.calls.slice(sent).filter((c) => c !== 'claim')).toEqual([]);
    expect(h.api.uploadCheckpoint).toHaveBeenCalledTimes(1);
    expect(h.api.finish).not.toHaveBeenCalled();
  });

  it('refuses a job it cannot train with a failed finish that says why, without touching the trainer', async () => {
    const h = harness({ ...CLAIM, config: { model: { kind: 'cnn' } } });
    h.runner.becomeLeader();
    h.runner.setEnabled(true);
    await vi.advanceTimersByTimeAsync(0);
    await vi.waitFor(() => expect(h.runner.status.kind).toBe('refused'));
    expect(h.api.finish).toHaveBeenCalledWith(expect.anything(), 'failed', 0, expect.stringMatching(/refused by a browser runner: .*"cnn"/));
    expect(h.client.importTable).not.toHaveBeenCalled();
  });

  it('resumes a claim with a checkpoint by importing it, and does not upload that checkpoint again', async () => {
    const h = harness({ ...CLAIM, checkpoint: { step: 40, url: '/api/jobs/job-1/checkpoint' }, breakpoint: { kind: 'step', at: 40 } });
    await startTurn(h);
    expect(h.client.importFiles).toHaveBeenCalledWith([expect.objectContaining({ name: 'job-1.lathe' })], {
      serverJob: { id: 'job-1', generation: 1, name: 'server job', breakpoint: { kind: 'step', at: 40 } },
    });
    h.localChange(job('running', 40, 42));
    await vi.advanceTimersByTimeAsync(0);
    expect(h.calls.some((c) => c.startsWith('checkpoint'))).toBe(false);
  });
});
