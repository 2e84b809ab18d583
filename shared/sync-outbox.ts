// The outbox: every job write stamps the job with its next version and, while sync is on, adds a
// row with the next gap-free seq, in the same IndexedDB transaction as the job itself, so a
// change and its row land together or not at all. Rows leave only when the server acknowledges
// them. Plain TypeScript over idb; imports only types from db.ts.
import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { JobRecord } from './jobs';
import type { LatheSchema } from './db';
import { syncSnapshot, type OutboxRow, type SyncState } from './sync-types';

/** Stores a job write touches, always together. */
export const JOB_WRITE_STORES = ['jobs', 'outbox', 'sync'] as const;

type JobTx = IDBPTransaction<LatheSchema, StoreNames<LatheSchema>[], 'readwrite'>;

/**
 * Writes `job` inside `tx` with `version` = the stored one + 1, queuing it when sync is on.
 * Awaits only IndexedDB requests, so it can run inside any transaction over JOB_WRITE_STORES.
 *
 * A job trained for the server's queue (`serverJob`) is never queued. The server's row of that job
 * belongs to the queue: its state moves only by the runner API (claim, finish, lease expiry), under
 * a lease generation, and a pushed snapshot would write its state without one — a late push of
 * `paused` from a runner that lost its lease would stop the queue from handing the job on. So the
 * runner API is that job's only channel, and its local copy stays out of the outbox.
 */
export async function writeJobInTx(tx: JobTx, job: JobRecord, now: number): Promise<JobRecord> {
  const jobs = tx.objectStore('jobs');
  const stored = await jobs.get(job.id);
  const next: JobRecord = { ...job, version: Math.max(stored?.version ?? 0, job.version ?? 0) + 1 };
  const writes: Promise<unknown>[] = [jobs.put(next)];
  const sync = tx.objectStore('sync');
  const state = await sync.get('sync');
  if (state?.enabled && !next.serverJob) {
    const row: OutboxRow = { seq: state.nextSeq, jobId: job.id, version: next.version!, snapshot: syncSnapshot(next), at: now };
    writes.push(tx.objectStore('outbox').add(row), sync.put({ ...state, nextSeq: state.nextSeq + 1 }));
  }
  await Promise.all(writes);
  return next;
}

export function defaultSyncState(): SyncState {
  return { key: 'sync', enabled: false, serverUrl: '', token: '', deviceId: crypto.randomUUID(), nextSeq: 1, ackedSeq: 0, lastEventId: 0 };
}

/** Bytes of snapshots per push, under the server's 1 MiB body limit with room for the envelope. */
export const PUSH_MAX_BYTES = 800_000;
/** Changes per push (the server takes at most 500). */
export const PUSH_MAX_CHANGES = 500;

export async function readSyncState(db: IDBPDatabase<LatheSchema>): Promise<SyncState> {
  return (await db.get('sync', 'sync')) ?? defaultSyncState();
}

export async function writeSyncState(db: IDBPDatabase<LatheSchema>, patch: Partial<Omit<SyncState, 'key'>>): Promise<SyncState> {
  const tx = db.transaction('sync', 'readwrite');
  const next = { ...((await tx.store.get('sync')) ?? defaultSyncState()), ...patch, key: 'sync' as const };
  await Promise.all([tx.store.put(next), tx.done]);
  return next;
}

/**
 * Turns sync on, and queues every job as it is now (one row each, in one transaction), so the
 * server learns of jobs made before sync existed. Turning it on again queues nothing twice: rows
 * already waiting stay, and the server ignores a version it has.
 */
export async function enableSync(db: IDBPDatabase<LatheSchema>, settings: { serverUrl: string; token: string }, now: number): Promise<SyncState> {
  const tx = db.transaction(JOB_WRITE_STORES, 'readwrite');
  const sync = tx.objectStore('sync');
  const state = (await sync.get('sync')) ?? defaultSyncState();
  const wasOn = state.enabled;
  await sync.put({ ...state, ...settings, enabled: true });
  if (!wasOn) for (const job of await tx.objectStore('jobs').getAll()) await writeJobInTx(tx, job, now);
  await tx.done;
  return readSyncState(db);
}

/** The oldest waiting rows, at most PUSH_MAX_CHANGES and about PUSH_MAX_BYTES. */
export async function nextPushBatch(db: IDBPDatabase<LatheSchema>): Promise<OutboxRow[]> {
  const rows: OutboxRow[] = [];
  let bytes = 0;
  let cursor = await db.transaction('outbox').store.openCursor();
  while (cursor && rows.length < PUSH_MAX_CHANGES) {
    const size = JSON.stringify(cursor.value.snapshot).length;
    if (rows.length > 0 && bytes + size > PUSH_MAX_BYTES) break;
    rows.push(cursor.value);
    bytes += size;
    cursor = await cursor.continue();
  }
  return rows;
}

export async function outboxCount(db: IDBPDatabase<LatheSchema>): Promise<number> {
  return db.count('outbox');
}

/** The server has applied everything up to `seq`: those rows leave, in one transaction with the cursor. */
export async function acknowledge(db: IDBPDatabase<LatheSchema>, seq: number): Promise<void> {
  const tx = db.transaction(['outbox', 'sync'], 'readwrite');
  const state = (await tx.objectStore('sync').get('sync')) ?? defaultSyncState();
  await Promise.all([
    tx.objectStore('outbox').delete(IDBKeyRange.upperBound(seq)),
    tx.objectStore('sync').put({ ...state, ackedSeq: Math.max(state.ackedSeq, seq) }),
    tx.done,
  ]);
}

/**
 * The server expects `expected` but the first waiting row is later (it lost this device's history,
 * e.g. a new database): renumber the waiting rows from `expected`, in order, so nothing is lost.
 */
export async function renumberFrom(db: IDBPDatabase<LatheSchema>, expected: number): Promise<void> {
  const tx = db.transaction(['outbox', 'sync'], 'readwrite');
  const outbox = tx.objectStore('outbox');
  const rows = await outbox.getAll();
  await outbox.clear();
  let seq = expected;
  for (const row of rows) await outbox.add({ ...row, seq: seq++ });
  const state = (await tx.objectStore('sync').get('sync')) ?? defaultSyncState();
  await tx.objectStore('sync').put({ ...state, nextSeq: seq, ackedSeq: expected - 1 });
  await tx.done;
}
