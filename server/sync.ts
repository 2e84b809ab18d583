// What happens after the store commits: events go to open streams (hub), held-back job_progress
// events are flushed when their interval ends, and the webhook dispatcher is woken. Routes call
// this instead of the store for every write. Imports the store, hub and dispatcher types only.
import type { EventHub } from './events/hub';
import type { CancelResult, JobChange, JobStore, PushResult, StoredEvent, UserId } from './store/job-store';

export interface Waker {
  wake(): void;
}

export class Sync {
  /** One timer per job whose newest progress is held back by the throttle. */
  readonly #flushTimers = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(
    readonly store: JobStore,
    readonly hub: EventHub,
    private readonly webhooks: Waker | null,
    private readonly progressIntervalMs: number,
    private readonly now: () => number = Date.now,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async push(user: UserId, deviceId: string, changes: readonly JobChange[]): Promise<PushResult> {
    const result = await this.store.push(user, deviceId, changes, this.now());
    if (!result.ok) return result;
    this.#announce(user, result.events);
    for (const jobId of result.throttledJobs) this.#scheduleFlush(user, jobId);
    return result;
  }

  async cancel(user: UserId, jobId: string): Promise<CancelResult> {
    const result = await this.store.requestCancel(user, jobId, this.now());
    if (result.outcome === 'cancelled' || result.outcome === 'requested') this.#announce(user, result.events);
    return result;
  }

  async delete(user: UserId, jobId: string): Promise<boolean> {
    const result = await this.store.deleteJob(user, jobId, this.now());
    if (result.deleted) this.#announce(user, result.events);
    return result.deleted;
  }

  /** Publishes events another part of the server (the job queue) committed. */
  announce(user: UserId, events: readonly StoredEvent[]): void {
    this.#announce(user, events);
  }

  #announce(user: UserId, events: readonly StoredEvent[]): void {
    this.hub.publish(user, events);
    if (events.some((e) => e.type === 'job_status_changed')) this.webhooks?.wake();
  }

  #scheduleFlush(user: UserId, jobId: string): void {
    const key = `${user}\u0000${jobId}`;
    if (this.#closed || this.#flushTimers.has(key)) return;
    const timer = setTimeout(() => {
      this.#flushTimers.delete(key);
      this.store.flushProgress(user, jobId, this.now()).then(
        (event) => {
          if (event) this.hub.publish(user, [event]);
        },
        (err: unknown) => this.onError(err),
      );
    }, this.progressIntervalMs);
    timer.unref();
    this.#flushTimers.set(key, timer);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#flushTimers.values()) clearTimeout(timer);
    this.#flushTimers.clear();
  }
}
