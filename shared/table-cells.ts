// What a single cell or header means: missing-value tokens, the number grammar, column names,
// the order of class names, and the file line of a data row. Plain TypeScript; imports only types.
import type { TableData } from './table-types';

/**
 * Cells that mean "no value", compared after trimming and ignoring case. Empty and whitespace-only
 * cells are missing too. "?" is how several classic datasets (UCI) mark gaps. Words like "None" or
 * "-" are deliberately not here: in real tables they are often a category of their own.
 */
export const NA_TOKENS: readonly string[] = ['NA', 'N/A', 'NaN', 'null', '#N/A', '<NA>', '?'];
const NA_LOWER = new Set(NA_TOKENS.map((t) => t.toLowerCase()));
const NA_MAX_CHARS = Math.max(...NA_TOKENS.map((t) => t.length));

/** Largest magnitude a Float32 holds; bigger numbers would become Infinity in the model's inputs. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** 1 at the char codes that start an NA token: other cells skip lower-casing and the set lookup (this runs per cell). */
const NA_FIRST_CHARS = new Uint8Array(128);
for (const t of NA_TOKENS) for (const c of [t.toLowerCase(), t.toUpperCase()]) NA_FIRST_CHARS[c.charCodeAt(0)] = 1;

/** `text` must already be trimmed. */
export function isMissingCell(text: string): boolean {
  const n = text.length;
  if (n === 0) return true;
  return n <= NA_MAX_CHARS && NA_FIRST_CHARS[text.charCodeAt(0)] === 1 && NA_LOWER.has(text.toLowerCase());
}

/** A cell without surrounding whitespace. Most cells have none: the check on both ends skips trim(). */
export function trimCell(cell: string): string {
  const first = cell.charCodeAt(0);
  const last = cell.charCodeAt(cell.length - 1);
  return first > 32 && first < 127 && last > 32 && last < 127 ? cell : cell.trim();
}

/**
 * A trimmed, non-missing cell as a number, or NaN when it is text. Accepted: an optional sign,
 * digits with an optional decimal point, an optional exponent ("+1.5e-3", ".5", "7."). Not
 * accepted: thousands separators ("1,234" is ambiguous between locales), currency or percent
 * signs, hex/binary/octal literals, Infinity, and magnitudes beyond Float32. With `decimalComma`
 * (semicolon-separated files, as European spreadsheets write them) one comma stands for the point.
 */
export function parseNumberCell(text: string, decimalComma = false): number {
  const fast = parsePlainDecimal(text);
  if (fast === fast) return fast;
  const c0 = text.charCodeAt(0);
  // Digits, '+', '-', '.': anything else cannot start a number, and skipping Number() is cheaper.
  if (!((c0 >= 48 && c0 <= 57) || c0 === 43 || c0 === 45 || c0 === 46)) return NaN;
  let value = Number(text);
  if (value !== value) {
    if (!decimalComma || text.indexOf('.') >= 0) return NaN;
    const comma = text.indexOf(',');
    if (comma < 0 || text.indexOf(',', comma + 1) >= 0) return NaN;
    value = Number(text.replace(',', '.'));
    if (value !== value) return NaN;
  }
  // Number() also reads "0x1F", "0b1", "0o7"; a table cell that looks like that is a code, not a number.
  if (c0 === 48 && text.length > 2) {
    const c1 = text.charCodeAt(1) | 32;
    if (c1 === 120 || c1 === 98 || c1 === 111) return NaN;
  }
  if (!(Math.abs(value) <= FLOAT32_MAX)) return NaN;
  return value;
}

/** Exact powers of ten as doubles (10^22 is the largest). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The common case, "-12.345", without Number(): it runs once per cell, and this is about twice as
 * fast. Exact: with at most 15 digits the digits form an exact integer below 2^53, and dividing
 * it by an exact power of ten rounds once, correctly (Clinger's fast path), so the result equals
 * Number(text). Anything else (exponents, more digits, other characters) returns NaN, and
 * parseNumberCell takes the general path.
 */
function parsePlainDecimal(text: string): number {
  const n = text.length;
  let i = 0;
  let c = text.charCodeAt(0);
  const negative = c === 45;
  if (negative || c === 43) i = 1;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < n; i++) {
    c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) decimals = 0;
    else return NaN;
  }
  if (digits === 0 || digits > 15) return NaN;
  const value = decimals > 0 ? mantissa / POW10[decimals]! : mantissa;
  return negative ? -value : value;
}

/** Column names from a header row: trimmed, empty ones named "column N", duplicates "a (2)", "a (3)". */
export function columnNames(header: readonly string[] | null, width: number): { names: string[]; notices: string[] } {
  const names: string[] = [];
  const notices: string[] = [];
  const used = new Set<string>();
  for (let i = 0; i < width; i++) {
    const raw = header ? (header[i] ?? '').trim() : '';
    let name = raw === '' ? `column ${i + 1}` : raw;
    if (header && raw === '') notices.push(`Column ${i + 1} has no name in the header; it is called “${name}”.`);
    if (used.has(name)) {
      let k = 2;
      while (used.has(`${name} (${k})`)) k++;
      const renamed = `${name} (${k})`;
      notices.push(`Two columns are named “${name}”; column ${i + 1} is called “${renamed}”.`);
      name = renamed;
    }
    used.add(name);
    names.push(name);
  }
  return { names, notices };
}

/** Class-name order: numbers numerically (and before text), then text alphabetically. */
export function naturalCompare(a: string, b: string): number {
  const na = parseNumberCell(a);
  const nb = parseNumberCell(b);
  const aNum = na === na;
  const bNum = nb === nb;
  if (aNum && bNum) return na - nb || (a < b ? -1 : a > b ? 1 : 0);
  if (aNum !== bNum) return aNum ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The 1-based file line on which data row `row` (0-based) starts. */
export function fileLineOfRow(table: Pick<TableData, 'rowLines'>, row: number): number {
  const map = table.rowLines;
  if (!map || map.rows.length === 0) return row + 2;
  let lo = 0;
  let hi = map.rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (map.rows[mid]! <= row) lo = mid;
    else hi = mid - 1;
  }
  return map.lines[lo]! + (row - map.rows[lo]!);
}

/** A cell quoted for a message, shortened so one huge value cannot flood the screen. */
export function quoteValue(text: string, maxChars = 40): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return `“${oneLine.length > maxChars ? `${oneLine.slice(0, maxChars - 1)}…` : oneLine}”`;
}
