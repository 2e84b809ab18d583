// The server's job queue on every store (SQLite, and PostgreSQL when configured): submit needs an
// uploaded dataset, claims hand out each job to one runner under a lease, a runner that lost its
// lease (expired, taken over) is fenced off, expiry returns the job to the queue from its newest
// checkpoint, and the job record says which device trained which steps. Times are passed in, so
// nothing here waits on a clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobStore } from '../../server/store/job-store';
import type { Lease } from '../../server/store/queue-types';
import { implementations, type Harness } from './store-harness';

const LEASE_MS = 10_000;
const DATA = Buffer.from('dataset bytes');
const config = { model: { kind: 'mlp', hidden: [{ units: 4, activation: 'relu' }] }, epochs: 2 };

describe.each(implementations)('job queue: %s', (_name, open) => {
  let h: Harness;
  let s: JobStore;
  beforeEach(async () => {
    h = open();
    await h.ready;
    s = h.store;
  });
  afterEach(async () => h.dispose());

  const submit = async (jobId: string, now = 100) => {
    const r = await s.queue.submit('alice', { jobId, name: `job ${jobId}`, config, datasetFingerprint: 'fp1' }, now);
    expect(r.ok).toBe(true);
  };

  it('refuses a job whose dataset was never uploaded, and a job id twice', async () => {
    expect(await s.queue.submit('alice', { jobId: 'j1', name: null, config, datasetFingerprint: 'fp1' }, 100)).toEqual({ ok: false, reason: 'unknown_dataset' });
    expect(await s.queue.putDataset('alice', 'fp1', DATA, 100)).toBe(true);
    expect(await s.queue.putDataset('alice', 'fp1', DATA, 100)).toBe(false);
    expect(await s.queue.getDataset('bob', 'fp1')).toBeNull();
    await submit('j1');
    expect(await s.queue.submit('alice', { jobId: 'j1', name: null, config, datasetFingerprint: 'fp1' }, 100)).toEqual({ ok: false, reason: 'exists' });
    expect(await s.getJob('alice', 'j1')).toMatchObject({ state: 'queued', deviceId: 'server', version: 1 });
    expect((await s.eventsAfter('alice', 0, 10)).map((e) => e.data)).toEqual([
      { job_id: 'j1', state: 'queued', previous_state: null, device_id: 'server', version: 1 },
    ]);
  });

  it('20 runners racing for 10 jobs: each job goes to one runner, and after half of them die none is lost', async () => {
    await s.queue.putDataset('alice', 'fp1', DATA, 0);
    for (let i = 0; i < 10; i++) await submit(`job-${i}`, i);
    const runners = Array.from({ length: 20 }, (_, i) => `runner-${i}`);
    const first = await Promise.all(runners.map((r) => s.queue.claim('alice', r, LEASE_MS, 1000)));
    const leases = first.map((c, i) => ({ runner: runners[i]!, lease: c.lease })).filter((x): x is { runner: string; lease: Lease } => x.lease !== null);
    expect(leases).toHaveLength(10);
    expect(new Set(leases.map((l) => l.lease.jobId)).size).toBe(10);
    expect(leases.every((l) => l.lease.generation === 1 && l.lease.checkpointStep === null)).toBe(true);

    // Every holder trains to step 5 and uploads a checkpoint; the even ones then vanish.
    for (const { runner, lease } of leases) {
      const ref = { jobId: lease.jobId, deviceId: runner, generation: 1 };
      expect(await s.queue.checkpoint('alice', ref, 5, Buffer.from(`ckpt ${lease.jobId}`), 'sha', 2000)).toMatchObject({ ok: true });
    }
    const [dead, alive] = [leases.filter((_, i) => i % 2 === 0), leases.filter((_, i) => i % 2 === 1)];
    for (const { runner, lease } of alive)
      expect(await s.queue.renew('alice', { jobId: lease.jobId, deviceId: runner, generation: 1 }, 8, LEASE_MS, 10_000)).toMatchObject({ ok: true, leaseUntil: 20_000 });

    // The dead runners' leases ran out at 11 000 (a checkpoint does not extend a lease): the other ten runners race for what is free.
    const idle = runners.filter((r) => !leases.some((l) => l.runner === r));
    const second = await Promise.all(idle.map((r) => s.queue.claim('alice', r, LEASE_MS, 12_001)));
    const taken = second.map((c, i) => ({ runner: idle[i]!, lease: c.lease })).filter((x): x is { runner: string; lease: Lease } => x.lease !== null);
    expect(taken.map((t) => t.lease.jobId).sort()).toEqual(dead.map((d) => d.lease.jobId).sort());
    expect(taken.every((t) => t.lease.generation === 2 && t.lease.checkpointStep === 5)).toBe(true);

    // A dead runner that comes back is fenced: it can neither renew, upload nor finish.
    for (const { runner, lease } of dead) {
      const ref = { jobId: lease.jobId, deviceId: runner, generation: 1 };
      expect(await s.queue.renew('alice', ref, 9, LEASE_MS, 12_002)).toEqual({ ok: false, reason: 'lease_lost' });
      expect(await s.queue.checkpoint('alice', ref, 9, Buffer.from('stale'), 'x', 12_002)).toEqual({ ok: false, reason: 'lease_lost' });
      expect(await s.queue.finish('alice', ref, 'completed', 9, null, 12_002)).toEqual({ ok: false, reason: 'lease_lost' });
      expect((await s.queue.getCheckpoint('alice', lease.jobId))?.bytes.toString()).toBe(`ckpt ${lease.jobId}`);
    }
    for (const { runner, lease } of [...alive.map((a) => ({ ...a, gen: 1 })), ...taken.map((t) => ({ ...t, gen: 2 }))]) {
      const ref = { jobId: lease.jobId, deviceId: runner, generation: lease.generation };
      expect(await s.queue.finish('alice', ref, 'completed', 10, null, 13_000)).toMatchObject({ ok: true });
    }
    const jobs = await s.listJobs('alice', { limit: 100 });
    expect(jobs.map((j) => j.state)).toEqual(Array(10).fill('completed'));
    expect((await s.queue.claim('alice', 'late', LEASE_MS, 14_000)).lease).toBeNull();

    const handed = dead[0]!;
    const info = await s.queue.info('alice', handed.lease.jobId);
    expect(info?.runs).toEqual([
      { generation: 1, deviceId: handed.runner, fromStep: 0, toStep: 5, startedAt: 1000, endedAt: 12_001, endReason: 'lease_expired' },
      expect.objectContaining({ generation: 2, fromStep: 5, toStep: 10, endReason: 'completed' }),
    ]);
    const states = (await s.eventsAfter('alice', 0, 1000)).filter((e) => e.jobId === handed.lease.jobId).map((e) => e.data.state);
    expect(states).toEqual(['queued', 'running', 'queued', 'running', 'completed']);
  });

  it('returns an expired job to the queue on the timer too, and asks the lease holder to pause or cancel', async () => {
    await s.queue.putDataset('alice', 'fp1', DATA, 0);
    await submit('j1');
    await submit('j2');
    const a = (await s.queue.claim('alice', 'dev-a', LEASE_MS, 1000)).lease!;
    const b = (await s.queue.claim('alice', 'dev-b', LEASE_MS, 1000)).lease!;
    expect(await s.queue.expireAll(10_999)).toEqual([]);
    await s.queue.renew('alice', { jobId: b.jobId, deviceId: 'dev-b', generation: 1 }, 1, LEASE_MS, 5000);
    const expired = await s.queue.expireAll(11_000);
    expect(expired).toHaveLength(1);
    expect(expired[0]!.events[0]!.data).toMatchObject({ job_id: a.jobId, state: 'queued', previous_state: 'running', reason: 'lease_expired' });

    const refB = { jobId: b.jobId, deviceId: 'dev-b', generation: 1 };
    const pause = await s.queue.pause('alice', b.jobId, 6000);
    expect(pause).toMatchObject({ outcome: 'requested' });
    expect(pause.outcome === 'requested' && pause.events[0]).toMatchObject({ type: 'job_pause_requested', data: { job_id: b.jobId, device_id: 'dev-b', generation: 1 } });
    expect(await s.queue.renew('alice', refB, 2, LEASE_MS, 6001)).toMatchObject({ ok: true, pauseRequested: true, cancelRequested: false });
    expect(await s.queue.finish('alice', refB, 'paused', 2, null, 6002)).toMatchObject({ ok: true });
    expect((await s.getJob('alice', b.jobId))?.state).toBe('paused');
    expect(await s.queue.resume('alice', b.jobId, 6003)).toMatchObject({ outcome: 'done', state: 'queued' });

    const again = (await s.queue.claim('alice', 'dev-c', LEASE_MS, 12_000)).lease!;
    expect(again.jobId).toBe(a.jobId);
    expect(await s.requestCancel('alice', a.jobId, 12_001)).toMatchObject({ outcome: 'requested', deviceId: 'dev-c' });
    // Without a length, a renewal extends by the one asked for at the claim.
    expect(await s.queue.renew('alice', { jobId: a.jobId, deviceId: 'dev-c', generation: 2 }, 1, null, 12_002)).toMatchObject({ cancelRequested: true, leaseUntil: 22_002 });
    expect(await s.queue.pause('alice', 'nope', 1)).toEqual({ outcome: 'not_found' });
  });
});
