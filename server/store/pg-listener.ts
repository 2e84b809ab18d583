// LISTEN on the events channel over one dedicated connection: each NOTIFY (sent at commit by any
// instance, pg-outbox.ts) wakes this instance's streams of that user, which then read the event
// table. A lost connection is re-opened with backoff; after that every stream is woken once,
// because notifications sent while it was down are gone. Imports pg-pool.ts and pg-outbox.ts.
import type pg from 'pg';
import { EVENTS_CHANNEL } from './pg-outbox';
import { openClient, type PgConnection } from './pg-pool';

const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5000;

export class PgEventListener {
  #client: pg.Client | null = null;
  #closed = false;
  #retryMs = RECONNECT_MIN_MS;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly conn: PgConnection,
    private readonly onEvent: (user: string, seq: number) => void,
    private readonly onResubscribed: () => void,
  ) {}

  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = openClient(this.conn);
    client.on('notification', (msg) => {
      if (msg.channel !== EVENTS_CHANNEL || !msg.payload) return;
      try {
        const { u, s } = JSON.parse(msg.payload) as { u: unknown; s: unknown };
        if (typeof u === 'string' && typeof s === 'number') this.onEvent(u, s);
      } catch {
        // not ours: ignore
      }
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.#client = client;
    this.#retryMs = RECONNECT_MIN_MS;
  }

  #lost(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#connect().then(
        () => this.onResubscribed(),
        () => {
          this.#retryMs = Math.min(this.#retryMs * 2, RECONNECT_MAX_MS);
          if (!this.#closed) this.#schedule();
        },
      );
    }, this.#retryMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = null;
    await client?.end();
  }
}
