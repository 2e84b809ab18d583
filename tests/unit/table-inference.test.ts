// What Lathe guesses about a table before anything trains: each column's type with a reason the
// user reads, the task from the target, and the default plan.
import { describe, expect, it } from 'vitest';
import { MAX_DICTIONARY_VALUES, inferPlan, inferTask } from '../../shared/table';
import { column, tableOf } from '../fixtures/table-helpers';

const csv = (header: string, rows: (string | number)[][]): string => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('column types', () => {
  it('a column of numbers is numeric, and says how many', async () => {
    const t = await tableOf(csv('x,y', range(30).map((i) => [i * 0.5 + 0.25, i % 3])));
    expect(column(t, 'x').inferred).toBe('numeric');
    expect(column(t, 'x').inferredReason).toBe('all 30 values are numbers');
  });

  it('real-valued measurements that all differ stay numeric: they are not an id', async () => {
    const t = await tableOf(csv('length,y', range(40).map((i) => [(Math.sin(i) * 10 + 20).toFixed(3), i % 2])));
    expect(column(t, 'length').inferred).toBe('numeric');
  });

  it('a few text cells among numbers keep the column numeric, and the reason names the first one', async () => {
    const rows = range(40).map((i) => [i === 12 ? 'n.a.' : i === 30 ? 'twelve' : (i * 1.1).toFixed(1), i % 2]);
    const x = column(await tableOf(csv('x,y', rows)), 'x');
    expect(x.inferred).toBe('numeric');
    expect(x.nonNumericCount).toBe(2);
    expect(x.inferredReason).toBe('mostly numbers, but line 14 has “n.a.” and 1 other');
  });

  it('more than 5% text makes a column categorical', async () => {
    const rows = range(40).map((i) => [i % 5 === 0 ? 'big' : String(i % 4), i % 2]);
    expect(column(await tableOf(csv('size,y', rows)), 'size').inferred).toBe('categorical');
  });

  it('whole numbers counting up by one are a row number, ignored', async () => {
    const t = await tableOf(csv('n,x,y', range(12).map((i) => [i + 100, (i * 7) % 5, i % 2])));
    expect(column(t, 'n').inferred).toBe('ignored');
    expect(column(t, 'n').inferredReason).toContain('100 to 111');
  });

  it('shuffled distinct whole numbers named like an id are ignored; the same numbers under another name are not', async () => {
    const ids = range(15).map((i) => (i * 37) % 1000);
    const t = await tableOf(csv('customerId,amount,y', ids.map((id, i) => [id, id, i % 2])));
    expect(column(t, 'customerId').inferred).toBe('ignored');
    expect(column(t, 'amount').inferred).toBe('numeric');
  });

  it('whole numbers with repeats are numeric (counts, ratings)', async () => {
    const t = await tableOf(csv('rooms,y', range(30).map((i) => [1 + (i % 6), i % 2])));
    expect(column(t, 'rooms').inferred).toBe('numeric');
  });

  it('text codes that all differ are ignored as ids; repeated text is categorical', async () => {
    const t = await tableOf(csv('code,color,y', range(12).map((i) => [`K-${i}`, ['red', 'blue', 'green'][i % 3]!, i % 2])));
    expect(column(t, 'code').inferred).toBe('ignored');
    expect(column(t, 'code').inferredReason).toBe('every value differs: an id or free text?');
    expect(column(t, 'color').inferred).toBe('categorical');
    expect(column(t, 'color').inferredReason).toBe('3 categories');
  });

  it('mostly unique text with more than 50 values is ignored as free text', async () => {
    const rows = range(100).map((i) => [`comment ${i % 80}`, i % 2]);
    const c = column(await tableOf(csv('comment,y', rows)), 'comment');
    expect(c.inferred).toBe('ignored');
    expect(c.inferredReason).toBe('80 different values in 100 rows: free text or ids?');
  });

  it('a column with one value (and gaps) is constant, ignored', async () => {
    const t = await tableOf(csv('unit,x,y', range(10).map((i) => [i === 3 ? '' : 'cm', i, i % 2])));
    expect(column(t, 'unit').inferredReason).toBe('constant: every value is “cm”, 1 missing value');
  });

  it('past 10,000 different values a column keeps no dictionary: text is ignored, numbers stay numeric', async () => {
    const n = MAX_DICTIONARY_VALUES + 5;
    const t = await tableOf(csv('note,reading,y', range(n).map((i) => [`note ${i}`, (i * 0.37).toFixed(2), i % 2])));
    const note = column(t, 'note');
    expect([note.distinctCapped, note.categories, note.codes, note.inferred]).toEqual([true, null, null, 'ignored']);
    expect(note.distinctCount).toBeGreaterThan(MAX_DICTIONARY_VALUES);
    const reading = column(t, 'reading');
    expect([reading.distinctCapped, reading.inferred]).toEqual([true, 'numeric']);
    expect(reading.numbers[n - 1]).toBe(Math.fround((n - 1) * 0.37));
  });

  it('categories come most frequent first (ties in order of appearance), and codes index them', async () => {
    const colors = ['blue', 'red', 'red', 'green', 'red', 'blue', 'NA', 'green', 'amber'];
    const c = column(await tableOf(csv('color,y', colors.map((v, i) => [v, i % 2]))), 'color');
    expect(c.categories).toEqual(['red', 'blue', 'green', 'amber']);
    expect(c.categoryCounts).toEqual([3, 2, 2, 1]);
    expect([...c.codes!]).toEqual([1, 0, 0, 2, 0, 1, -1, 2, 3]);
    expect(c.samples).toEqual(['blue', 'red', 'green', 'amber']);
    expect(c.missingCount).toBe(1);
  });

  it('at most 5 samples, distinct, in the order they first appear', async () => {
    const c = column(await tableOf(csv('k,y', range(20).map((i) => [`v${i % 7}`, i % 2]))), 'k');
    expect(c.samples).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });
});

describe('the task follows the target', () => {
  it('a text target is classification', async () => {
    const t = await tableOf(csv('x,label', range(30).map((i) => [i, i % 2 ? 'cat' : 'dog'])));
    expect(inferTask(column(t, 'label'), t.numRows)).toBe('classification');
  });

  it('a few distinct whole numbers are classes', async () => {
    const t = await tableOf(csv('x,grade', range(60).map((i) => [i * 1.5, i % 3])));
    expect(inferTask(column(t, 'grade'), t.numRows)).toBe('classification');
  });

  it('more than 20 distinct whole numbers are a quantity: regression', async () => {
    const t = await tableOf(csv('x,price', range(100).map((i) => [i * 1.5, (i * 13) % 25])));
    expect(column(t, 'price').distinctCount).toBe(25);
    expect(inferTask(column(t, 'price'), t.numRows)).toBe('regression');
  });

  it('few distinct values that are not whole numbers are regression', async () => {
    const t = await tableOf(csv('x,score', range(30).map((i) => [i, [0.5, 1.5, 2.5][i % 3]!])));
    expect(inferTask(column(t, 'score'), t.numRows)).toBe('regression');
  });

  it('whole numbers seen about once each are not classes, even if few', async () => {
    const t = await tableOf(csv('x,y', range(8).map((i) => [i * 0.1, (i * 5) % 8])));
    expect(inferTask(column(t, 'y'), t.numRows)).toBe('regression');
  });
});

describe('the default plan', () => {
  it('predicts the last column, and every other column keeps its type', async () => {
    const t = await tableOf(csv('color,x,label', range(30).map((i) => [['red', 'blue'][i % 2]!, i * 0.3, i % 3 ? 'a' : 'b'])));
    expect(inferPlan(t)).toEqual({
      target: 'label',
      task: 'classification',
      columns: { color: 'categorical', x: 'numeric' },
      missing: 'drop',
    });
  });

  it('skips an ignored last column (an id) when choosing the target', async () => {
    const t = await tableOf(csv('x,price,row_id', range(30).map((i) => [i % 7, (i * 2.5).toFixed(1), i + 1])));
    const plan = inferPlan(t);
    expect(plan.target).toBe('price');
    expect(plan.task).toBe('regression');
    expect(plan.columns).toEqual({ x: 'numeric', row_id: 'ignored' });
  });

  it('drops rows with gaps when few are lost, and imputes when dropping would lose more than 5%', async () => {
    const rows = (gaps: number): (string | number)[][] => range(100).map((i) => [i < gaps ? '' : i % 9, i % 2 ? 'a' : 'b']);
    expect(inferPlan(await tableOf(csv('x,label', rows(5)))).missing).toBe('drop');
    expect(inferPlan(await tableOf(csv('x,label', rows(6)))).missing).toBe('impute');
  });
});
