// Every JobStore implementation the contract suites run over: SQLite on a file and in memory,
// and PostgreSQL (a fresh schema each time) when LATHE_TEST_DATABASE_URL is set (tests/server/pg.ts).
import { join } from 'node:path';
import type { JobStore, StoreOptions } from '../../server/store/job-store';
import { PgJobStore } from '../../server/store/pg-store';
import { SqliteJobStore } from '../../server/store/sqlite-store';
import { tempDir } from './helpers';
import { freshSchema, PG_URL } from './pg';

export interface Harness {
  store: JobStore;
  /** Stores that open asynchronously (PostgreSQL) are ready after this. */
  ready?: Promise<void>;
  /** Closes and opens the same storage again; absent for stores that cannot outlive close(). */
  reopen?: () => Promise<JobStore>;
  dispose: () => Promise<void>;
}

export const OPTS: StoreOptions = { webhookUrls: ['http://127.0.0.1:9/hook-a', 'http://127.0.0.1:9/hook-b'], progressIntervalMs: 1000 };

export const implementations: [string, () => Harness][] = [
  [
    'SQLite file',
    () => {
      const dir = tempDir();
      const path = join(dir.path, 'lathe.db');
      const h: Harness = {
        store: new SqliteJobStore(path, OPTS),
        reopen: async () => {
          await h.store.close();
          h.store = new SqliteJobStore(path, OPTS);
          return h.store;
        },
        dispose: async () => {
          await h.store.close();
          dir.remove();
        },
      };
      return h;
    },
  ],
  [
    'SQLite :memory:',
    () => {
      const h: Harness = { store: new SqliteJobStore(':memory:', OPTS), dispose: async () => h.store.close() };
      return h;
    },
  ],
];

if (PG_URL !== null) {
  implementations.push([
    'PostgreSQL',
    () => {
      const db = freshSchema();
      const h: Harness = {
        store: null as unknown as JobStore,
        reopen: async () => {
          await h.store.close();
          h.store = await PgJobStore.open(db.conn, OPTS);
          return h.store;
        },
        dispose: async () => {
          await h.store?.close();
          await db.drop();
        },
      };
      h.ready = PgJobStore.open(db.conn, OPTS).then((s) => void (h.store = s));
      return h;
    },
  ]);
}

