// The pure half of the browser runner (src/lib/sync/runner.svelte.ts): how often to renew a lease
// and to ask for work, what a change of the local job means for the server's turn, what a claim a
// browser cannot train is refused for, and the checkpoint upload queue (one upload in flight,
// skipping to the newest, silenced for good once the lease is lost). Plain TypeScript: no DOM, no
// tfjs; the runner class does the I/O.
import type { JobRecord } from './jobs';

/** A runner renews every third of its lease, so one late or failed renewal still leaves time for the next. */
export function renewEveryMs(leaseMs: number): number {
  return Math.max(250, Math.floor(leaseMs / 3));
}

/** Waits before asking for work again after "nothing queued" (204), growing; in ms. Events wake it sooner. */
export const CLAIM_EMPTY_BACKOFF_MS = [2_000, 5_000, 10_000, 30_000, 60_000] as const;
/** Waits after the server could not be reached or failed; in ms. A server that is down is asked rarely, and quietly. */
export const CLAIM_FAILURE_BACKOFF_MS = [5_000, 15_000, 30_000, 60_000] as const;

/** How long the runner waits before its next claim, after `streak` answers of the same kind in a row (1 = the first). */
export function claimDelayMs(answer: 'empty' | 'failed', streak: number): number {
  const steps = answer === 'empty' ? CLAIM_EMPTY_BACKOFF_MS : CLAIM_FAILURE_BACKOFF_MS;
  return steps[Math.min(Math.max(streak, 1), steps.length) - 1]!;
}

export type FinishOutcome = 'completed' | 'failed' | 'cancelled' | 'paused';

/** What the local copy's newest record asks of the runner. */
export type TurnAction =
  | { kind: 'wait' }
  /** A checkpoint newer than the last one uploaded was written: upload it. */
  | { kind: 'upload'; step: number }
  /** The local run ended: upload its last checkpoint if `upload` (awaited), then finish the turn. */
  | { kind: 'finish'; outcome: FinishOutcome; step: number; message: string | null; upload: boolean };

/**
 * The turn's next move after the local job changed. `uploadedStep` is the newest checkpoint step
 * uploaded (or in flight) in this turn, null before the first. Paused covers a breakpoint, a remote
 * pause and a local one alike: the checkpoint of that step goes up first, so a resume anywhere
 * continues from exactly there. A job interrupted by a lost GPU is paused on the server too: it
 * can be resumed from its checkpoint, which a "failed" could not.
 */
export function turnAction(job: Pick<JobRecord, 'state' | 'checkpointStep' | 'progress' | 'error' | 'notice'>, uploadedStep: number | null): TurnAction {
  const checkpoint = job.checkpointStep;
  const newer = checkpoint !== null && (uploadedStep === null || checkpoint > uploadedStep);
  switch (job.state) {
    case 'queued':
    case 'running':
      return newer ? { kind: 'upload', step: checkpoint } : { kind: 'wait' };
    case 'paused':
      return { kind: 'finish', outcome: 'paused', step: checkpoint ?? job.progress.step, message: job.notice, upload: newer };
    case 'interrupted':
      return { kind: 'finish', outcome: 'paused', step: checkpoint ?? 0, message: job.notice ?? 'interrupted on the runner', upload: newer };
    case 'completed':
      return { kind: 'finish', outcome: 'completed', step: checkpoint ?? job.progress.step, message: null, upload: newer };
    case 'cancelled':
      return { kind: 'finish', outcome: 'cancelled', step: job.progress.step, message: null, upload: false };
    case 'failed':
      return { kind: 'finish', outcome: 'failed', step: job.progress.step, message: job.error?.message ?? 'failed on the runner', upload: false };
  }
}

/**
 * Why a browser runner cannot train a claimed job, or null when it can. The server hands datasets
 * out as the bytes that were uploaded, and a browser turns them into a dataset through its CSV
 * import, so only tables (MLP models) are taken; images and text would need their own formats.
 */
export function refusalOf(config: Record<string, unknown>): string | null {
  const model = config.model as { kind?: unknown } | undefined;
  const kind = typeof model?.kind === 'string' ? model.kind : 'unknown';
  if (kind !== 'mlp')
    return `A browser runner trains tables (CSV datasets, MLP models) only; this job's model is "${kind}".`;
  return null;
}

/** The turn's upload channel: one upload in flight, skipping to the newest, closed for good by `fence`. */
export class LatestOnlyUploads {
  #upload: () => Promise<number>;
  #onError: (error: unknown) => void;
  #running: Promise<void> | null = null;
  #wanted = false;
  #fenced = false;
  /** The newest step the server acknowledged. */
  uploaded: number | null = null;

  /** `upload` sends the newest checkpoint and resolves with its step; `onError` hears every failure. */
  constructor(upload: () => Promise<number>, onError: (error: unknown) => void) {
    this.#upload = upload;
    this.#onError = onError;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** A newer checkpoint exists: upload it now, or right after the one in flight (requests meanwhile merge into one). */
  request(): void {
    if (this.#fenced) return;
    this.#wanted = true;
    this.#running ??= this.#drain();
  }

  /** Resolves when nothing is in flight or waiting (after any upload requested before). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** The lease is lost: nothing more is ever sent for this turn (an upload already on the wire may land, and is refused). */
  fence(): void {
    this.#fenced = true;
    this.#wanted = false;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#wanted && !this.#fenced) {
        this.#wanted = false;
        try {
          const step = await this.#upload();
          this.uploaded = this.uploaded === null ? step : Math.max(this.uploaded, step);
        } catch (error) {
          this.#onError(error);
        }
      }
    } finally {
      this.#running = null;
    }
  }
}
