// The corpus of unusual and broken CSVs in tests/fixtures/csv: each one either parses to the values
// and column types a user would expect, or fails with a TableError that names the line and column.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TableError, fileLineOfRow, inferPlan, validatePlan, type TablePlan } from '../../shared/table';
import { CSV_CASES, type Named } from '../fixtures/csv/expectations';
import { column, readCsv, values } from '../fixtures/table-helpers';

const DIR = new URL('../fixtures/csv/', import.meta.url);

function bytesOf(c: (typeof CSV_CASES)[number]): Uint8Array {
  return c.bytes ? c.bytes() : new Uint8Array(readFileSync(new URL(c.file, DIR)));
}

function expectNamed(message: string, named: Named): void {
  expect(message).toMatch(named.match);
  if (named.line !== undefined) expect(message).toMatch(new RegExp(`\\bline ${named.line}\\b`, 'i'));
  if (named.column !== undefined) expect(message).toContain(`“${named.column}”`);
}

describe('the CSV corpus', () => {
  it('has at least 25 cases, and every file in the folder has one', () => {
    expect(CSV_CASES.length).toBeGreaterThanOrEqual(25);
    const files = readdirSync(DIR).filter((f) => !f.endsWith('.ts'));
    const covered = new Set(CSV_CASES.map((c) => c.file));
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });

  for (const c of CSV_CASES) {
    it(`${c.what} (${c.file})`, async () => {
      const reading = readCsv(bytesOf(c), c.file.replace(/^\(generated\) /, ''));
      if (c.error) {
        const error = await reading.then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TableError);
        expectNamed((error as TableError).message, c.error);
        return;
      }
      const result = await reading;
      const { table } = result;
      if (c.delimiter) expect(result.delimiter).toBe(c.delimiter);
      expect(result.encoding).toBe(c.encoding ?? 'utf-8');
      expect(result.hasHeader).toBe(c.hasHeader ?? true);
      if (c.numRows !== undefined) expect(table.numRows).toBe(c.numRows);
      if (c.columnNames) expect(table.columns.map((col) => col.name)).toEqual(c.columnNames);
      if (c.lines) expect(c.lines.map((_, r) => fileLineOfRow(table, r))).toEqual(c.lines);
      for (const notice of c.notices ?? []) expect(result.notices.some((n) => notice.test(n)), `${notice} in ${JSON.stringify(result.notices)}`).toBe(true);
      for (const [name, want] of Object.entries(c.columns ?? {})) {
        const col = column(table, name);
        expect(col.numbers.length).toBe(table.numRows);
        if (want.numbers) expect(values(col.numbers)).toEqual(want.numbers.map((v) => (v === null ? null : Math.fround(v))));
        if (want.categories) expect(col.categories).toEqual(want.categories);
        if (want.inferred) expect(col.inferred).toBe(want.inferred);
        if (want.reason) expect(col.inferredReason).toMatch(want.reason);
        if (want.missing !== undefined) expect(col.missingCount).toBe(want.missing);
        if (want.nonNumeric !== undefined) expect(col.nonNumericCount).toBe(want.nonNumeric);
        if (want.firstNonNumeric !== undefined) expect(col.firstNonNumeric).toEqual(want.firstNonNumeric);
      }
      const inferred = inferPlan(table);
      if (c.expectPlan) expect(inferred).toMatchObject(c.expectPlan);
      const plan: TablePlan = { ...inferred, ...c.plan };
      const problems = validatePlan(table, plan);
      expect(problems).toHaveLength(c.problems?.length ?? 0);
      c.problems?.forEach((named, i) => expectNamed(problems[i]!, named));
    });
  }
});
