// Checkpoints: round trip, checksum fallback, refused resumes, storage full, and no leaked tensors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { getJob, listCheckpoints, putJob, updateJob, type CheckpointRecord } from '../../shared/db';
import { transition, type MetricPoint } from '../../shared/jobs';
import { restoreInto, verifyCheckpoint } from '../../workers/checkpoint-codec';
import { buildModel, buildOptimizer } from '../../workers/model';
import { finalWeights, freshDbName, makeHarness, runUninterrupted, TEST_CONFIG, xor, type Harness } from './harness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Starts a job with a checkpoint at every step and pauses it once `steps` checkpoints exist. */
async function pausedAfter(h: Harness, steps: number, config = TEST_CONFIG) {
  const job = await h.api.submit({ name: 'job', config, dataset: xor() });
  await h.api.start(job.id);
  while (!h.events.some((e) => e.type === 'job' && (e.job.checkpointStep ?? 0) >= steps)) await new Promise((r) => setTimeout(r, 1));
  return h.api.pause(job.id);
}

describe('checkpoints', () => {
  it('a checkpoint round-trips: restored weights, Adam moments and counters equal the saved ones', async () => {
    const h = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
    const paused = await pausedAfter(h, 3);
    const [newest] = await listCheckpoints(h.db, paused.id);
    expect(await verifyCheckpoint(newest!)).toBe(true);
    expect(newest!.cursor.globalStep).toBe(paused.checkpointStep);
    expect(newest!.byteLength).toBe(newest!.weightData.byteLength + newest!.optimizer.data.byteLength);
    expect(newest!.optimizer.specs.map((s) => s.name)[0]).toBe('iter');
    expect(newest!.optimizer.scalars.accBeta1).toBeCloseTo(0.9 ** (newest!.cursor.globalStep + 1), 6);

    const model = buildModel(TEST_CONFIG, { numFeatures: 2, numOutputs: 2 });
    const optimizer = buildOptimizer('adam', TEST_CONFIG.learningRate);
    const state = await restoreInto(newest!, model, optimizer, 'adam');
    expect(state.cursor).toEqual(newest!.cursor);
    const restoredWeights = new Float32Array(model.getWeights().flatMap((w) => Array.from(w.dataSync())));
    expect(Array.from(restoredWeights)).toEqual(Array.from(new Float32Array(newest!.weightData)));
    const opt = await optimizer.getWeights();
    expect(opt.length).toBe(newest!.optimizer.specs.length);
    expect((await opt[0]!.tensor.data())[0]).toBe(newest!.cursor.globalStep);
    model.dispose();
    optimizer.dispose();
    await h.api.cancel(paused.id);
  });

  it('keeps only the last two checkpoints of a job', async () => {
    const h = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
    const paused = await pausedAfter(h, 5);
    const kept = await listCheckpoints(h.db, paused.id);
    expect(kept.map((c) => c.cursor.globalStep)).toEqual([paused.checkpointStep, paused.checkpointStep! - 1]);
    await h.api.cancel(paused.id);
  });

  it('a newest checkpoint that fails its checksum falls back to the previous one, and the run still ends exact', async () => {
    const reference = (await runUninterrupted()).weights;
    const name = freshDbName();
    const first = await makeHarness(name, { checkpointIntervalSec: 0 });
    const paused = await pausedAfter(first, 4);
    const [newest, previous] = await listCheckpoints(first.db, paused.id);
    const damaged: CheckpointRecord = { ...newest!, weightData: newest!.weightData.slice(0) };
    const bytes = new Uint8Array(damaged.weightData);
    bytes[5] = bytes[5]! ^ 0xff;
    await first.db.put('checkpoints', damaged);
    expect(await verifyCheckpoint(damaged)).toBe(false);

    const second = await makeHarness(name);
    const resumed = await second.api.start(paused.id);
    expect(resumed.state).toBe('running');
    expect(resumed.resumedFromStep).toBe(previous!.cursor.globalStep);
    expect(resumed.notice).toMatch(/failed its checksum/);
    await second.waitForState(paused.id, ['completed']);
    expect(Buffer.from((await finalWeights(second.db, paused.id)).buffer).equals(Buffer.from(reference.buffer))).toBe(true);
  });

  it('refuses to resume, with a clear message, when the training config changed', async () => {
    const name = freshDbName();
    const first = await makeHarness(name, { checkpointIntervalSec: 0 });
    const paused = await pausedAfter(first, 2);
    await updateJob(first.db, paused.id, (j) => ({ ...j, config: { ...j.config, learningRate: 0.5 } }));
    const second = await makeHarness(name);
    const refused = await second.api.start(paused.id);
    expect(refused.state).toBe('failed');
    expect(refused.error?.message).toMatch(/training configuration no longer matches/);
    expect(await listCheckpoints(second.db, paused.id)).toHaveLength(2);
  });

  it('refuses to resume when the checkpoint was made from other data', async () => {
    const name = freshDbName();
    const first = await makeHarness(name, { checkpointIntervalSec: 0 });
    const paused = await pausedAfter(first, 2);
    const [newest, previous] = await listCheckpoints(first.db, paused.id);
    // Re-sign both checkpoints with another fingerprint, as an import from elsewhere would carry.
    for (const c of [newest!, previous!]) {
      const { checksum: _drop, ...body } = { ...c, datasetFingerprint: 'f'.repeat(64) };
      void _drop;
      const { sha256Hex } = await import('../../shared/hash');
      const { canonicalJson } = await import('../../shared/config');
      const { weightData, optimizer, ...rest } = body;
      const meta = new TextEncoder().encode(canonicalJson({ ...rest, optimizer: { ...optimizer, data: undefined } }));
      const checksum = await sha256Hex(new Uint8Array(weightData), new Uint8Array(optimizer.data), meta);
      await first.db.put('checkpoints', { ...body, checksum });
    }
    const second = await makeHarness(name);
    const refused = await second.api.start(paused.id);
    expect(refused.state).toBe('failed');
    expect(refused.error?.message).toMatch(/dataset differs/);
  });

  it('a full storage while checkpointing pauses the job with a clear message and keeps the previous checkpoint', async () => {
    const h = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
    const job = await h.api.submit({ name: 'quota', config: { ...TEST_CONFIG, epochs: 50 }, dataset: xor() });
    const store = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } }).IDBObjectStore.prototype;
    const realPut = store.put;
    let full = false;
    store.put = function (this: { name: string }, ...args: unknown[]) {
      if (full && this.name === 'checkpoints') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.apply(this, args);
    };
    try {
      await h.api.start(job.id);
      while (!h.events.some((e) => e.type === 'job' && (e.job.checkpointStep ?? 0) >= 3)) await new Promise((r) => setTimeout(r, 1));
      const before = (await listCheckpoints(h.db, job.id)).map((c) => c.seq);
      full = true;
      const paused = await h.waitForState(job.id, ['paused']);
      expect(paused.notice).toMatch(/storage is full/i);
      const after = await listCheckpoints(h.db, job.id);
      expect(after.length).toBeGreaterThanOrEqual(1);
      // At most the one write already in flight when storage filled up can have landed.
      expect(Math.max(...after.map((c) => c.seq))).toBeLessThanOrEqual(Math.max(...before) + 1);
      for (const c of after) expect(await verifyCheckpoint(c)).toBe(true);
      expect((await getJob(h.db, job.id))?.state).toBe('paused');
    } finally {
      store.put = realPut;
    }
    await h.api.cancel(job.id);
  });
});

describe('memory', () => {
  it('does not leak tensors across epochs, and cancel returns to the baseline', async () => {
    const h = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
    const baseline = tf.memory().numTensors;
    const counts: number[] = [];
    const job = await h.api.submit({ name: 'leak', config: { ...TEST_CONFIG, epochs: 30 }, dataset: xor() });
    await h.api.start(job.id);
    // Sample at checkpoint writes (every step), skipping the first epochs while Adam creates its moments.
    while (counts.length < 40) {
      const checkpoints = h.events.filter((e) => e.type === 'job' && (e.job.checkpointStep ?? 0) > 6).length;
      if (checkpoints > counts.length) counts.push(tf.memory().numTensors);
      await new Promise((r) => setImmediate(r));
    }
    const cancelled = await h.api.cancel(job.id);
    expect(cancelled.state).toBe('cancelled');
    expect(Math.max(...counts) - Math.min(...counts)).toBe(0);
    expect(tf.memory().numTensors).toBe(baseline);
    expect(await listCheckpoints(h.db, job.id)).not.toHaveLength(0);
  });

  it('a completed job releases every tensor it made', async () => {
    const baseline = tf.memory().numTensors;
    await runUninterrupted();
    expect(tf.memory().numTensors).toBe(baseline);
  });
});

describe('crash recovery', () => {
  it('a job whose worker keeps crashing fails after three restarts instead of looping', async () => {
    const h = await makeHarness(freshDbName());
    const job = await h.api.submit({ name: 'crashy', config: TEST_CONFIG, dataset: xor() });
    await putJob(h.db, { ...transition(job, 'running', Date.now()), crashCount: 3 });
    const failed = await h.api.start(job.id);
    expect(failed.state).toBe('failed');
    expect(failed.error?.message).toMatch(/crashed 4 times/);
  });
});

describe('metric history', () => {
  it('stays bounded on long runs by thinning old step points first, keeping every epoch point', async () => {
    const { thinHistory } = await import('../../workers/session');
    const points: MetricPoint[] = Array.from({ length: 4001 }, (_, i) => ({
      kind: i % 4 === 3 ? 'epoch' : 'step',
      epoch: Math.floor(i / 4),
      step: i,
      loss: 1 / (i + 1),
      metrics: {},
      timeMs: i,
    }));
    const thinned = thinHistory(points);
    expect(thinned.length).toBeLessThan(points.length);
    expect(thinned.filter((p) => p.kind === 'epoch')).toHaveLength(points.filter((p) => p.kind === 'epoch').length);
    expect(thinned.slice(-2000)).toEqual(points.slice(-2000));
    expect(thinned.map((p) => p.step)).toEqual([...thinned.map((p) => p.step)].sort((a, b) => a - b));
  });
});
