// The job log: every job keeps a bounded timeline of what happened to it, written by the worker
// (and the scheduler) in the same records the job lives in.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { appendEntry, lastLogLine, LAST_LOG_CHARS, MAX_LOG_ENTRIES, sanitizeLog, type JobLogEntry } from '../../shared/job-log';
import { getJob, updateJob } from '../../shared/db';
import { freshDbName, makeHarness, TEST_CONFIG, xor } from './harness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('job log', () => {
  it('a run that hits a breakpoint, resumes and completes leaves its story in the stored record, in order', async () => {
    const h = await makeHarness(freshDbName(), { checkpointIntervalSec: 3600 });
    const job = await h.api.submit({ name: 'log', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'step', at: 7 } });
    await h.api.start(job.id);
    await h.waitForState(job.id, ['paused']);
    await h.api.resume(job.id);
    await h.waitForState(job.id, ['completed']);
    const stored = (await getJob(h.db, job.id))!;
    const kinds = stored.log!.map((e) => e.kind);
    expect(kinds[0]).toBe('queued');
    expect(kinds[1]).toBe('worker-started');
    expect(kinds).toContain('stage');
    const order = ['breakpoint', 'resumed', 'completed'].map((k) => kinds.indexOf(k as JobLogEntry['kind']));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const checkpoints = stored.log!.filter((e) => e.kind === 'checkpoint');
    expect(checkpoints.map((e) => e.data?.step)).toContain(7);
    expect(checkpoints.every((e) => typeof e.data?.bytes === 'number' && e.data.bytes > 0)).toBe(true);
    expect(stored.log!.find((e) => e.kind === 'worker-started')!.text).toMatch(/started it on cpu/);
    expect(lastLogLine(stored)).toMatch(/^Checkpoint at step 24|^Completed: 24 steps/);
  });

  it('a failed start is logged with its reason', async () => {
    const h = await makeHarness(freshDbName());
    const job = await h.api.submit({ name: 'gone', config: TEST_CONFIG, dataset: xor() });
    // The job's dataset disappears before it starts.
    await h.db.delete('datasets', job.datasetId);
    const failed = await h.api.start(job.id);
    expect(failed.state).toBe('failed');
    expect(failed.log!.at(-1)!.kind).toBe('failed');
    expect(failed.log!.at(-1)!.text).toMatch(/no longer stored/);
  });

  it('a worker that takes over after a crash logs the crash and the step it resumes from', async () => {
    const name = freshDbName();
    const first = await makeHarness(name);
    const job = await first.api.submit({ name: 'crash', config: TEST_CONFIG, dataset: xor(), breakpoint: { kind: 'step', at: 5 } });
    await first.api.start(job.id);
    await first.waitForState(job.id, ['paused']);
    // What a dead worker leaves behind: the record still says running.
    await updateJob(first.db, job.id, (j) => ({ ...j, state: 'running', finishedAt: null }));
    const second = await makeHarness(name);
    const started = await second.api.start(job.id);
    const kinds = started.log!.map((e) => e.kind);
    const crash = kinds.indexOf('crashed');
    expect(kinds.slice(crash, crash + 3)).toEqual(['crashed', 'worker-started', 'resumed']);
    expect(started.log![crash]!.text).toMatch(/from step 5/);
    await second.waitForState(job.id, ['completed']);
  });

  it('stays bounded, dropping routine entries first, and its last line fits 80 characters', () => {
    let log: JobLogEntry[] = [{ at: 0, kind: 'worker-started', text: 'Worker started' }];
    for (let i = 1; i <= MAX_LOG_ENTRIES + 50; i++) log = appendEntry(log, { at: i, kind: 'checkpoint', text: `Checkpoint ${i}` });
    log = appendEntry(log, { at: 9999, kind: 'failed', text: 'x'.repeat(200) });
    expect(log).toHaveLength(MAX_LOG_ENTRIES);
    expect(log[0]!.kind, 'lifecycle entries outlive routine ones').toBe('worker-started');
    // 252 entries, 200 kept: the 52 oldest checkpoints went.
    expect(log[1]!.text).toBe('Checkpoint 53');
    const line = lastLogLine({ log })!;
    expect(line.length).toBe(LAST_LOG_CHARS);
    expect(line.endsWith('…')).toBe(true);
  });

  it('a log from an imported package keeps only well-formed entries', () => {
    const clean = sanitizeLog([
      { at: 1, kind: 'paused', text: 'Paused at step 3' },
      { at: 'x', kind: 'paused', text: 'bad time' },
      { at: 2, kind: 'rm -rf', text: 'unknown kind' },
      { at: 3, kind: 'note', text: 'y'.repeat(10_000) },
      null,
    ]);
    expect(clean.map((e) => e.at)).toEqual([1, 3]);
    expect(clean[1]!.text.length).toBe(500);
    expect(sanitizeLog('not a list')).toEqual([]);
  });
});
