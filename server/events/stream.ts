// One SSE stream: sends a user's events after a cursor, in sequence order, each with its seq as
// the SSE `id`. Live events come from the hub; a stream that lags (or missed a wake-up) reads the
// event table, so nothing is skipped or repeated. Backpressure: at most one event is in flight;
// a client that does not drain within SLOW_CLIENT_TIMEOUT_MS, or lets more than
// MAX_BUFFERED_BYTES pile up, is dropped (it reconnects with Last-Event-ID). Nothing is buffered
// per client beyond MAX_PENDING_HINTS events already in memory. Imports the store's types only.
import type { ServerResponse } from 'node:http';
import type { JobStore, StoredEvent, UserId } from '../store/job-store';

export interface StreamTuning {
  /** A client whose socket does not drain within this many ms is dropped. */
  slowClientTimeoutMs: number;
  /** Bytes queued in the response beyond which the client is dropped at once. */
  maxBufferedBytes: number;
}

/** Events read from the table per query while catching up. */
const PAGE_SIZE = 200;
/** Live events kept for a stream that is busy writing; past this it re-reads the table. */
const MAX_PENDING_HINTS = 1000;

/** What @fastify/sse's reply.sse offers that we use. */
export interface SseSink {
  send(message: { id: string; event: string; data: unknown }): Promise<void>;
  close(): void;
}

export class SlowClientError extends Error {
  override name = 'SlowClientError';
}

export class EventStream {
  #cursor: number;
  #latest: number;
  #pending: StoredEvent[] = [];
  #busy = false;
  #closed = false;

  constructor(
    private readonly sink: SseSink,
    private readonly raw: ServerResponse,
    private readonly store: JobStore,
    private readonly user: UserId,
    start: { cursor: number; latest: number },
    private readonly tuning: StreamTuning,
    private readonly onDrop: (reason: string) => void,
  ) {
    this.#cursor = start.cursor;
    this.#latest = start.latest;
  }

  get cursor(): number {
    return this.#cursor;
  }

  /** Called by the hub with freshly committed events, or with `latestSeq` to read the table to there. */
  wake(events: readonly StoredEvent[], latestSeq?: number): void {
    if (this.#closed) return;
    for (const e of events) this.#latest = Math.max(this.#latest, e.seq);
    if (latestSeq !== undefined) this.#latest = Math.max(this.#latest, latestSeq);
    if (this.#pending.length + events.length > MAX_PENDING_HINTS) this.#pending = [];
    else this.#pending.push(...events);
    void this.pump();
  }

  close(): void {
    this.#closed = true;
    this.#pending = [];
  }

  /** Sends everything between the cursor and the newest known event; one pump runs at a time. */
  async pump(): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    try {
      while (!this.#closed && this.#cursor < this.#latest) {
        const batch = this.#takeHints() ?? (await this.store.eventsAfter(this.user, this.#cursor, PAGE_SIZE));
        if (batch.length === 0) {
          this.#latest = this.#cursor; // pruned or never written: nothing more to send
          break;
        }
        for (const event of batch) {
          if (this.#closed || event.seq !== this.#cursor + 1) break;
          await this.#write(event);
          this.#cursor = event.seq;
        }
      }
    } catch (err) {
      this.#closed = true;
      this.onDrop(err instanceof SlowClientError ? 'slow client' : 'write failed');
    } finally {
      this.#busy = false;
    }
  }

  /** The live events that continue the cursor exactly, or null when the table must be read. */
  #takeHints(): StoredEvent[] | null {
    const hints = this.#pending.filter((e) => e.seq > this.#cursor).sort((a, b) => a.seq - b.seq);
    this.#pending = [];
    if (hints.length === 0 || hints[0]!.seq !== this.#cursor + 1) return null;
    return hints;
  }

  async #write(event: StoredEvent): Promise<void> {
    if (this.raw.writableLength > this.tuning.maxBufferedBytes) throw new SlowClientError();
    const sent = this.sink.send({ id: String(event.seq), event: event.type, data: { ...event.data, at: event.createdAt } });
    // send() wrote synchronously; only a write the socket did not take needs a deadline.
    if (!this.raw.writableNeedDrain) return sent;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SlowClientError()), this.tuning.slowClientTimeoutMs);
    });
    try {
      await Promise.race([sent, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Where a new stream starts, and whether the client must re-pull because history is gone. */
export function startPosition(
  lastEventId: number | null,
  bounds: { last: number; oldest: number | null },
): { cursor: number; resync: 'history_pruned' | 'ahead_of_server' | null } {
  // Without Last-Event-ID a stream starts at "now": the client opens it, then pulls the job list.
  if (lastEventId === null) return { cursor: bounds.last, resync: null };
  if (lastEventId > bounds.last) return { cursor: bounds.last, resync: 'ahead_of_server' };
  const firstKept = bounds.oldest ?? bounds.last + 1;
  if (lastEventId < firstKept - 1) return { cursor: bounds.last, resync: 'history_pruned' };
  return { cursor: lastEventId, resync: null };
}
