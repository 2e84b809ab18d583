// The SQLite side of what the server sends out: the per-user event sequence (SSE ids) and the
// webhook delivery table. Used by sqlite-store.ts inside its transactions; imports better-sqlite3
// types, node:crypto and the store's types only.
import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { EventType, StoredEvent, WebhookDelivery } from './job-store';

interface EventRow {
  seq: number;
  type: EventType;
  job_id: string;
  data: string;
  created_at: number;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    seq: row.seq,
    type: row.type,
    jobId: row.job_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: row.created_at,
  };
}

export class SqliteOutbox {
  readonly #ensureUser: Statement<[string]>;
  readonly #bumpSeq: Statement<[string], { event_seq: number }>;
  readonly #insertEvent: Statement<[string, number, string, string, string, number]>;
  readonly #eventsAfter: Statement<[string, number, number], EventRow>;
  readonly #bounds: Statement<[{ user: string }], { last: number | null; oldest: number | null }>;
  readonly #prune: Statement<[number]>;
  readonly #insertDelivery: Statement<[string, string, string, number, number]>;
  readonly #due: Statement<[{ now: number; limit: number }], { id: number; msg_id: string; url: string; body: string; attempts: number }>;
  readonly #lease: Statement<[number, number]>;
  readonly #delivered: Statement<[number, number]>;
  readonly #failedAttempt: Statement<[string, number, number]>;
  readonly #gaveUp: Statement<[string, number]>;
  readonly #status: Statement<[number], { status: 'pending' | 'delivered' | 'failed'; attempts: number }>;

  constructor(private readonly db: Database) {
    this.#ensureUser = db.prepare('INSERT OR IGNORE INTO users (id) VALUES (?)');
    this.#bumpSeq = db.prepare('UPDATE users SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq');
    this.#insertEvent = db.prepare(
      'INSERT INTO events (user_id, seq, type, job_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#eventsAfter = db.prepare(
      'SELECT seq, type, job_id, data, created_at FROM events WHERE user_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.#bounds = db.prepare(
      'SELECT (SELECT event_seq FROM users WHERE id = @user) AS last, (SELECT MIN(seq) FROM events WHERE user_id = @user) AS oldest',
    );
    this.#prune = db.prepare('DELETE FROM events WHERE created_at < ?');
    this.#insertDelivery = db.prepare(
      'INSERT INTO webhook_deliveries (msg_id, url, body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#due = db.prepare(
      `SELECT id, msg_id, url, body, attempts FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at <= @now AND (locked_until IS NULL OR locked_until <= @now)
       ORDER BY next_attempt_at, id LIMIT @limit`,
    );
    this.#lease = db.prepare('UPDATE webhook_deliveries SET locked_until = ?, attempts = attempts + 1 WHERE id = ?');
    this.#delivered = db.prepare(
      "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = ?, locked_until = NULL, last_error = NULL WHERE id = ?",
    );
    this.#failedAttempt = db.prepare(
      'UPDATE webhook_deliveries SET last_error = ?, next_attempt_at = ?, locked_until = NULL WHERE id = ?',
    );
    this.#gaveUp = db.prepare(
      "UPDATE webhook_deliveries SET status = 'failed', last_error = ?, locked_until = NULL WHERE id = ?",
    );
    this.#status = db.prepare('SELECT status, attempts FROM webhook_deliveries WHERE id = ?');
  }

  ensureUser(user: string): void {
    this.#ensureUser.run(user);
  }

  /** Appends one event to the user's sequence; call inside the transaction that causes it. */
  append(user: string, type: EventType, jobId: string, data: Record<string, unknown>, now: number): StoredEvent {
    this.#ensureUser.run(user);
    const { event_seq: seq } = this.#bumpSeq.get(user)!;
    this.#insertEvent.run(user, seq, type, jobId, JSON.stringify(data), now);
    return { seq, type, jobId, data, createdAt: now };
  }

  /** One delivery row per URL, all with one message id (receivers deduplicate on it per endpoint). */
  enqueueWebhook(urls: readonly string[], type: string, data: Record<string, unknown>, now: number): void {
    if (urls.length === 0) return;
    const msgId = `msg_${randomUUID()}`;
    const body = JSON.stringify({ type, timestamp: new Date(now).toISOString(), data });
    for (const url of urls) this.#insertDelivery.run(msgId, url, body, now, now);
  }

  eventsAfter(user: string, afterSeq: number, limit: number): StoredEvent[] {
    return this.#eventsAfter.all(user, afterSeq, limit).map(toStoredEvent);
  }

  bounds(user: string): { last: number; oldest: number | null } {
    const row = this.#bounds.get({ user });
    return { last: row?.last ?? 0, oldest: row?.oldest ?? null };
  }

  prune(before: number): number {
    return this.#prune.run(before).changes;
  }

  claim(now: number, limit: number, leaseMs: number): WebhookDelivery[] {
    return this.db.transaction(() => {
      const rows = this.#due.all({ now, limit });
      for (const row of rows) this.#lease.run(now + leaseMs, row.id);
      return rows.map((r) => ({ id: r.id, msgId: r.msg_id, url: r.url, body: r.body, attempts: r.attempts + 1 }));
    }).immediate();
  }

  markDelivered(id: number, now: number): void {
    this.#delivered.run(now, id);
  }

  markAttemptFailed(id: number, error: string, nextAttemptAt: number | null): void {
    if (nextAttemptAt === null) this.#gaveUp.run(error, id);
    else this.#failedAttempt.run(error, nextAttemptAt, id);
  }

  status(id: number): { status: 'pending' | 'delivered' | 'failed'; attempts: number } | null {
    return this.#status.get(id) ?? null;
  }
}
