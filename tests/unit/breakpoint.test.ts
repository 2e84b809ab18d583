// Breakpoints ("pause at step N" / "at the end of epoch N"): the step loop stops at exactly that
// step however fast the machine is, and the paused run resumes to the same weights, bit for bit.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { listCheckpoints } from '../../shared/db';
import { expectBitIdentical, finalWeights, freshDbName, makeHarness, runUninterrupted, TEST_CONFIG, xor } from './harness';

/** TEST_CONFIG on xor(): 128 rows, 96 for training, batches of 16: 4 epochs of 6 steps. */
const STEPS_PER_EPOCH = 6;
const TOTAL_STEPS = 24;

let reference: Float32Array;
beforeAll(async () => {
  await tf.setBackend('cpu');
  reference = (await runUninterrupted()).weights;
});

describe('breakpoints', () => {
  it('a breakpoint at a random step pauses at exactly that step, with a checkpoint there, and Resume ends bit-identical', async () => {
    const at = 1 + Math.floor(Math.random() * (TOTAL_STEPS - 1));
    // Checkpoints only when asked: the pause at the breakpoint must write one by itself.
    const h = await makeHarness(freshDbName(), { checkpointIntervalSec: 3600 });
    const job = await h.api.submit({ name: 'bp', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'step', at } });
    expect(job.breakpoint).toEqual({ kind: 'step', at });
    await h.api.start(job.id);
    const paused = await h.waitForState(job.id, ['paused', 'completed', 'failed']);
    expect(paused.state, `paused at step ${at}`).toBe('paused');
    expect(paused.progress.step).toBe(at);
    expect(paused.checkpointStep).toBe(at);
    expect((await listCheckpoints(h.db, job.id))[0]!.cursor.globalStep).toBe(at);
    expect(paused.breakpoint, 'the breakpoint is consumed when it fires').toBeNull();
    expect(paused.notice).toContain(`step ${at}`);
    expect(await h.api.resume(job.id)).not.toBeNull();
    await h.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(h.db, job.id), reference);
  });

  it('"end of epoch N" pauses after the last step of epoch N', async () => {
    const h = await makeHarness(freshDbName());
    const job = await h.api.submit({ name: 'ep', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'epoch', at: 2 } });
    await h.api.start(job.id);
    const paused = await h.waitForState(job.id, ['paused', 'completed', 'failed']);
    expect(paused.state).toBe('paused');
    expect(paused.progress.stepsPerEpoch).toBe(STEPS_PER_EPOCH);
    expect(paused.progress.step).toBe(2 * STEPS_PER_EPOCH);
    expect(paused.progress.epoch, 'epoch 2 is complete; the next one is epoch index 2').toBe(2);
    expect(paused.history.filter((p) => p.kind === 'epoch').map((p) => p.epoch)).toEqual([1, 2]);
  });

  it('a breakpoint set on a paused job survives a reload and fires in the fresh worker; the run still ends bit-identical', async () => {
    const name = freshDbName();
    const first = await makeHarness(name);
    const job = await first.api.submit({ name: 'r', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'step', at: 4 } });
    await first.api.start(job.id);
    await first.waitForState(job.id, ['paused']);
    const set = await first.api.setBreakpoint(job.id, { kind: 'step', at: 17 });
    expect(set.breakpoint).toEqual({ kind: 'step', at: 17 });
    // A reload: a fresh worker that knows only what IndexedDB holds.
    const second = await makeHarness(name);
    const started = await second.api.start(job.id);
    expect(started.resumedFromStep).toBe(4);
    const again = await second.waitForState(job.id, ['paused', 'completed', 'failed']);
    expect(again.state).toBe('paused');
    expect(again.checkpointStep).toBe(17);
    expect(await second.api.resume(job.id)).not.toBeNull();
    await second.waitForState(job.id, ['completed']);
    expectBitIdentical(await finalWeights(second.db, job.id), reference);
  });

  it('a breakpoint the run has passed, one past the end, or one on a completed job is refused in words', async () => {
    const h = await makeHarness(freshDbName());
    await expect(
      h.api.submit({ name: 'x', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'epoch', at: TEST_CONFIG.epochs } }),
    ).rejects.toThrow(/not before the last epoch/);
    await expect(h.api.submit({ name: 'x', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'step', at: 0 } })).rejects.toThrow(
      /whole number/,
    );
    const job = await h.api.submit({ name: 'y', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'step', at: 5 } });
    await h.api.start(job.id);
    await h.waitForState(job.id, ['paused']);
    await expect(h.api.setBreakpoint(job.id, { kind: 'step', at: 3 })).rejects.toThrow(/already at step 5/);
    await expect(h.api.setBreakpoint(job.id, { kind: 'step', at: TOTAL_STEPS })).rejects.toThrow(/last step \(24\)/);
    await h.api.setBreakpoint(job.id, null);
    expect(await h.api.resume(job.id)).not.toBeNull();
    const done = await h.waitForState(job.id, ['completed']);
    expect(done.progress.step).toBe(TOTAL_STEPS);
    await expect(h.api.setBreakpoint(job.id, { kind: 'step', at: 30 })).rejects.toThrow(/completed/);
  });

  it('a stored breakpoint that a resumed run has already passed is dropped with a notice, not honoured late', async () => {
    const name = freshDbName();
    const first = await makeHarness(name);
    const job = await first.api.submit({ name: 'z', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'step', at: 6 } });
    await first.api.start(job.id);
    await first.waitForState(job.id, ['paused']);
    // Written as an older Lathe, or another tab, might leave it: a breakpoint behind the checkpoint.
    const { updateJob } = await import('../../shared/db');
    await updateJob(first.db, job.id, (j) => ({ ...j, breakpoint: { kind: 'epoch', at: 1 } }));
    const second = await makeHarness(name);
    const started = await second.api.start(job.id);
    expect(started.breakpoint).toBeNull();
    expect(started.notice).toMatch(/already passed/);
    await second.waitForState(job.id, ['completed']);
  });
});
