// Exact resume: however a run is interrupted, resuming it ends with the same weights, bit for bit on cpu.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { updateJob, listCheckpoints } from '../../shared/db';
import { transition, type JobRecord } from '../../shared/jobs';
import { finalWeights, freshDbName, makeHarness, runUninterrupted, TEST_CONFIG, xor, expectBitIdentical } from './harness';
import type { TrainConfig } from '../../shared/config';

/** 4 epochs of ceil(48/16)=3 steps: 12 steps in all. A random step strictly inside the run. */
function randomStep(total: number): number {
  return 1 + Math.floor(Math.random() * (total - 2));
}

let reference: Float32Array;
beforeAll(async () => {
  await tf.setBackend('cpu');
  reference = (await runUninterrupted()).weights;
});

describe('exact resume on the cpu backend', () => {
  it('a run is deterministic: two uninterrupted runs with one seed end with identical weights', async () => {
    expectBitIdentical((await runUninterrupted()).weights, reference);
  });

  it('a different seed gives different weights (so the comparison can fail)', async () => {
    const other = await runUninterrupted({ ...TEST_CONFIG, seed: 8 });
    expect(Buffer.from(other.weights.buffer).equals(Buffer.from(reference.buffer))).toBe(false);
  });

  it('pause at a random step, then resume in memory, ends bit-identical', async () => {
    const stopAt = randomStep(12);
    const h = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
    const job = await h.api.submit({ name: 'p', config: TEST_CONFIG, dataset: xor() });
    const paused = new Promise<void>((resolve) => {
      h.events.length = 0;
      const poll = setInterval(() => {
        if (h.events.some((e) => e.type === 'job' && (e.job.checkpointStep ?? 0) >= stopAt)) {
          clearInterval(poll);
          resolve();
        }
      }, 0);
    });
    await h.api.start(job.id);
    await paused;
    const p = await h.api.pause(job.id);
    expect(p.state).toBe('paused');
    expect(p.checkpointStep).toBeGreaterThanOrEqual(stopAt);
    expect(p.checkpointStep).toBeLessThan(12);
    expect(await h.api.resume(job.id)).not.toBeNull();
    await h.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(h.db, job.id), reference);
  });

  it('pause, then a reload (a fresh worker) loading the checkpoint, ends bit-identical', async () => {
    const name = freshDbName();
    const first = await makeHarness(name, { checkpointIntervalSec: 0 });
    const job = await first.api.submit({ name: 'r', config: TEST_CONFIG, dataset: xor() });
    await first.api.start(job.id);
    const stopAt = randomStep(12);
    while (!first.events.some((e) => e.type === 'job' && (e.job.checkpointStep ?? 0) >= stopAt)) await new Promise((r) => setTimeout(r, 1));
    const paused = await first.api.pause(job.id);
    const second = await makeHarness(name);
    const resumed = await second.api.start(job.id);
    expect(resumed.resumedFromStep).toBe(paused.checkpointStep);
    await second.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(second.db, job.id), reference);
  });

  it('cancel, then resume (re-queue and start), ends bit-identical', async () => {
    const name = freshDbName();
    const h = await makeHarness(name, { checkpointIntervalSec: 0 });
    const job = await h.api.submit({ name: 'c', config: TEST_CONFIG, dataset: xor() });
    await h.api.start(job.id);
    const stopAt = randomStep(12);
    while (!h.events.some((e) => e.type === 'job' && (e.job.checkpointStep ?? 0) >= stopAt)) await new Promise((r) => setTimeout(r, 1));
    const cancelled = await h.api.cancel(job.id);
    expect(cancelled.state).toBe('cancelled');
    await updateJob(h.db, job.id, (j) => transition(j, 'queued', Date.now()));
    const again = await h.api.start(job.id);
    expect(again.resumedFromStep).toBe(cancelled.checkpointStep);
    await h.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(h.db, job.id), reference);
  });

  it('a killed worker (progress past the checkpoint lost, job left running) resumes bit-identical', async () => {
    const name = freshDbName();
    // 12 steps an epoch. The first checkpoint lands after step 1; then the cadence goes to an
    // hour, so a kill a few steps later loses the steps since that checkpoint.
    const config: TrainConfig = { ...TEST_CONFIG, batchSize: 4, epochs: 5 };
    const ref = (await runUninterrupted(config)).weights;
    // The first hop fires before the loop's own yield after the checkpoint, so one hop lands no
    // step past it: at least two.
    const extraSteps = 2 + Math.floor(Math.random() * 7);
    let killed: Promise<JobRecord> | null = null;
    const h = await makeHarness(name, { checkpointIntervalSec: 0 }, (e, api) => {
      if (!killed && e.type === 'job' && (e.job.checkpointStep ?? 0) > 0) {
        void api.updateSettings({ backend: 'cpu', checkpointIntervalSec: 3600, historyEverySteps: 5 });
        // Each step yields one macrotask: hop that many to land mid-epoch.
        const hop = (n: number): Promise<void> => (n === 0 ? Promise.resolve() : new Promise((r) => setImmediate(r)).then(() => hop(n - 1)));
        killed = hop(extraSteps).then(() => api.cancel(e.job.id));
      }
    });
    const job = await h.api.submit({ name: 'k', config, dataset: xor() });
    await h.api.start(job.id);
    while (!killed) await new Promise((r) => setTimeout(r, 1));
    const stopped = await (killed as Promise<JobRecord>);
    // What a dead worker leaves behind: the record still says running, the checkpoints are intact.
    await updateJob(h.db, job.id, (j) => ({ ...j, state: 'running', finishedAt: null }));
    const checkpointStep = (await listCheckpoints(h.db, job.id))[0]!.cursor.globalStep;
    expect(checkpointStep).toBe(1);
    expect(stopped.progress.step).toBeGreaterThan(checkpointStep);
    const fresh = await makeHarness(name);
    const recovered = await fresh.api.start(job.id);
    expect(recovered.crashCount).toBe(1);
    expect(recovered.resumedFromStep).toBe(checkpointStep);
    await fresh.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(fresh.db, job.id), ref);
  });
});
