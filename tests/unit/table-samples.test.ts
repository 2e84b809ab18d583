// The built-in sample tables read and infer as a user would expect: Iris as a classifier, the
// Palmer penguins as a regression of body mass, both ready to train with the default plan.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeRows, fitEncoding, inferPlan, usableRows, validatePlan } from '../../shared/table';
import { column, readCsv } from '../fixtures/table-helpers';

const sample = (name: string): string => readFileSync(new URL(`../../public/samples/${name}`, import.meta.url), 'utf8');

describe('samples', () => {
  it('penguins.csv infers a regression of body mass, with categorical species, island and sex', async () => {
    const text = sample('penguins.csv');
    const lines = text.trim().split('\n').slice(1).map((l) => l.split(','));
    const { table, notices } = await readCsv(text, 'penguins.csv');
    expect(notices).toEqual([]);
    expect(table.numRows).toBe(lines.length);
    const plan = inferPlan(table);
    expect(plan).toEqual({
      target: 'body_mass_g',
      task: 'regression',
      columns: {
        species: 'categorical',
        island: 'categorical',
        bill_length_mm: 'numeric',
        bill_depth_mm: 'numeric',
        flipper_length_mm: 'numeric',
        sex: 'categorical',
      },
      missing: 'drop',
    });
    expect(validatePlan(table, plan)).toEqual([]);
    expect(column(table, 'species').categories).toEqual(['Adelie', 'Gentoo', 'Chinstrap']);
    const { rows, dropped } = usableRows(table, plan);
    expect(rows.length).toBe(lines.filter((cells) => !cells.includes('NA')).length);
    expect(dropped).toBe(lines.length - rows.length);
    const enc = fitEncoding(table, plan, rows);
    expect(enc.inputNames).toHaveLength(3 + 3 + 3 + 2);
    const { x, y } = encodeRows(table, enc, rows);
    expect(x.length).toBe(rows.length * 11);
    expect(y.every(Number.isFinite)).toBe(true);
  });

  it('iris.csv infers a classification of species into three classes', async () => {
    const { table } = await readCsv(sample('iris.csv'), 'iris.csv');
    const plan = inferPlan(table);
    expect([plan.target, plan.task]).toEqual(['species', 'classification']);
    expect(Object.values(plan.columns)).toEqual(['numeric', 'numeric', 'numeric', 'numeric']);
    expect(validatePlan(table, plan)).toEqual([]);
    const enc = fitEncoding(table, plan, usableRows(table, plan).rows);
    expect(enc.target).toEqual({ name: 'species', classNames: ['setosa', 'versicolor', 'virginica'] });
  });
});
