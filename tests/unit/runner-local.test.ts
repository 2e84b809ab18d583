// The runner's local copies through the real worker (cpu, fake-indexeddb): a server job keeps the
// server's id and stays out of the sync outbox; its checkpoint, claimed on another device that
// still holds an older copy, replaces that copy and its checkpoints, drops the breakpoint it is
// past, and ends bit-identical to an uninterrupted run.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { listCheckpoints } from '../../shared/db';
import { enableSync, outboxCount } from '../../shared/sync-outbox';
import { expectBitIdentical, finalWeights, freshDbName, makeHarness, runUninterrupted, storeDataset, TEST_CONFIG, xor } from './harness';

let reference: Float32Array;
beforeAll(async () => {
  await tf.setBackend('cpu');
  reference = (await runUninterrupted()).weights;
});

describe('a server job’s local copy', () => {
  it('takes the server’s id, stays out of the outbox, and resumes on another device from its package exactly', async () => {
    const a = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
    await enableSync(a.db, { serverUrl: '', token: 't'.repeat(20) }, 1);
    const mine = await a.api.submit({ name: 'own job', config: TEST_CONFIG, dataset: xor() });
    expect(await outboxCount(a.db), 'the device’s own job is queued for the server').toBe(1);
    const claimed = await a.api.submit({
      name: 'server job', config: TEST_CONFIG, datasetId: mine.datasetId, breakpoint: { kind: 'step', at: 10 }, serverJob: { id: 'srv-1', generation: 1 },
    });
    expect(claimed).toMatchObject({ id: 'srv-1', serverJob: { generation: 1 }, state: 'queued' });
    await a.api.start('srv-1');
    const paused = await a.waitForState('srv-1', ['paused', 'failed']);
    expect(paused.checkpointStep).toBe(10);
    expect(await outboxCount(a.db), 'none of the server job’s writes were queued').toBe(1);
    const pkg = await a.api.exportPackage('srv-1', { includeDataset: false });

    // Device B trained an earlier turn of the same job to step 4 and still holds it.
    const b = await makeHarness(freshDbName(), { checkpointIntervalSec: 0 });
    const datasetId = await storeDataset(b, xor());
    await b.api.submit({ name: 'server job', config: TEST_CONFIG, datasetId, breakpoint: { kind: 'step', at: 4 }, serverJob: { id: 'srv-1', generation: 1 } });
    await b.api.start('srv-1');
    await b.waitForState('srv-1', ['paused']);
    await b.api.cancel('srv-1'); // as the runner does, so the worker forgets the copy it held in memory
    const imported = await b.api.importFiles([{ name: 'srv-1.lathe', bytes: pkg.bytes }], {
      serverJob: { id: 'srv-1', generation: 2, name: 'server job', breakpoint: { kind: 'step', at: 10 } },
    });
    expect(imported).toMatchObject({ kind: 'package', job: { id: 'srv-1', name: 'server job', state: 'paused', checkpointStep: 10, serverJob: { generation: 2 } } });
    expect((await listCheckpoints(b.db, 'srv-1')).map((c) => c.cursor.globalStep)).toEqual([10]);
    await b.api.start('srv-1');
    const done = await b.waitForState('srv-1', ['completed', 'failed', 'paused']);
    expect(done.state).toBe('completed');
    expect(done.log?.some((e) => /breakpoint at step 10 was already passed/.test(e.text))).toBe(true);
    expectBitIdentical(await finalWeights(b.db, 'srv-1'), reference);
  });
});
