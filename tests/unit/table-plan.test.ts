// A plan the user made is checked before training, with messages naming the column and line, and
// the rows it trains on are counted as the user will see them (dropped, imputed).
import { describe, expect, it } from 'vitest';
import { inferPlan, usableRows, validatePlan, type TableData, type TablePlan } from '../../shared/table';
import { tableOf } from '../fixtures/table-helpers';

const csv = (lines: string[]): string => `${lines.join('\n')}\n`;
const plan = (table: TableData, changes: Partial<TablePlan>): TablePlan => ({ ...inferPlan(table), ...changes });

// line 1 header; data rows on lines 2..9
const MIXED = csv([
  'x,color,note,y,label',
  '1.5,red,a,10,yes',
  '2.5,blue,b,,no',
  ',red,c,30,yes',
  '4.5,,d,40,no',
  '5.5,red,e,50,yes',
  '6.5,blue,f,60,',
  '7.5,red,g,70,no',
  '8.5,blue,h,80,yes',
]);

describe('plan problems name the column and the line', () => {
  it('a good plan has none', async () => {
    const t = await tableOf(MIXED);
    expect(validatePlan(t, inferPlan(t))).toEqual([]);
  });

  it('an unknown target', async () => {
    const t = await tableOf(MIXED);
    expect(validatePlan(t, plan(t, { target: 'price' }))).toEqual(['There is no column named “price” to predict.']);
  });

  it('unknown columns, an untyped column, and the target used as an input', async () => {
    const t = await tableOf(MIXED);
    const p = plan(t, { columns: { x: 'numeric', color: 'categorical', label: 'numeric', ghost: 'numeric', y: 'numeric' } });
    expect(validatePlan(t, p)).toEqual([
      'The plan names a column “ghost” that the table does not have.',
      'Column “label” is the target, so it cannot also be an input.',
      'Column “note” has no type in the plan: choose numeric, categorical or ignored.',
    ]);
  });

  it('text in a column set to numeric names the first line and value, and counts the rest', async () => {
    const t = await tableOf(MIXED);
    expect(validatePlan(t, plan(t, { columns: { x: 'numeric', color: 'numeric', note: 'ignored', y: 'numeric' } }))).toEqual([
      'Column “color” is set to numeric, but line 2 has “red” (and 6 more values that are not numbers). Fix the file, or set the column to categorical or ignored.',
    ]);
  });

  it('a regression target with text names its first text value', async () => {
    const t = await tableOf(MIXED);
    const problems = validatePlan(t, plan(t, { target: 'label', task: 'regression', columns: { x: 'numeric', color: 'categorical', note: 'ignored', y: 'numeric' } }));
    expect(problems).toEqual([
      'Regression needs a numeric target, but line 2 of “label” has “yes” (and 6 more values that are not numbers). Choose classification, or fix the file.',
    ]);
  });

  it('a target with one class, and a constant regression target', async () => {
    const t = await tableOf(csv(['x,kind,level', '1,spam,3', '2,spam,3', '3,,3']));
    expect(validatePlan(t, plan(t, { target: 'kind', task: 'classification', columns: { x: 'numeric', level: 'ignored' } }))).toEqual([
      'The target column “kind” has only one class (“spam”): there is nothing to tell apart.',
    ]);
    expect(validatePlan(t, plan(t, { target: 'level', task: 'regression', columns: { x: 'numeric', kind: 'ignored' } }))).toEqual([
      'The target column “level” has the same value (“3”) in every row: there is nothing to predict.',
    ]);
  });

  it('a target that is missing in every row', async () => {
    const t = await tableOf(csv(['x,y,target', '1,2,NA', '3,4,', '5,6,?']));
    expect(validatePlan(t, plan(t, { target: 'target', task: 'classification', columns: { x: 'numeric', y: 'numeric' } }))).toEqual([
      'The target column “target” is empty in every row.',
    ]);
  });

  it('no input column left', async () => {
    const t = await tableOf(MIXED);
    expect(validatePlan(t, plan(t, { columns: { x: 'ignored', color: 'ignored', note: 'ignored', y: 'ignored' } }))).toEqual([
      'No input column is left: set at least one column other than the target to numeric or categorical.',
    ]);
  });

  it('an input column that is empty in every row', async () => {
    const t = await tableOf(csv(['x,blank,label', '1,,a', '2,,b', '3,,a']));
    expect(validatePlan(t, plan(t, { columns: { x: 'numeric', blank: 'numeric' } }))).toEqual([
      'Column “blank” is empty in every row; set it to ignored.',
    ]);
  });

  it('a column with too many values to be categorical', async () => {
    const rows = Array.from({ length: 10_050 }, (_, i) => `t${i},${i % 2}`);
    const t = await tableOf(csv(['text,label', ...rows]));
    expect(validatePlan(t, plan(t, { columns: { text: 'categorical' } }))).toEqual([
      'Column “text” has more than 10,000 different values, too many to be categorical; set it to numeric or ignored.',
    ]);
  });

  it('dropping rows with gaps that leaves too few rows suggests imputing', async () => {
    const t = await tableOf(csv(['a,b,label', '1,,x', ',2,y', '3,4,x', ',5,y']));
    expect(validatePlan(t, plan(t, { missing: 'drop' }))).toEqual([
      'Only 1 row can be used for training once rows with a missing value are dropped; choose “impute” or ignore the columns with gaps. Lathe needs at least 2.',
    ]);
    expect(validatePlan(t, plan(t, { missing: 'impute' }))).toEqual([]);
  });

  it('dropping rows that leaves a single class says so, with a line', async () => {
    const t = await tableOf(csv(['a,label', '1,x', ',y', '3,x', ',y', '5,x']));
    expect(validatePlan(t, plan(t, { missing: 'drop' }))).toEqual([
      'Every usable row has the same target class (“x”, line 2 is one); the other classes are only in rows that are dropped for missing values.',
    ]);
  });
});

describe('usable rows', () => {
  it("'drop' keeps only rows with every used value, the target included", async () => {
    const t = await tableOf(MIXED);
    const r = usableRows(t, plan(t, { missing: 'drop', columns: { x: 'numeric', color: 'categorical', note: 'ignored', y: 'numeric' } }));
    expect([...r.rows]).toEqual([0, 4, 6, 7]);
    expect([r.dropped, r.imputed]).toEqual([4, 0]);
  });

  it("'impute' drops only rows without a target, and counts the cells it fills", async () => {
    const t = await tableOf(MIXED);
    const r = usableRows(t, plan(t, { missing: 'impute', columns: { x: 'numeric', color: 'categorical', note: 'ignored', y: 'numeric' } }));
    expect([...r.rows]).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect([r.dropped, r.imputed]).toEqual([1, 3]);
  });

  it('an ignored column with gaps drops nothing', async () => {
    const t = await tableOf(MIXED);
    const r = usableRows(t, plan(t, { missing: 'drop', columns: { x: 'ignored', color: 'ignored', note: 'categorical', y: 'ignored' } }));
    expect(r.dropped).toBe(1);
  });
});
