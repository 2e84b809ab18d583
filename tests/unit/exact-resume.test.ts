// Exact resume: however a run is interrupted, resuming it ends with the same weights, bit for bit on cpu.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { updateJob, listCheckpoints } from '../../shared/db';
import { transition, type JobRecord } from '../../shared/jobs';
import { finalWeights, freshDbName, makeHarness, runUninterrupted, TEST_CONFIG, xor, expectBitIdentical } from './harness';
import type { TrainConfig } from '../../shared/config';

/** TEST_CONFIG on xor(): 4 epochs of 6 steps. */
const TOTAL_STEPS = 24;

/** A random step strictly inside a run of `total` steps, leaving room for the stop to land. */
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
    const stopAt = randomStep(TOTAL_STEPS);
    let paused: Promise<JobRecord> | null = null;
    // Paused from the checkpoint event itself, so the pause lands within one step, whatever the speed.
    const h = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 }, (e, api) => {
      if (!paused && e.type === 'job' && (e.job.checkpointStep ?? 0) >= stopAt) paused = api.pause(e.job.id);
    });
    const job = await h.api.submit({ name: 'p', config: TEST_CONFIG, dataset: xor() });
    await h.api.start(job.id);
    await h.waitForState(job.id, ['paused']);
    const p = await (paused as unknown as Promise<JobRecord>);
    expect(p.state).toBe('paused');
    expect(p.checkpointStep).toBeGreaterThanOrEqual(stopAt);
    expect(p.checkpointStep).toBeLessThanOrEqual(stopAt + 1);
    expect(await h.api.resume(job.id)).not.toBeNull();
    await h.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(h.db, job.id), reference);
  });

  it('pause, then a reload (a fresh worker) loading the checkpoint, ends bit-identical', async () => {
    const name = freshDbName();
    const stopAt = randomStep(TOTAL_STEPS);
    let pausing: Promise<JobRecord> | null = null;
    const first = await makeHarness(name, { checkpointIntervalSec: 0 }, (e, api) => {
      if (!pausing && e.type === 'job' && (e.job.checkpointStep ?? 0) >= stopAt) pausing = api.pause(e.job.id);
    });
    const job = await first.api.submit({ name: 'r', config: TEST_CONFIG, dataset: xor() });
    await first.api.start(job.id);
    await first.waitForState(job.id, ['paused']);
    const paused = await (pausing as unknown as Promise<JobRecord>);
    const second = await makeHarness(name);
    const resumed = await second.api.start(job.id);
    expect(resumed.resumedFromStep).toBe(paused.checkpointStep);
    await second.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(second.db, job.id), reference);
  });

  it('cancel, then resume (re-queue and start), ends bit-identical', async () => {
    const name = freshDbName();
    const stopAt = randomStep(TOTAL_STEPS);
    let cancelling: Promise<JobRecord> | null = null;
    const h = await makeHarness(name, { checkpointIntervalSec: 0 }, (e, api) => {
      if (!cancelling && e.type === 'job' && (e.job.checkpointStep ?? 0) >= stopAt) cancelling = api.cancel(e.job.id);
    });
    const job = await h.api.submit({ name: 'c', config: TEST_CONFIG, dataset: xor() });
    await h.api.start(job.id);
    await h.waitForState(job.id, ['cancelled']);
    const cancelled = await (cancelling as unknown as Promise<JobRecord>);
    expect(cancelled.state).toBe('cancelled');
    await updateJob(h.db, job.id, (j) => transition(j, 'queued', Date.now()));
    const again = await h.api.start(job.id);
    expect(again.resumedFromStep).toBe(cancelled.checkpointStep);
    await h.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(h.db, job.id), reference);
  });

  it('a killed worker (progress past the checkpoint lost, job left running) resumes bit-identical', async () => {
    const name = freshDbName();
    const config: TrainConfig = { ...TEST_CONFIG, batchSize: 4, epochs: 5 };
    const ref = (await runUninterrupted(config)).weights;
    // A breakpoint puts the only checkpoint at a random step; the run then goes on (at least one
    // step: the loop steps before it first yields) and is stopped without a checkpoint, which
    // is what a killed worker leaves: steps past the checkpoint that are lost.
    const checkpointAt = 1 + Math.floor(Math.random() * 40);
    const h = await makeHarness(name, { checkpointIntervalSec: 3600 });
    const job = await h.api.submit({ name: 'k', config, dataset: xor(), breakpoint: { kind: 'step', at: checkpointAt } });
    await h.api.start(job.id);
    await h.waitForState(job.id, ['paused']);
    await h.api.resume(job.id);
    const stopped = await h.api.cancel(job.id);
    await updateJob(h.db, job.id, (j) => ({ ...j, state: 'running', finishedAt: null }));
    const checkpointStep = (await listCheckpoints(h.db, job.id))[0]!.cursor.globalStep;
    expect(checkpointStep).toBe(checkpointAt);
    expect(stopped.progress.step).toBeGreaterThan(checkpointStep);
    const fresh = await makeHarness(name);
    const recovered = await fresh.api.start(job.id);
    expect(recovered.crashCount).toBe(1);
    expect(recovered.resumedFromStep).toBe(checkpointStep);
    await fresh.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(fresh.db, job.id), ref);
  });
});
