// The in-process wake-up for event streams: after a transaction commits, the events it wrote are
// published to that user's open streams. The event table stays the truth (a stream that misses a
// wake-up, or lags, reads the table). With PostgreSQL, other instances' commits arrive through
// LISTEN/NOTIFY as `wakeTo(user, seq)`: no events, only how far the table now goes. Also counts
// this instance's open streams against the caps. Imports the store's types only.
import type { StoredEvent, UserId } from '../store/job-store';

/** Fresh events, or none with `latestSeq`: the table holds events up to that seq. */
export type Listener = (events: readonly StoredEvent[], latestSeq?: number) => void;

export interface StreamCaps {
  /** Open streams per user (all of a user's tokens together). */
  perUser: number;
  /** Open streams on this server. */
  total: number;
}

export class EventHub {
  readonly #listeners = new Map<UserId, Set<Listener>>();
  #total = 0;

  constructor(readonly caps: StreamCaps) {}

  /** Takes a stream slot; null when a cap is reached (the route answers 503). */
  open(user: UserId, listener: Listener): (() => void) | null {
    const set = this.#listeners.get(user) ?? new Set<Listener>();
    if (set.size >= this.caps.perUser || this.#total >= this.caps.total) return null;
    set.add(listener);
    this.#listeners.set(user, set);
    this.#total++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      set.delete(listener);
      this.#total--;
      if (set.size === 0) this.#listeners.delete(user);
    };
  }

  publish(user: UserId, events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.#listeners.get(user) ?? []) listener(events);
  }

  /** Another instance committed the user's events up to `seq`: streams read them from the table. */
  wakeTo(user: UserId, seq: number): void {
    for (const listener of this.#listeners.get(user) ?? []) listener([], seq);
  }

  /** Wake-ups may have been missed (the LISTEN connection was lost): every stream re-reads. */
  wakeAll(): void {
    for (const set of this.#listeners.values()) for (const listener of set) listener([], Number.MAX_SAFE_INTEGER);
  }

  get total(): number {
    return this.#total;
  }

  countFor(user: UserId): number {
    return this.#listeners.get(user)?.size ?? 0;
  }
}
