// The encoding between cells and model inputs: statistics come from training rows only, a row
// typed as raw strings for a prediction encodes exactly like the stored row, and regression
// outputs come back in the target's units.
import { describe, expect, it } from 'vitest';
import {
  MAX_ONE_HOT_CATEGORIES, TableError, checkColumns, decodeRegression, encodeFeatures, encodeRecord, encodeRows, extraColumns, fitEncoding,
  inferPlan, usableRows, type TableData, type TablePlan,
} from '../../shared/table';
import { readCsv, tableOf } from '../fixtures/table-helpers';

const rowsOf = (...r: number[]): Uint32Array => Uint32Array.from(r);
const allRows = (t: TableData): Uint32Array => Uint32Array.from({ length: t.numRows }, (_, i) => i);

/** Raw cells of each data line, keyed by header name: what a form or a batch CSV row hands encodeRecord. */
function records(text: string, delimiter = ','): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = header!.split(delimiter);
  return lines.map((line) => Object.fromEntries(line.split(delimiter).map((cell, i) => [names[i]!, cell])));
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

describe('statistics come from the training rows only', () => {
  // Rows 0-3 train; rows 4-5 (validation) are far away, so any leak moves the mean and std.
  const TEXT = 'x,color,y\n1,red,10\n2,red,20\n3,blue,30\n4,blue,40\n1000,green,5000\n2000,green,9000\n';

  it('numeric mean/std and the regression target are fitted on training rows, not validation rows', async () => {
    const t = await tableOf(TEXT);
    const plan: TablePlan = { target: 'y', task: 'regression', columns: { x: 'numeric', color: 'categorical' }, missing: 'impute' };
    const enc = fitEncoding(t, plan, rowsOf(0, 1, 2, 3));
    expect(enc.features[0]).toEqual({ name: 'x', type: 'numeric', mean: 2.5, std: std([1, 2, 3, 4]), impute: 2.5 });
    expect(enc.target).toEqual({ name: 'y', mean: 25, std: std([10, 20, 30, 40]) });
    // A category seen only in validation rows gets no input of its own.
    expect(enc.features[1]).toMatchObject({ categories: ['red', 'blue'], other: false, impute: 'red' });
    const leaky = fitEncoding(t, plan, allRows(t));
    expect(leaky.features[0]).not.toEqual(enc.features[0]);
  });

  it('a validation row with a category unseen in training encodes as all zeros', async () => {
    const t = await tableOf(TEXT);
    const enc = fitEncoding(t, { target: 'y', task: 'regression', columns: { x: 'ignored', color: 'categorical' }, missing: 'drop' }, rowsOf(0, 1, 2, 3));
    expect([...encodeRows(t, enc, rowsOf(0, 2, 4)).x]).toEqual([1, 0, 0, 1, 0, 0]);
  });

  it('a constant training column gets std 1, not a division by zero', async () => {
    const t = await tableOf('x,y\n5,1\n5,2\n5,3\n7,4\n');
    const enc = fitEncoding(t, { target: 'y', task: 'regression', columns: { x: 'numeric' }, missing: 'drop' }, rowsOf(0, 1, 2));
    expect(enc.features[0]).toMatchObject({ mean: 5, std: 1 });
    expect([...encodeRows(t, enc, rowsOf(0, 3)).x]).toEqual([0, 2]);
  });
});

describe('one-hot categories', () => {
  it('the 50 most frequent training categories get inputs, the rest share "other", imputing the most frequent', async () => {
    // Category k appears k+1 times, so frequency order is c59, c58, …; c0–c9 fall into "other".
    const lines = ['cat,y'];
    for (let k = 0; k < 60; k++) for (let j = 0; j <= k; j++) lines.push(`c${k},${j % 2}`);
    lines.push(',1');
    const t = await tableOf(lines.join('\n'));
    const enc = fitEncoding(t, inferPlan(t), allRows(t));
    const f = enc.features[0]!;
    if (f.type !== 'categorical') throw new Error('expected a categorical feature');
    expect(f.categories).toHaveLength(MAX_ONE_HOT_CATEGORIES);
    expect(f.categories.slice(0, 2)).toEqual(['c59', 'c58']);
    expect(f.other).toBe(true);
    expect(f.impute).toBe(inferPlan(t).missing === 'impute' ? 'c59' : null);
    expect(enc.inputNames).toHaveLength(51);
    expect(enc.inputNames.slice(-2)).toEqual(['cat=c10', 'cat=(other)']);
    const x = encodeRecord(enc, { cat: 'c3' });
    expect([...x].findIndex((v) => v === 1)).toBe(50);
    expect(encodeRecord(enc, { cat: 'never seen' })[50]).toBe(1);
  });

  it('without "other", an unknown category is all zeros', async () => {
    const t = await tableOf('color,y\nred,1\nblue,2\nred,3\n');
    const enc = fitEncoding(t, { target: 'y', task: 'regression', columns: { color: 'categorical' }, missing: 'drop' }, allRows(t));
    expect(enc.inputNames).toEqual(['color=red', 'color=blue']);
    expect([...encodeRecord(enc, { color: 'purple' })]).toEqual([0, 0]);
  });
});

describe('class names', () => {
  it('numbers in numeric order, before text in alphabetical order', async () => {
    const t = await tableOf('x,k\n1,10\n2,2\n3,1.5\n4,b\n5,A\n6,2\n');
    const enc = fitEncoding(t, { target: 'k', task: 'classification', columns: { x: 'numeric' }, missing: 'drop' }, allRows(t));
    expect(enc.target).toEqual({ name: 'k', classNames: ['1.5', '2', '10', 'A', 'b'] });
    expect([...encodeRows(t, enc, allRows(t)).y]).toEqual([2, 1, 0, 4, 3, 1]);
  });
});

describe('a raw row encodes like the stored row', () => {
  const TEXT = [
    'size,color,shape,weight,price',
    '1.25,red,round,3,10.5',
    '2.5,blue,square,NA,20.25',
    ',red,round,5,30',
    '4.75,,triangle,6,41.5',
    '5.1,green,round,7.3333,55',
    '6.2,blue,square,8,61',
    '+7e-1,red,round,9,70.125',
  ].join('\n');

  it('for every row, impute and all, encodeRecord equals encodeRows', async () => {
    const t = await tableOf(TEXT);
    const plan: TablePlan = { ...inferPlan(t), missing: 'impute' };
    const { rows } = usableRows(t, plan);
    const enc = fitEncoding(t, plan, rows.subarray(0, 5));
    const { x } = encodeRows(t, enc, rows);
    const width = enc.inputNames.length;
    expect(width).toBe(1 + 3 + 3 + 1);
    records(TEXT).forEach((record, r) => {
      expect([...encodeRecord(enc, record)]).toEqual([...x.subarray(r * width, (r + 1) * width)]);
    });
  });

  it('a batch file without the target column encodes its rows like encodeRecord', async () => {
    const t = await tableOf(TEXT);
    const plan: TablePlan = { ...inferPlan(t), missing: 'impute' };
    const enc = fitEncoding(t, plan, usableRows(t, plan).rows);
    const batchText = 'id,shape,color,size,weight\n1,round,red,3.5,4\n2,star,,,\n3,square,purple,1e1,2\n';
    const batch = await tableOf(batchText);
    expect(checkColumns(enc, batch.columns.map((c) => c.name))).toEqual([]);
    const x = encodeFeatures(batch, enc, allRows(batch));
    const width = enc.inputNames.length;
    records(batchText).forEach((record, r) => expect([...x.subarray(r * width, (r + 1) * width)]).toEqual([...encodeRecord(enc, record)]));
  });

  it('also with decimal commas, as a semicolon file from the same source writes them', async () => {
    const text = 'a;b;y\n1,5;x;2,5\n2,25;y;3\n3;x;4,75\n';
    const { table } = await readCsv(text);
    const enc = fitEncoding(table, inferPlan(table), allRows(table));
    expect(enc.decimalComma).toBe(true);
    const { x } = encodeRows(table, enc, allRows(table));
    records(text, ';').forEach((record, r) => expect([...encodeRecord(enc, record)]).toEqual([...x.subarray(r * 3, r * 3 + 3)]));
  });

  it('the encoding survives JSON (checkpoints, model metadata) and encodes the same', async () => {
    const t = await tableOf(TEXT);
    const plan: TablePlan = { ...inferPlan(t), missing: 'impute' };
    const enc = fitEncoding(t, plan, usableRows(t, plan).rows);
    const copy = JSON.parse(JSON.stringify(enc)) as typeof enc;
    expect(copy).toEqual(enc);
    expect(encodeRows(t, copy, allRows(t))).toEqual(encodeRows(t, enc, allRows(t)));
  });

  it('regression outputs decode back to the target units', async () => {
    const t = await tableOf(TEXT);
    const plan = inferPlan(t);
    expect(plan.task).toBe('regression');
    const rows = usableRows(t, { ...plan, missing: 'impute' }).rows;
    const enc = fitEncoding(t, { ...plan, missing: 'impute' }, rows.subarray(0, 4));
    const { y } = encodeRows(t, enc, rows);
    const prices = [10.5, 20.25, 30, 41.5, 55, 61, 70.125];
    [...y].forEach((v, i) => expect(decodeRegression(enc, v)).toBeCloseTo(prices[i]!, 4));
    expect(decodeRegression(enc, 0)).toBeCloseTo(mean(prices.slice(0, 4)), 10);
  });
});

describe('bad values at prediction time are named', () => {
  it('a missing value without imputing, text for a number, an absent column', async () => {
    const t = await tableOf('size,color,y\n1,red,2\n3,blue,4\n5,red,6\n');
    const enc = fitEncoding(t, { target: 'y', task: 'regression', columns: { size: 'numeric', color: 'categorical' }, missing: 'drop' }, allRows(t));
    expect(() => encodeRecord(enc, { size: '  ', color: 'red' })).toThrow(
      new TableError('Column “size”: a value is needed (the model was trained without imputing missing values).'),
    );
    expect(() => encodeRecord(enc, { size: 'big', color: 'red' })).toThrow(new TableError('Column “size”: “big” is not a number.'));
    expect(() => encodeRecord(enc, { size: '1' })).toThrow(new TableError('Column “color” is missing: the model needs a value for it.'));
  });

  it('a stored row with a gap, when the plan drops gaps, names its line and column', async () => {
    const t = await tableOf('size,y\n1,2\n\n,4\n5,6\n');
    const enc = fitEncoding(t, { target: 'y', task: 'regression', columns: { size: 'numeric' }, missing: 'drop' }, rowsOf(0, 2));
    expect(() => encodeRows(t, enc, rowsOf(1))).toThrow(new TableError('Line 4, column “size”: the value is missing and the plan does not impute.'));
  });

  it('a classifier has no regression output to decode', async () => {
    const t = await tableOf('x,k\n1,a\n2,b\n');
    const enc = fitEncoding(t, inferPlan(t), allRows(t));
    expect(() => decodeRegression(enc, 1)).toThrow(TableError);
  });
});

describe('batch prediction columns', () => {
  it('missing columns are an error that also lists the extra ones; extras alone are fine', async () => {
    const t = await tableOf('size,color,y\n1,red,2\n3,blue,4\n');
    const enc = fitEncoding(t, { target: 'y', task: 'regression', columns: { size: 'numeric', color: 'categorical' }, missing: 'drop' }, allRows(t));
    expect(checkColumns(enc, ['size', 'colour', 'id'])).toEqual([
      'The file lacks the column “color” that the model needs. It has columns the model does not use: “colour”, “id”.',
    ]);
    expect(checkColumns(enc, [' color ', 'size', 'y', 'id'])).toEqual([]);
    expect(extraColumns(enc, ['color', 'size', 'y', 'id'])).toEqual(['id']);
    expect(checkColumns(enc, ['y'])).toEqual(['The file lacks the columns “size”, “color” that the model needs.']);
  });
});
