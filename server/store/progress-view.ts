// Reads the parts of a pushed job snapshot the server shows without the whole snapshot: stage,
// percent and the newest log line (SimpleTuner's inline-progress shape). Pure; imports types only.
import type { JobSnapshot, ProgressView } from './job-store';

/** SimpleTuner's inline progress shows one short line. */
export const LAST_LOG_MAX_CHARS = 80;

/** Cuts to `max` characters (code points, so no emoji is split), ending with "…" when cut. */
export function truncateChars(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, max - 1).join('') + '…';
}

/** The newest entry of the job's log (largest `at`; the later one on a tie), or null. */
export function lastLogText(snapshot: JobSnapshot): string | null {
  const log = snapshot.log;
  if (!Array.isArray(log) || log.length === 0) return null;
  let newest = log[0]!;
  for (const entry of log) if (entry.at >= newest.at) newest = entry;
  // One line: a stack trace or multi-line message shows its first line.
  const firstLine = newest.text.split(/\r?\n/, 1)[0] ?? '';
  return truncateChars(firstLine, LAST_LOG_MAX_CHARS);
}

export function progressView(snapshot: JobSnapshot): ProgressView {
  const p = snapshot.progress;
  const progress = p && typeof p === 'object' ? (p as Record<string, unknown>) : null;
  const stage = progress && typeof progress.stage === 'string' ? progress.stage : null;
  const percent = progress && typeof progress.percent === 'number' && Number.isFinite(progress.percent) ? progress.percent : null;
  return { stage, percent, lastLog: lastLogText(snapshot), progress };
}
