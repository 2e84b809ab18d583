// UpdateState: whether a new version of Lathe is waiting, and the rule that applying it (which
// reloads the page) never happens while a job runs. src/pwa/register.ts feeds it; UpdatePrompt
// renders it. No imports: the reload itself is injected, so the rule is testable in Node.

export type UpdatePhase =
  /** Nothing to do. */
  | 'idle'
  /** A new service worker is installed and waiting; the prompt offers Reload. */
  | 'ready'
  /** The user chose Reload while a job ran: it happens when no job runs. */
  | 'deferred'
  /** Applying: the new worker takes over and the page reloads. */
  | 'applying';

export class UpdateState {
  phase: UpdatePhase = $state('idle');
  /** Another tab applied the update: this page runs the old code under the new worker. */
  updatedElsewhere = $state(false);

  #apply: (() => void) | null = null;

  /** A new version is waiting; `apply` activates it and reloads the page. */
  offer(apply: () => void): void {
    this.#apply = apply;
    if (this.phase === 'idle') this.phase = 'ready';
  }

  /** The new version took over from another tab; reloading this page is all that is left. */
  takenOverElsewhere(reload: () => void): void {
    this.updatedElsewhere = true;
    this.offer(reload);
  }

  /** The user chose Reload. It waits while a job runs. */
  request(jobRunning: boolean): void {
    if (this.phase !== 'ready' && this.phase !== 'deferred') return;
    if (jobRunning) this.phase = 'deferred';
    else this.#applyNow();
  }

  /** Called whenever whether a job runs may have changed: a deferred update applies once none runs. */
  jobRunningChanged(jobRunning: boolean): void {
    if (this.phase === 'deferred' && !jobRunning) this.#applyNow();
  }

  /** Hides the prompt until the next update; the waiting worker still takes over on the next visit. */
  dismiss(): void {
    if (this.phase === 'ready') this.phase = 'idle';
  }

  #applyNow(): void {
    const apply = this.#apply;
    if (!apply) return;
    this.phase = 'applying';
    apply();
  }
}

/** The page's one update state. */
export const pwaUpdate = new UpdateState();
