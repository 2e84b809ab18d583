// The PostgreSQL side of what the server sends out: the per-user event sequence (SSE ids), its
// NOTIFY wake-up for other instances, and the webhook delivery table. Used by pg-store.ts inside
// its transactions; imports pg types, node:crypto and the store's types only.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { EventType, StoredEvent, WebhookDelivery } from './job-store';
import type { Queryable } from './pg-pool';

/** The NOTIFY channel: payload `{"u": user, "s": newest seq}`; the event table stays the truth. */
export const EVENTS_CHANNEL = 'lathe_events';

interface EventRow {
  seq: number;
  type: EventType;
  job_id: string;
  data: string;
  created_at: number;
}

const toStoredEvent = (r: EventRow): StoredEvent => ({
  seq: r.seq,
  type: r.type,
  jobId: r.job_id,
  data: JSON.parse(r.data) as Record<string, unknown>,
  createdAt: r.created_at,
});

/**
 * Takes the user's row lock for the rest of the transaction. Every write transaction of a user
 * starts here, so their events get sequence numbers in commit order (a reader that sees seq n
 * sees every seq below it) and two instances never interleave one user's writes.
 */
export async function lockUser(q: Queryable, user: string): Promise<void> {
  // One round trip: the no-op update of an existing row takes its lock like FOR UPDATE does.
  await q.query('INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET id = excluded.id', [user]);
}

/** Appends one event (the caller holds the user's lock) and queues its NOTIFY for commit. */
export async function appendEvent(
  q: Queryable,
  user: string,
  type: EventType,
  jobId: string,
  data: Record<string, unknown>,
  now: number,
): Promise<StoredEvent> {
  // One round trip: next seq, the row, and its NOTIFY (delivered only if the transaction
  // commits, and in commit order).
  const { rows } = await q.query<{ seq: number }>(
    `WITH s AS (UPDATE users SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq),
     e AS (INSERT INTO events (user_id, seq, type, job_id, data, created_at)
           SELECT $1, event_seq, $2, $3, $4, $5 FROM s RETURNING seq)
     SELECT seq, pg_notify($6, json_build_object('u', $1::text, 's', seq)::text) FROM e`,
    [user, type, jobId, JSON.stringify(data), now, EVENTS_CHANNEL],
  );
  const seq = rows[0]!.seq;
  return { seq, type, jobId, data, createdAt: now };
}

export async function enqueueWebhook(q: Queryable, urls: readonly string[], type: string, data: Record<string, unknown>, now: number): Promise<void> {
  if (urls.length === 0) return;
  const msgId = `msg_${randomUUID()}`;
  const body = JSON.stringify({ type, timestamp: new Date(now).toISOString(), data });
  for (const url of urls)
    await q.query('INSERT INTO webhook_deliveries (msg_id, url, body, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $4)', [msgId, url, body, now]);
}

export async function eventsAfter(pool: pg.Pool, user: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
  const { rows } = await pool.query<EventRow>(
    'SELECT seq, type, job_id, data, created_at FROM events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
    [user, afterSeq, limit],
  );
  return rows.map(toStoredEvent);
}

export async function eventBounds(pool: pg.Pool, user: string): Promise<{ last: number; oldest: number | null }> {
  const { rows } = await pool.query<{ last: number | null; oldest: number | null }>(
    'SELECT (SELECT event_seq FROM users WHERE id = $1) AS last, (SELECT MIN(seq) FROM events WHERE user_id = $1) AS oldest',
    [user],
  );
  return { last: rows[0]?.last ?? 0, oldest: rows[0]?.oldest ?? null };
}

/** Each due row goes to one claimer: rows another instance is claiming are skipped, not waited on. */
export async function claimDeliveries(pool: pg.Pool, now: number, limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
  const { rows } = await pool.query<{ id: number; msg_id: string; url: string; body: string; attempts: number }>(
    `WITH due AS (
       SELECT id FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
       ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE webhook_deliveries w SET locked_until = $3, attempts = w.attempts + 1
     FROM due WHERE w.id = due.id
     RETURNING w.id, w.msg_id, w.url, w.body, w.attempts`,
    [now, limit, now + leaseMs],
  );
  return rows.sort((a, b) => a.id - b.id).map((r) => ({ id: r.id, msgId: r.msg_id, url: r.url, body: r.body, attempts: r.attempts }));
}

export async function markDelivered(pool: pg.Pool, id: number, now: number): Promise<void> {
  await pool.query(
    "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $1, locked_until = NULL, last_error = NULL WHERE id = $2",
    [now, id],
  );
}

export async function markAttemptFailed(pool: pg.Pool, id: number, error: string, nextAttemptAt: number | null): Promise<void> {
  if (nextAttemptAt === null)
    await pool.query("UPDATE webhook_deliveries SET status = 'failed', last_error = $1, locked_until = NULL WHERE id = $2", [error, id]);
  else
    await pool.query('UPDATE webhook_deliveries SET last_error = $1, next_attempt_at = $2, locked_until = NULL WHERE id = $3', [error, nextAttemptAt, id]);
}

export async function deliveryStatus(pool: pg.Pool, id: number): Promise<{ status: 'pending' | 'delivered' | 'failed'; attempts: number } | null> {
  const { rows } = await pool.query<{ status: 'pending' | 'delivered' | 'failed'; attempts: number }>(
    'SELECT status, attempts FROM webhook_deliveries WHERE id = $1',
    [id],
  );
  return rows[0] ?? null;
}
