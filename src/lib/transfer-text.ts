// Pure page logic for export, import and share: parsing the rows a user types for a prediction,
// describing predictions and files in words, and URL handling for the share target.
// Plain TypeScript: no DOM, no Svelte; unit-tested in tests/unit/transfer-text.test.ts.
import type { Prediction } from '../../shared/package-format';
import { formatBytes } from './storage';

export type ParsedRows = { ok: true; rows: number[][] } | { ok: false; error: string };

/**
 * One row per non-blank line, values separated by commas (spaces, tabs or semicolons also work).
 * `numInputs`, when known, is checked here so the user hears about a short row before any work.
 */
export function parseRows(text: string, numInputs: number | null = null): ParsedRows {
  const rows: number[][] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(/\s*[,;\t]\s*|\s+/).filter((c) => c !== '');
    const row: number[] = [];
    for (const cell of cells) {
      const value = Number(cell);
      if (!Number.isFinite(value)) return { ok: false, error: `Line ${i + 1}: “${cell}” is not a number.` };
      row.push(value);
    }
    if (numInputs !== null && row.length !== numInputs)
      return {
        ok: false,
        error: `Line ${i + 1} has ${row.length} value${row.length === 1 ? '' : 's'}, but the model takes ${numInputs}.`,
      };
    rows.push(row);
  }
  if (rows.length === 0) return { ok: false, error: 'Type at least one row of numbers, e.g. “0.1, 0.9”.' };
  return { ok: true, rows };
}

/** Shortest text that round-trips a float32 value well enough to read. */
function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, '');
}

/** One line per row: the predicted class with its probability, or the regression value. */
export function describePrediction(p: Prediction): string[] {
  return p.predicted.map((label, i) => {
    const probs = p.probabilities?.[i];
    if (!probs) return `Row ${i + 1}: ${typeof label === 'number' ? num(label) : label}`;
    const best = Math.max(...probs);
    return `Row ${i + 1}: ${String(label)} (p = ${num(best)})`;
  });
}

/** What "Copy" puts on the clipboard when the browser cannot share the file itself. */
export function shareDescription(fileName: string, byteLength: number, jobName: string, step: number | null): string {
  const at = step === null ? '' : ` at step ${step}`;
  return (
    `${fileName} (${formatBytes(byteLength)}): the Lathe training package of “${jobName}”${at}. ` +
    'Open it in Lathe (Import a file) to use the model or continue training where it stopped.'
  );
}

/** The URL query flag the share target's service worker adds after storing the shared files. */
export const SHARED_FLAG = 'shared';
export const SHARED_FILES_CACHE = 'lathe-shared-files';

/** Whether `search` asks the page to pick up shared files. */
export function hasSharedFlag(search: string): boolean {
  return new URLSearchParams(search).get(SHARED_FLAG) === '1';
}

/** `href` without the share flag, for history.replaceState. */
export function withoutSharedFlag(href: string): string {
  const url = new URL(href);
  url.searchParams.delete(SHARED_FLAG);
  return url.pathname + url.search + url.hash;
}

/** A shared file's name from its `X-File-Name` header (URI-encoded); a readable fallback otherwise. */
export function sharedFileName(header: string | null, index: number): string {
  if (!header) return `shared file ${index + 1}`;
  try {
    return decodeURIComponent(header);
  } catch {
    return header;
  }
}

/** What the import is about to read, for the busy line. */
export function describeFiles(names: string[]): string {
  if (names.length === 0) return 'no files';
  if (names.length === 1) return `“${names[0]}”`;
  return `${names.length} files (${names.map((n) => `“${n}”`).join(', ')})`;
}
