// Test helpers for the sync server: job snapshots as the app pushes them, temp folders, and an
// app built in process with a temp database. Imports server/ and node built-ins only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobState } from '../../shared/jobs';
import type { JobChange, JobSnapshot } from '../../server/store/job-store';

export function tempDir(prefix = 'lathe-server-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function snapshot(state: JobState, extra: Partial<JobSnapshot> = {}): JobSnapshot {
  return {
    id: 'ignored-by-store',
    name: 'xor run',
    state,
    progress: { stage: 'training', percent: 10, step: 5 },
    log: [{ at: 1, kind: 'started', text: 'worker started on wasm' }],
    ...extra,
  };
}

/** A change; `seq` and `version` default to each other for brevity. */
export function change(seq: number, jobId: string, state: JobState, version = seq, extra: Partial<JobSnapshot> = {}): JobChange {
  return { seq, jobId, version, snapshot: { ...snapshot(state, extra), id: jobId } };
}
