// The JobStore contract: every store implementation (SQLite on a file and in memory, PostgreSQL
// when LATHE_TEST_DATABASE_URL is set: tests/server/pg.ts) must pass this one suite. Only the
// store is exercised; no HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobStore } from '../../server/store/job-store';
import { change } from './helpers';
import { implementations, OPTS, type Harness } from './store-harness';

describe.each(implementations)('JobStore contract: %s', (_name, open) => {
  let h: Harness;
  let started: JobStore;
  beforeEach(async () => {
    h = open();
    await h.ready;
    started = h.store;
  });
  const start = () => started;
  afterEach(async () => h.dispose());

  it('applies a device’s changes in order and answers with the last applied seq', async () => {
    const s = start();
    const r = await s.push('alice', 'dev-a', [change(1, 'j1', 'queued'), change(2, 'j1', 'running')], 100);
    expect(r).toMatchObject({ ok: true, lastAppliedSeq: 2, applied: [1, 2], duplicates: [], conflicts: [] });
    const job = await s.getJob('alice', 'j1');
    expect(job).toMatchObject({ id: 'j1', state: 'running', version: 2, deviceId: 'dev-a', name: 'xor run' });
    expect(job?.snapshot.state).toBe('running');
  });

  it('acknowledges a replayed seq again and changes nothing', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'queued'), change(2, 'j1', 'running')], 100);
    const before = await s.eventBounds('alice');
    const r = await s.push('alice', 'dev-a', [change(1, 'j1', 'failed', 9), change(2, 'j1', 'failed', 9)], 200);
    expect(r).toMatchObject({ ok: true, lastAppliedSeq: 2, applied: [], duplicates: [1, 2] });
    expect((await s.getJob('alice', 'j1'))?.state).toBe('running');
    expect(await s.eventBounds('alice')).toEqual(before);
  });

  it('refuses a gap, naming the expected seq, and applies nothing of that push', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'queued')], 100);
    const r = await s.push('alice', 'dev-a', [change(2, 'j1', 'running'), change(4, 'j1', 'completed')], 200);
    expect(r).toEqual({ ok: false, reason: 'seq_gap', expectedSeq: 3, lastAppliedSeq: 1 });
    expect((await s.getJob('alice', 'j1'))?.state).toBe('queued');
    const first = await s.push('alice', 'dev-b', [change(3, 'j2', 'queued')], 100);
    expect(first).toMatchObject({ ok: false, expectedSeq: 1, lastAppliedSeq: 0 });
  });

  it('keeps each device’s sequence apart', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'queued')], 100);
    const r = await s.push('alice', 'dev-b', [change(1, 'j2', 'queued')], 100);
    expect(r).toMatchObject({ ok: true, lastAppliedSeq: 1, applied: [1] });
  });

  it('keeps a lower version out, reports it, and still advances the seq', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'running', 5)], 100);
    const r = await s.push('alice', 'dev-b', [change(1, 'j1', 'queued', 3), change(2, 'j1', 'paused', 5)], 200);
    expect(r).toMatchObject({
      ok: true,
      lastAppliedSeq: 2,
      applied: [2],
      conflicts: [{ seq: 1, jobId: 'j1', version: 3, storedVersion: 5, reason: 'stale_version' }],
    });
    expect(await s.getJob('alice', 'j1')).toMatchObject({ state: 'paused', version: 5, deviceId: 'dev-b' });
  });

  it('writes a gap-free per-user event sequence with previous states', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'queued'), change(2, 'j1', 'running')], 100);
    await s.push('bob', 'dev-x', [change(1, 'j9', 'queued')], 100);
    const events = await s.eventsAfter('alice', 0, 100);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const status = events.filter((e) => e.type === 'job_status_changed').map((e) => e.data);
    expect(status).toEqual([
      { job_id: 'j1', state: 'queued', previous_state: null, device_id: 'dev-a', version: 1 },
      { job_id: 'j1', state: 'running', previous_state: 'queued', device_id: 'dev-a', version: 2 },
    ]);
    expect((await s.eventsAfter('bob', 0, 100)).map((e) => e.seq)).toEqual([1]);
    expect((await s.eventsAfter('alice', 2, 100)).every((e) => e.seq > 2)).toBe(true);
  });

  it('throttles job_progress to one per interval per job and flushes the held one', async () => {
    const s = start();
    const p = (seq: number, percent: number, now: number) =>
      s.push('alice', 'dev-a', [change(seq, 'j1', 'running', seq, { progress: { stage: 'training', percent } })], now);
    await p(1, 1, 1000);
    const held = await p(2, 2, 1500);
    expect(held.ok && held.throttledJobs).toEqual(['j1']);
    const flushed = await s.flushProgress('alice', 'j1', 2000);
    expect(flushed).toMatchObject({ type: 'job_progress', data: { job_id: 'j1', percent: 2, stage: 'training' } });
    expect(await s.flushProgress('alice', 'j1', 2100)).toBeNull();
    await p(3, 3, 3100);
    const progress = (await s.eventsAfter('alice', 0, 100)).filter((e) => e.type === 'job_progress');
    expect(progress.map((e) => e.data.percent)).toEqual([1, 2, 3]);
  });

  it('takes the newest log entry as last_log, cut to 80 characters', async () => {
    const s = start();
    const long = 'x'.repeat(200);
    await s.push('alice', 'dev-a', [change(1, 'j1', 'running', 1, {
      log: [{ at: 5, kind: 'checkpoint', text: long }, { at: 2, kind: 'started', text: 'old' }],
    })], 100);
    const job = await s.getJob('alice', 'j1');
    expect(job?.progress.lastLog).toHaveLength(80);
    expect(job?.progress.lastLog?.endsWith('…')).toBe(true);
  });

  it('cancels a queued job at once, one version ahead, so the device’s older copy is kept out', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'queued', 4)], 100);
    const r = await s.requestCancel('alice', 'j1', 200);
    expect(r).toMatchObject({ outcome: 'cancelled', previousState: 'queued', version: 5 });
    expect(await s.getJob('alice', 'j1')).toMatchObject({ state: 'cancelled', version: 5 });
    const late = await s.push('alice', 'dev-a', [change(2, 'j1', 'running', 4)], 300);
    expect(late.ok && late.conflicts[0]).toMatchObject({ reason: 'stale_version', storedVersion: 5 });
  });

  it('asks the running device to cancel, and asks again if a queued job it started turns up running', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'running')], 100);
    const r = await s.requestCancel('alice', 'j1', 200);
    expect(r).toMatchObject({ outcome: 'requested', deviceId: 'dev-a' });
    expect(r.outcome === 'requested' && r.events[0]).toMatchObject({ type: 'job_cancel_requested', data: { job_id: 'j1', device_id: 'dev-a' } });
    expect((await s.getJob('alice', 'j1'))?.cancelRequestedAt).toBe(200);
    await s.push('alice', 'dev-a', [change(2, 'j1', 'cancelled')], 300);
    expect(await s.getJob('alice', 'j1')).toMatchObject({ state: 'cancelled', cancelRequestedAt: null });
    expect(await s.requestCancel('alice', 'j1', 400)).toEqual({ outcome: 'finished', state: 'cancelled' });
    expect(await s.requestCancel('alice', 'nope', 400)).toEqual({ outcome: 'not_found' });
  });

  it('deletes a job: gone from get and list, announced, and later pushes of it are kept out', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'completed')], 100);
    const d = await s.deleteJob('alice', 'j1', 200);
    expect(d.deleted && d.events[0]).toMatchObject({ type: 'job_deleted', data: { job_id: 'j1' } });
    expect(await s.getJob('alice', 'j1')).toBeNull();
    expect(await s.listJobs('alice', { limit: 10 })).toEqual([]);
    const late = await s.push('alice', 'dev-a', [change(2, 'j1', 'completed', 9)], 300);
    expect(late.ok && late.conflicts[0]).toMatchObject({ reason: 'deleted' });
    expect(await s.deleteJob('alice', 'j1', 400)).toEqual({ deleted: false });
  });

  it('lists jobs by state, device and time, page by page, and never another user’s', async () => {
    const s = start();
    for (let i = 1; i <= 5; i++) await s.push('alice', 'dev-a', [change(i, `a${i}`, i % 2 ? 'running' : 'completed')], i * 10);
    await s.push('alice', 'dev-b', [change(1, 'b1', 'running')], 60);
    await s.push('bob', 'dev-x', [change(1, 'x1', 'running')], 60);
    expect((await s.listJobs('alice', { limit: 100 })).map((j) => j.id)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1']);
    expect((await s.listJobs('alice', { limit: 100, state: 'completed' })).map((j) => j.id)).toEqual(['a2', 'a4']);
    expect((await s.listJobs('alice', { limit: 100, deviceId: 'dev-b' })).map((j) => j.id)).toEqual(['b1']);
    expect((await s.listJobs('alice', { limit: 100, updatedSince: 40 })).map((j) => j.id)).toEqual(['a4', 'a5', 'b1']);
    const page1 = await s.listJobs('alice', { limit: 4 });
    const last = page1.at(-1)!;
    const page2 = await s.listJobs('alice', { limit: 4, after: { updatedAt: last.updatedAt, id: last.id } });
    expect([...page1, ...page2].map((j) => j.id)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1']);
    expect(await s.getJob('bob', 'a1')).toBeNull();
  });

  it('records a result for a known job only', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'completed')], 100);
    expect(await s.setResult('alice', 'j1', { sha256: 'ab'.repeat(32), bytes: 10, uploadedAt: 5 })).toBe(true);
    expect(await s.setResult('alice', 'nope', { sha256: 'ab'.repeat(32), bytes: 10, uploadedAt: 5 })).toBe(false);
    expect((await s.getJob('alice', 'j1'))?.result).toEqual({ sha256: 'ab'.repeat(32), bytes: 10, uploadedAt: 5 });
  });

  it('writes one webhook delivery per URL on a terminal state, leased while claimed', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'running'), change(2, 'j1', 'completed')], 100);
    const claimed = await s.claimDeliveries(100, 10, 30_000);
    expect(claimed.map((d) => d.url).sort()).toEqual([...OPTS.webhookUrls].sort());
    expect(new Set(claimed.map((d) => d.msgId)).size).toBe(1);
    expect(JSON.parse(claimed[0]!.body)).toMatchObject({ type: 'job.completed', data: { job_id: 'j1', state: 'completed' } });
    expect(await s.claimDeliveries(200, 10, 30_000)).toEqual([]);
    await s.markDelivered(claimed[0]!.id, 300);
    await s.markAttemptFailed(claimed[1]!.id, 'HTTP 500', 5000);
    expect(await s.claimDeliveries(4999, 10, 30_000)).toEqual([]);
    const retry = await s.claimDeliveries(5000, 10, 30_000);
    expect(retry).toMatchObject([{ id: claimed[1]!.id, attempts: 2 }]);
    await s.markAttemptFailed(retry[0]!.id, 'HTTP 500', null);
    expect(await s.deliveryStatus(claimed[0]!.id)).toEqual({ status: 'delivered', attempts: 1 });
    expect(await s.deliveryStatus(claimed[1]!.id)).toEqual({ status: 'failed', attempts: 2 });
  });

  it('claims a delivery again once the lease of a claimer that vanished runs out', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'failed')], 100);
    expect(await s.claimDeliveries(100, 10, 1000)).toHaveLength(2);
    expect(await s.claimDeliveries(1099, 10, 1000)).toHaveLength(0);
    expect(await s.claimDeliveries(1100, 10, 1000)).toHaveLength(2);
  });

  it('prunes old events without restarting the sequence', async () => {
    const s = start();
    await s.push('alice', 'dev-a', [change(1, 'j1', 'queued')], 100);
    await s.push('alice', 'dev-a', [change(2, 'j1', 'running')], 5000);
    expect(await s.pruneEvents(1000)).toBe(1);
    expect(await s.eventBounds('alice')).toEqual({ last: 2, oldest: 2 });
    await s.push('alice', 'dev-a', [change(3, 'j1', 'paused')], 6000);
    expect(await s.eventBounds('alice')).toEqual({ last: 3, oldest: 2 });
  });

  it('keeps jobs, device sequences, events and deliveries across a reopen', async () => {
    const s = start();
    if (!h.reopen) return; // an in-memory store cannot outlive close()
    await s.push('alice', 'dev-a', [change(1, 'j1', 'running'), change(2, 'j1', 'completed')], 100);
    const s2 = await h.reopen();
    expect((await s2.getJob('alice', 'j1'))?.state).toBe('completed');
    expect(await s2.push('alice', 'dev-a', [change(2, 'j1', 'completed')], 200)).toMatchObject({ duplicates: [2] });
    expect((await s2.eventBounds('alice')).last).toBe(3);
    expect(await s2.claimDeliveries(300, 10, 1000)).toHaveLength(2);
  });
});
