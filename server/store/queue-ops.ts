// The runner queue's transactions are written once, as generators that yield SQL operations;
// each store runs them its own way (SQLite synchronously inside one immediate transaction,
// PostgreSQL on one pooled client between BEGIN and COMMIT). SQL uses `?` placeholders and the
// subset both engines share. Imports the store's types only.
import type { EventType, StoredEvent } from './job-store';

export type SqlValue = string | number | null | Buffer;

export type QueueOp =
  | { kind: 'all'; sql: string; params: SqlValue[]; skipLocked?: boolean }
  | { kind: 'run'; sql: string; params: SqlValue[] }
  /** Takes the user's write lock (and creates the user): the first op of every write. */
  | { kind: 'lockUser'; user: string }
  | { kind: 'event'; user: string; type: EventType; jobId: string; data: Record<string, unknown>; now: number }
  | { kind: 'webhook'; type: string; data: Record<string, unknown>; now: number };

export type QueueTx<R> = Generator<QueueOp, R, unknown>;

/** Runs a queue transaction: all of it commits, or (on a throw) none of it. */
export interface QueueDriver {
  run<R>(tx: () => QueueTx<R>): Promise<R>;
}

/**
 * Rows of a SELECT. With `skipLocked`, PostgreSQL appends `FOR UPDATE SKIP LOCKED` (rows other
 * transactions are claiming are passed over); SQLite needs nothing, its writers run one at a time.
 */
export function* all<T>(sql: string, params: SqlValue[], skipLocked = false): QueueTx<T[]> {
  return (yield { kind: 'all', sql, params, skipLocked }) as T[];
}

export function* one<T>(sql: string, params: SqlValue[]): QueueTx<T | undefined> {
  return (yield* all<T>(sql, params))[0];
}

/** An INSERT, UPDATE or DELETE; resolves with the number of rows changed. */
export function* run(sql: string, params: SqlValue[]): QueueTx<number> {
  return (yield { kind: 'run', sql, params }) as number;
}

export function* lockUser(user: string): QueueTx<void> {
  yield { kind: 'lockUser', user };
}

export function* event(user: string, type: EventType, jobId: string, data: Record<string, unknown>, now: number): QueueTx<StoredEvent> {
  return (yield { kind: 'event', user, type, jobId, data, now }) as StoredEvent;
}

export function* webhook(type: string, data: Record<string, unknown>, now: number): QueueTx<void> {
  yield { kind: 'webhook', type, data, now };
}

/** `?` placeholders to PostgreSQL's `$1, $2…` (queue SQL never has a `?` inside a literal). */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Drives a generator synchronously (SQLite), answering each op with `answer`. */
export function driveSync<R>(tx: QueueTx<R>, answer: (op: QueueOp) => unknown): R {
  let step = tx.next();
  while (!step.done) step = tx.next(answer(step.value));
  return step.value;
}

/** Drives a generator asynchronously (PostgreSQL). */
export async function driveAsync<R>(tx: QueueTx<R>, answer: (op: QueueOp) => Promise<unknown>): Promise<R> {
  let step = tx.next();
  while (!step.done) step = tx.next(await answer(step.value));
  return step.value;
}
