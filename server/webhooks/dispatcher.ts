// Sends webhook deliveries from the store's delivery table: claims due rows with a lease, POSTs
// each signed (sign.ts), and records success or the next attempt with backoff. Rows are written
// in the same transaction as the terminal state, so a restart loses nothing: pending rows are
// picked up by the next start, and a row whose sender died is claimed again when its lease ends.
// Hand-written rather than a queue library: pg-boss and graphile-worker need Node 22, and the
// delivery table must live in the job store's own transaction. Imports store types and sign.ts.
import type { JobStore, WebhookDelivery } from '../store/job-store';
import { webhookHeaders } from './sign';

export interface DispatcherOptions {
  secret: Buffer;
  /** Wait before attempt n+1 after attempt n failed; past the end of the list, the delivery fails. */
  backoffMs: readonly number[];
  /** How often due rows are looked for even without a wake-up, in ms. */
  pollMs: number;
  /** A claimed row is someone else's until this many ms pass (then it is claimed again). */
  leaseMs: number;
  /** Per attempt, in ms. */
  timeoutMs: number;
  /** Rows claimed per round. */
  batch: number;
  now?: () => number;
  fetch?: typeof fetch;
  onError?: (err: unknown) => void;
}

/** Standard Webhooks' schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_BACKOFF_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

export class WebhookDispatcher {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;

  constructor(
    private readonly store: JobStore,
    private readonly opts: DispatcherOptions,
  ) {
    this.#now = opts.now ?? Date.now;
    this.#fetch = opts.fetch ?? fetch;
  }

  start(): void {
    this.#timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.#timer.unref();
    this.wake();
  }

  /** Runs a round now (or right after the current one). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#rounds().finally(() => {
      this.#running = null;
    });
  }

  /** Stops claiming; waits for attempts in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  async #rounds(): Promise<void> {
    do {
      this.#again = false;
      try {
        const due = await this.store.claimDeliveries(this.#now(), this.opts.batch, this.opts.leaseMs);
        await Promise.all(due.map((d) => this.#attempt(d)));
        if (due.length === this.opts.batch) this.#again = true;
      } catch (err) {
        this.opts.onError?.(err);
      }
    } while (this.#again && !this.#stopped);
  }

  async #attempt(d: WebhookDelivery): Promise<void> {
    let error: string | null = null;
    try {
      const res = await this.#fetch(d.url, {
        method: 'POST',
        headers: webhookHeaders(this.opts.secret, d.msgId, d.body, this.#now()),
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.body?.cancel();
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (error === null) return this.store.markDelivered(d.id, this.#now());
    const wait = this.opts.backoffMs[d.attempts - 1];
    return this.store.markAttemptFailed(d.id, error, wait === undefined ? null : this.#now() + wait);
  }
}
