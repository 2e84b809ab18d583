// The bench's own IndexedDB databases: one with the app's schema (checkpoints are written by the
// app's own transaction), one with a plain object store for the raw-put baseline. Never the app's.
import { openDB, type IDBPDatabase } from 'idb';
import { openLatheDb, type LatheDb } from '../../shared/db';

export const BENCH_DB_NAME = 'lathe-bench';
export const RAW_DB_NAME = 'lathe-bench-raw';
const RAW_STORE = 'blobs';

export type RawDb = IDBPDatabase;

export function openBenchDb(): Promise<LatheDb> {
  return openLatheDb(BENCH_DB_NAME);
}

export function openRawDb(): Promise<RawDb> {
  return openDB(RAW_DB_NAME, 1, {
    upgrade(db) {
      db.createObjectStore(RAW_STORE, { keyPath: 'id' });
    },
  });
}

/** One `put` of `data` in its own readwrite transaction, awaited until it commits; in ms. */
export async function timedRawPut(db: RawDb, id: string, data: ArrayBuffer): Promise<number> {
  const t0 = performance.now();
  const tx = db.transaction(RAW_STORE, 'readwrite');
  await Promise.all([tx.store.put({ id, data }), tx.done]);
  return performance.now() - t0;
}

/** One `get` of a stored blob, in ms. */
export async function timedRawGet(db: RawDb, id: string): Promise<number> {
  const t0 = performance.now();
  const rec = (await db.get(RAW_STORE, id)) as { data?: ArrayBuffer } | undefined;
  if (!rec?.data) throw new Error(`The raw bench store has no ${id}.`);
  return performance.now() - t0;
}

/** Deletes a database; its connections must be closed first or this waits for them. */
export function deleteDb(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error(`Could not delete ${name}`));
  });
}

/** Starts every run from empty databases, so earlier runs' records do not change the timings. */
export async function resetBenchDbs(): Promise<void> {
  await deleteDb(BENCH_DB_NAME);
  await deleteDb(RAW_DB_NAME);
}
