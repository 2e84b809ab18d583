// The in-process wake-up for event streams: after a transaction commits, the events it wrote are
// published to that user's open streams. The event table stays the truth (a stream that misses a
// wake-up, or lags, reads the table); with several instances (issue 12) LISTEN/NOTIFY replaces
// this. Also counts open streams against the caps. Imports the store's types only.
import type { StoredEvent, UserId } from '../store/job-store';

export type Listener = (events: readonly StoredEvent[]) => void;

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

  get total(): number {
    return this.#total;
  }

  countFor(user: UserId): number {
    return this.#listeners.get(user)?.size ?? 0;
  }
}
