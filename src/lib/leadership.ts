// Web Locks leader election: the tab holding TRAINER_LOCK_NAME is the only one that trains.
// The lock is held for the page's lifetime, so the browser hands it on when the tab closes.
import { TRAINER_LOCK_NAME } from '../../shared/protocol';

export interface LockManagerLike {
  request(name: string, callback: () => Promise<void>): Promise<unknown>;
  query?(): Promise<{ pending?: { name?: string }[] }>;
}

export class Leadership {
  #locks: LockManagerLike | null;
  #name: string;
  #isLeader = false;
  #listeners = new Set<() => void>();
  #release: (() => void) | null = null;

  constructor(locks: LockManagerLike | null = defaultLocks(), name: string = TRAINER_LOCK_NAME) {
    this.#locks = locks;
    this.#name = name;
  }

  get isLeader(): boolean {
    return this.#isLeader;
  }

  /** Calls `listener` once, when this tab becomes the leader. */
  onLeader(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Queues for the lock; resolves when this tab leads, which may be never while another tab lives. */
  claim(): Promise<void> {
    if (!this.#locks) {
      // No Web Locks (very old browser or insecure context): a lone tab must still train.
      this.#become();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const held = new Promise<void>((release) => {
        this.#release = release;
      });
      void this.#locks!.request(this.#name, () => {
        this.#become();
        resolve();
        return held;
      }).catch(reject);
    });
  }

  /**
   * How many other tabs wait to lead, i.e. are open and mirroring this one. Without Web Locks
   * this cannot be known, so it answers 1 and events keep flowing.
   */
  async followers(): Promise<number> {
    if (!this.#locks?.query) return 1;
    const snapshot = await this.#locks.query();
    return (snapshot.pending ?? []).filter((l) => l.name === this.#name).length;
  }

  /** Lets another tab lead (used when this page is torn down without unloading, e.g. in tests). */
  release(): void {
    this.#release?.();
    this.#release = null;
    this.#isLeader = false;
  }

  #become(): void {
    this.#isLeader = true;
    for (const listener of this.#listeners) listener();
  }
}

function defaultLocks(): LockManagerLike | null {
  return typeof navigator !== 'undefined' && 'locks' in navigator ? navigator.locks : null;
}
