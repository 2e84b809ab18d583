// What one cell means: which texts are missing, which are numbers (and that the fast path reads
// exactly what Number() reads), how header names are made unique, and how classes are ordered.
import { describe, expect, it } from 'vitest';
import { columnNames, fileLineOfRow, isMissingCell, naturalCompare, parseNumberCell, trimCell } from '../../shared/table';

describe('missing cells', () => {
  it('empty, NA, N/A, NaN, null, #N/A, <NA> and ? in any case are missing; None, -, 0 are values', () => {
    for (const t of ['', 'NA', 'na', 'N/A', 'n/a', 'NaN', 'nan', 'NULL', 'null', '#N/A', '<NA>', '?'])
      expect(isMissingCell(t), t).toBe(true);
    for (const t of ['None', 'none', '-', '0', 'N', 'NAN!', 'nulls', 'A']) expect(isMissingCell(t), t).toBe(false);
  });
});

describe('trimming', () => {
  it('spaces, tabs, a trailing CR and no-break spaces around a cell are removed; inner ones kept', () => {
    for (const [raw, want] of [[' a b ', 'a b'], ['\tx\r', 'x'], ['\u00a0café\u00a0', 'café'], ['1', '1'], ['', ''], ['é', 'é']])
      expect(trimCell(raw!), JSON.stringify(raw)).toBe(want);
  });
});

describe('numbers', () => {
  it('signs, points and exponents are numbers; separators, units, codes and Infinity are not', () => {
    const read: Record<string, number> = { '+1.5e3': 1500, '-2E-2': -0.02, '.5': 0.5, '7.': 7, '-0': -0, '0012': 12, '1e-7': 1e-7 };
    for (const [text, value] of Object.entries(read)) expect(parseNumberCell(text), text).toBe(value);
    for (const text of ['1,234', '1 234', '$5', '5%', '0x1F', '0b101', '0o17', 'Infinity', '-Infinity', '1e999', '1.2.3', '--1', '-', '.', 'e5'])
      expect(parseNumberCell(text), text).toBeNaN();
  });

  it('a decimal comma is read only when asked (semicolon files), and only one', () => {
    expect(parseNumberCell('1,5')).toBeNaN();
    expect(parseNumberCell('1,5', true)).toBe(1.5);
    expect(parseNumberCell('-0,25', true)).toBe(-0.25);
    for (const text of ['1,234,5', '1.234,5', ',']) expect(parseNumberCell(text, true), text).toBeNaN();
  });

  it('reads every plain decimal exactly as Number() does', () => {
    let seed = 99;
    const rand = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const texts: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      texts.push((rand() * 10 ** Math.floor(rand() * 14 - 6)).toFixed(Math.floor(rand() * 10)));
      texts.push(String(-Math.floor(rand() * 1e15)), String(rand() * 1000), (rand() - 0.5).toPrecision(1 + Math.floor(rand() * 16)));
    }
    const differ = texts.filter((t) => !Object.is(parseNumberCell(t), Number(t)));
    expect(differ).toEqual([]);
  });
});

describe('column names', () => {
  it('trimmed; empty ones named by position; duplicates numbered, skipping names already taken', () => {
    const { names, notices } = columnNames([' a ', 'a', '', 'a (2)', 'a'], 5);
    expect(names).toEqual(['a', 'a (2)', 'column 3', 'a (2) (2)', 'a (3)']);
    expect(notices).toHaveLength(4);
  });

  it('without a header row: column 1, column 2, …', () => {
    expect(columnNames(null, 3)).toEqual({ names: ['column 1', 'column 2', 'column 3'], notices: [] });
  });
});

describe('order of class names', () => {
  it('numbers by value and before text; text by code point', () => {
    expect(['b', '10', 'B', '2', '-1', 'a', '1.5'].sort(naturalCompare)).toEqual(['-1', '1.5', '2', '10', 'B', 'a', 'b']);
  });
});

describe('file lines of rows', () => {
  it('follows the piecewise map; without one, a header on line 1', () => {
    const table = { rowLines: { rows: [0, 3, 4], lines: [2, 7, 10] } };
    expect([0, 1, 2, 3, 4, 5].map((r) => fileLineOfRow(table, r))).toEqual([2, 3, 4, 7, 10, 11]);
    expect(fileLineOfRow({}, 5)).toBe(7);
  });
});
