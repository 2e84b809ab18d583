// A job's log: a bounded, structured timeline of what happened to it (worker started, stages,
// checkpoints, pauses, resumes, crashes, the end), stored with the job record. Its newest line is
// what a one-line status (the sync server's `last_log`) shows. Plain TypeScript.
import type { JobRecord } from './jobs';

export const JOB_LOG_KINDS = [
  'queued',
  'worker-started',
  'stage',
  'checkpoint',
  'paused',
  'breakpoint',
  'resumed',
  'interrupted',
  'crashed',
  'cancelled',
  'failed',
  'completed',
  'imported',
  'note',
] as const;
export type JobLogKind = (typeof JOB_LOG_KINDS)[number];

export interface JobLogEntry {
  /** Wall clock, ms since the epoch. */
  at: number;
  kind: JobLogKind;
  /** One human sentence; the first 80 characters must make sense alone. */
  text: string;
  /** Figures behind the sentence, e.g. `{ step: 120, bytes: 4840, ms: 12 }`. */
  data?: Record<string, number | string | null>;
  /** A failure's stack, kept only on `failed` entries. */
  stack?: string;
}

/** Entries kept per job. Past it, routine entries (stages, checkpoints) go first, oldest first. */
export const MAX_LOG_ENTRIES = 200;
/** Length of the one-line status (SimpleTuner's `last_log`). */
export const LAST_LOG_CHARS = 80;

const ROUTINE: ReadonlySet<JobLogKind> = new Set(['stage', 'checkpoint', 'note']);

/** The log with `entry` appended and bounded; never mutates `log`. */
export function appendEntry(log: readonly JobLogEntry[] | undefined, entry: JobLogEntry): JobLogEntry[] {
  const next = [...(log ?? []), entry];
  while (next.length > MAX_LOG_ENTRIES) {
    const routine = next.findIndex((e) => ROUTINE.has(e.kind));
    next.splice(routine >= 0 && routine < next.length - 1 ? routine : 0, 1);
  }
  return next;
}

/** The job with one more log entry. */
export function withLog(job: JobRecord, kind: JobLogKind, text: string, at: number, extra: Pick<JobLogEntry, 'data' | 'stack'> = {}): JobRecord {
  return { ...job, log: appendEntry(job.log, { at, kind, text, ...extra }) };
}

/** The newest entry's text, cut to LAST_LOG_CHARS (with an ellipsis when cut); null without a log. */
export function lastLogLine(job: Pick<JobRecord, 'log'>): string | null {
  const last = job.log?.[job.log.length - 1];
  if (!last) return null;
  return last.text.length <= LAST_LOG_CHARS ? last.text : `${last.text.slice(0, LAST_LOG_CHARS - 1)}…`;
}

/** Longest entry text kept from outside sources (imported packages), in characters. */
const MAX_IMPORTED_TEXT_CHARS = 500;

/** Well-formed entries of a log from outside (an imported package); anything else is dropped. */
export function sanitizeLog(value: unknown): JobLogEntry[] {
  if (!Array.isArray(value)) return [];
  const kinds: ReadonlySet<string> = new Set(JOB_LOG_KINDS);
  const out: JobLogEntry[] = [];
  for (const e of value as unknown[]) {
    if (typeof e !== 'object' || e === null) continue;
    const { at, kind, text } = e as Record<string, unknown>;
    if (typeof at !== 'number' || !Number.isFinite(at) || typeof kind !== 'string' || !kinds.has(kind) || typeof text !== 'string') continue;
    out.push({ at, kind: kind as JobLogKind, text: text.slice(0, MAX_IMPORTED_TEXT_CHARS) });
  }
  return out.slice(-MAX_LOG_ENTRIES);
}
