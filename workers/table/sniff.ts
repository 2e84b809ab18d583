// Guesses a CSV file's layout from its first rows: the line break, the delimiter (comma,
// semicolon or tab) and whether the first row is a header. Imports papaparse and shared code.
import { Parser } from './papa';
import { isMissingCell, parseNumberCell } from '../../shared/table-cells';
import type { Delimiter } from './csv-rows';

export const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];
/** Rows looked at to choose the delimiter and the header. */
export const SNIFF_ROWS = 50;

/** '\r' only for files that use a bare carriage return (classic Mac); '\n' also serves CRLF files. */
export function detectNewline(text: string): '\n' | '\r' {
  return text.indexOf('\n') < 0 && text.indexOf('\r') >= 0 ? '\r' : '\n';
}

const isBlankRow = (row: string[]): boolean => row.every((c) => c.trim() === '');

/** Cell counts per non-blank row of `sample`, split with `delimiter` (quotes respected). */
function cellCounts(sample: string, delimiter: Delimiter, newline: '\n' | '\r', complete: boolean): number[] {
  const parsed = new Parser({ delimiter, newline, quoteChar: '"', preview: SNIFF_ROWS }).parse(sample, 0, !complete);
  return parsed.data.filter((r) => !isBlankRow(r)).map((r) => r.length);
}

/**
 * The delimiter whose cell count is most consistent across the first rows (ties: more columns,
 * then the order comma, semicolon, tab), or null when none splits rows into at least 2 cells.
 * `complete`: the sample is the whole file (its last row is not cut off).
 */
export function detectDelimiter(sample: string, newline: '\n' | '\r', complete: boolean): Delimiter | null {
  let best: { delimiter: Delimiter; share: number; width: number } | null = null;
  for (const delimiter of DELIMITERS) {
    const counts = cellCounts(sample, delimiter, newline, complete);
    if (counts.length === 0) continue;
    const freq = new Map<number, number>();
    for (const c of counts) freq.set(c, (freq.get(c) ?? 0) + 1);
    let width = 0;
    let most = 0;
    for (const [c, n] of freq) if (n > most || (n === most && c > width)) [width, most] = [c, n];
    if (width < 2) continue;
    const share = most / counts.length;
    if (!best || share > best.share || (share === best.share && width > best.width)) best = { delimiter, share, width };
  }
  return best?.delimiter ?? null;
}

/**
 * Whether `rows[0]` is a header. A column whose other sampled cells are all numbers votes "header"
 * when its first cell is text and "data" when it is a number. With no such column (all text), the
 * first row is a header unless one of its cells recurs below it in the same column, as values do
 * and names do not (empty names are allowed: a spreadsheet's index column often has none). A lone
 * row is a header.
 */
export function detectHeader(rows: string[][], decimalComma: boolean): boolean {
  const first = rows[0];
  if (!first) return true;
  const body = rows.slice(1);
  if (body.length === 0) return true;
  let headerVotes = 0;
  let dataVotes = 0;
  for (let j = 0; j < first.length; j++) {
    let numbers = 0;
    let texts = 0;
    for (const row of body) {
      const cell = (row[j] ?? '').trim();
      if (isMissingCell(cell)) continue;
      if (parseNumberCell(cell, decimalComma) === parseNumberCell(cell, decimalComma)) numbers++;
      else texts++;
    }
    if (numbers === 0 || texts > 0) continue;
    const head = first[j]!.trim();
    if (isMissingCell(head)) continue;
    if (Number.isNaN(parseNumberCell(head, decimalComma))) headerVotes++;
    else dataVotes++;
  }
  if (headerVotes > 0) return true;
  if (dataVotes > 0) return false;
  return (
    first.some((cell) => cell.trim() !== '') &&
    first.every((cell, j) => {
      const name = cell.trim();
      return name === '' || !body.some((row) => (row[j] ?? '').trim() === name);
    })
  );
}
