// The worker's side of a user's table, end to end in Node: a CSV becomes one stored dataset (once,
// whatever the number of uploads), trains as a regressor with per-epoch MAE, RMSE and R², answers
// predictions from its live model between steps without changing the run, is evaluated, predicts a
// CSV, resumes exactly, and travels in a package with its columns.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { getDatasetSummary, listDatasets } from '../../shared/db';
import type { TrainConfig } from '../../shared/config';
import type { TablePlan } from '../../shared/table-types';
import { snapshotStores } from '../fixtures/export-helpers';
import { expectBitIdentical, finalWeights, freshDbName, makeHarness, TEST_CONFIG, type Harness } from './harness';

/** price = 3·size − 2·age + a district's premium + noise (deterministic). */
function pricesCsv(rows = 200): string {
  let seed = 5;
  const r = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const lines = ['size,age,district,price'];
  for (let i = 0; i < rows; i++) {
    const size = 30 + r() * 120;
    const age = r() * 50;
    const d = i % 3;
    lines.push(`${i % 40 === 3 ? 'NA' : size.toFixed(1)},${age.toFixed(1)},${['north', 'south', 'east'][d]},${(3 * size - 2 * age + d * 40 + (r() - 0.5) * 20).toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

const csv = (text: string, name = 'prices.csv'): File => new File([text], name, { type: 'text/csv' });
const PLAN: TablePlan = { target: 'price', task: 'regression', columns: { size: 'numeric', age: 'numeric', district: 'categorical' }, missing: 'impute' };
const CONFIG: TrainConfig = { ...TEST_CONFIG, table: PLAN, epochs: 6, batchSize: 16, learningRate: 0.02 };

async function trainPrices(h: Harness, config: TrainConfig = CONFIG) {
  const { dataset } = await h.api.importTable(csv(pricesCsv()));
  const job = await h.api.submit({ name: 'prices', config, datasetId: dataset.id });
  await h.api.start(job.id);
  return { dataset, job: await h.waitForState(job.id, ['completed', 'failed']) };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('a table dataset in the worker', () => {
  it('is stored once by content: a second upload of the same file reuses it; rename touches only its summary', async () => {
    const h = await makeHarness(freshDbName());
    const progress: number[] = [];
    const first = await h.api.importTable(csv(pricesCsv()), (read, total) => progress.push(read / total));
    expect(first.reused).toBe(false);
    expect(progress.at(-1)).toBe(1);
    expect(first.dataset).toMatchObject({ kind: 'table', rows: 200, source: 'upload', fileName: 'prices.csv', name: 'prices' });
    expect(first.dataset.kind === 'table' && first.dataset.defaultPlan).toMatchObject({ target: 'price', task: 'regression' });
    const again = await h.api.importTable(csv(pricesCsv(), 'copy of prices.csv'));
    expect(again).toMatchObject({ reused: true, dataset: { id: first.dataset.id } });
    expect(await listDatasets(h.db)).toHaveLength(1);
    const bulk = await h.db.get('datasets', first.dataset.id);
    await h.api.renameDataset(first.dataset.id, '  House prices ');
    expect((await getDatasetSummary(h.db, first.dataset.id))!.name).toBe('House prices');
    expect(await h.db.get('datasets', first.dataset.id)).toEqual(bulk);
  });

  it('refuses a plan that cannot train, naming the column, and stores no job', async () => {
    const h = await makeHarness(freshDbName());
    const { dataset } = await h.api.importTable(csv('a,b,label\n1,x,yes\n2,3,no\n4,5,yes\n'));
    const plan: TablePlan = { target: 'label', task: 'classification', columns: { a: 'numeric', b: 'numeric' }, missing: 'drop' };
    const check = await h.api.checkPlan(dataset.id, plan);
    expect(check.problems.join(' ')).toMatch(/“b”/);
    expect(check.problems.join(' ')).toMatch(/line 2/i);
    await expect(h.api.submit({ name: 'x', config: { ...TEST_CONFIG, table: plan }, datasetId: dataset.id })).rejects.toThrow(/“b”/);
    expect(await h.db.count('jobs')).toBe(0);
  });

  it('trains a regressor reporting MAE and RMSE in the target’s units and R², on training and validation rows, each epoch', async () => {
    const h = await makeHarness(freshDbName());
    const { job } = await trainPrices(h);
    expect(job.state).toBe('completed');
    const epochs = job.history.filter((p) => p.kind === 'epoch');
    expect(epochs).toHaveLength(CONFIG.epochs);
    for (const p of epochs) for (const k of ['mae', 'rmse', 'r2', 'val_loss', 'val_mae', 'val_rmse', 'val_r2']) expect(p.metrics[k], k).toEqual(expect.any(Number));
    const last = epochs.at(-1)!;
    // Prices run from about 0 to 450: errors in those units, and a good fit.
    expect(last.metrics.val_r2).toBeGreaterThan(0.9);
    expect(last.metrics.val_mae).toBeGreaterThan(1);
    expect(last.metrics.val_mae).toBeLessThan(40);
    expect(last.metrics.val_rmse).toBeGreaterThanOrEqual(last.metrics.val_mae!);
  });

  it('evaluates on the validation rows and predicts a form row and a CSV in the target’s units', async () => {
    const h = await makeHarness(freshDbName());
    const { job } = await trainPrices(h);
    const ev = await h.api.evaluate(job.id);
    if (ev.kind !== 'regression') throw new Error('expected a regression evaluation');
    expect(ev.numRows).toBe(50);
    expect(ev.points).toHaveLength(50);
    expect(ev.residuals.r2).toBeGreaterThan(0.9);
    expect(ev.rows[0]!.cells).toHaveProperty('district');
    const p = await h.api.predictRecords(job.id, [{ size: '100', age: '10', district: 'east' }]);
    expect(Math.abs((p.predicted[0] as number) - (300 - 20 + 80))).toBeLessThan(40);
    await expect(h.api.predictRecords(job.id, [{ size: 'big', age: '10', district: 'east' }])).rejects.toThrow(/“size”/);
    const out = await h.api.predictFile(job.id, csv('size;age;district;note\n"100,5";10;east;x\n50;5;north;y\n', 'rows.csv'));
    const lines = new TextDecoder().decode(out.bytes).trim().split(/\r?\n/);
    expect(out.name).toBe('rows-predictions.csv');
    expect(lines[0]).toBe('size;age;district;note;predicted price');
    expect(lines[1]).toMatch(/^"?100,5"?;10;east;x;/);
    expect(Math.abs(Number(lines[2]!.split(';')[4]) - (150 - 10))).toBeLessThan(40);
    await expect(h.api.predictFile(job.id, csv('size,district\n1,north\n'))).rejects.toThrow(/lacks the column “age”/);
  });

  it('answers predictions from the live model between training steps, and the run still ends bit-identical', async () => {
    const config = { ...CONFIG, epochs: 12 };
    const b = await makeHarness(freshDbName());
    const { dataset } = await b.api.importTable(csv(pricesCsv()));
    const job = await b.api.submit({ name: 'live', config, datasetId: dataset.id, breakpoint: { kind: 'step', at: 5 } });
    await b.api.start(job.id);
    await b.waitForState(job.id, ['paused']);
    await b.api.resume(job.id);
    let whileRunning = 0;
    for (let i = 0; i < 5; i++) {
      const p = await b.api.predictRecords(job.id, [{ size: '80', age: '20', district: 'north' }]);
      expect(p.predicted[0]).toEqual(expect.any(Number));
      if ((await b.api.activeJob())?.state === 'running') whileRunning++;
    }
    expect(whileRunning, 'predictions answered while the job trained').toBeGreaterThan(0);
    await b.waitForState(job.id, ['completed']);
    // The same job with no predictions ends with the same weights: predicting never touched the run.
    const c = await makeHarness(freshDbName());
    const { dataset: d2 } = await c.api.importTable(csv(pricesCsv()));
    const plain = await c.api.submit({ name: 'plain', config, datasetId: d2.id });
    await c.api.start(plain.id);
    await c.waitForState(plain.id, ['completed']);
    expectBitIdentical(await finalWeights(b.db, job.id), await finalWeights(c.db, plain.id));
  });

  it('travels in a package as columns, and one exported without its data imports once the user gives the same CSV', async () => {
    const h = await makeHarness(freshDbName());
    const { dataset } = await h.api.importTable(csv(pricesCsv()));
    const job = await h.api.submit({ name: 'pkg', config: CONFIG, datasetId: dataset.id, breakpoint: { kind: 'step', at: 17 } });
    await h.api.start(job.id);
    await h.waitForState(job.id, ['paused']);
    const withData = await h.api.exportPackage(job.id, { includeDataset: true });
    const withoutData = await h.api.exportPackage(job.id, { includeDataset: false });
    await h.api.resume(job.id);
    await h.waitForState(job.id, ['completed']);
    const reference = await finalWeights(h.db, job.id);

    const other = await makeHarness(freshDbName());
    const imported = await other.api.importFiles([withData]);
    if (imported.kind !== 'package') throw new Error('expected a package');
    expect((await getDatasetSummary(other.db, imported.job.datasetId))!.fingerprint).toBe(dataset.fingerprint);
    await other.api.start(imported.job.id);
    await other.waitForState(imported.job.id, ['completed']);
    expectBitIdentical(await finalWeights(other.db, imported.job.id), reference);

    const third = await makeHarness(freshDbName());
    const before = await snapshotStores(third.db);
    expect(await third.api.importFiles([withoutData])).toMatchObject({ kind: 'needs-dataset', dataset: { fileName: 'prices.csv', rows: 200 } });
    await expect(third.api.importFiles([withoutData], { datasetFile: csv(pricesCsv(199)) })).rejects.toThrow(/is not the dataset/);
    expect(await snapshotStores(third.db)).toBe(before);
    const supplied = await third.api.importFiles([withoutData], { datasetFile: csv(pricesCsv()) });
    expect(supplied).toMatchObject({ kind: 'package', dataset: 'supplied' });
  });

  it('deleting a dataset that a resumable job needs asks first and names the job; forced, it goes', async () => {
    const h = await makeHarness(freshDbName());
    const { dataset } = await h.api.importTable(csv(pricesCsv()));
    const job = await h.api.submit({ name: 'needs it', config: CONFIG, datasetId: dataset.id });
    const asked = await h.api.deleteDataset(dataset.id, { force: false });
    expect(asked).toMatchObject({ deleted: false, resumable: [{ id: job.id, name: 'needs it', state: 'queued' }] });
    expect(await listDatasets(h.db)).toHaveLength(1);
    expect(await h.api.deleteDataset(dataset.id, { force: true })).toMatchObject({ deleted: true });
    expect(await listDatasets(h.db)).toHaveLength(0);
    expect(await h.db.count('datasets')).toBe(0);
    const started = await h.api.start(job.id);
    expect(started.state).toBe('failed');
    expect(started.error?.message).toMatch(/no longer stored/);
  });

  it('storage filling up while a dataset is written leaves no half-written dataset, and says so', async () => {
    const h = await makeHarness(freshDbName());
    const store = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } }).IDBObjectStore.prototype;
    const realPut = store.put;
    // The columns go in first; the summary, in the same transaction, finds the disk full.
    store.put = function (this: { name: string }, ...args: unknown[]) {
      if (this.name === 'dataset-info') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.apply(this, args);
    };
    try {
      await expect(h.api.importTable(csv(pricesCsv()))).rejects.toThrow(/Storage is full: “prices” needs .* MB.*Nothing was stored/);
    } finally {
      store.put = realPut;
    }
    expect(await h.db.count('datasets')).toBe(0);
    expect(await h.db.count('dataset-info')).toBe(0);
  });

  it('a cancelled upload stores nothing', async () => {
    const h = await makeHarness(freshDbName());
    const big = csv(pricesCsv(60_000), 'big.csv');
    const reading = h.api.importTable(big, () => void h.api.cancelImport());
    await expect(reading).rejects.toThrow(/abort/i);
    expect(await listDatasets(h.db)).toHaveLength(0);
  });
});
