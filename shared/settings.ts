// User settings, persisted in the `settings` store. Plain TypeScript.
import type { BackendName } from './protocol';

export interface AppSettings {
  /** null = automatic: the fastest backend in a short measured probe (workers/backend-probe.ts). */
  backend: BackendName | null;
  /** Resume interrupted jobs at startup without asking. */
  autoResume: boolean;
  checkpointIntervalSec: number;
  historyEverySteps: number;
  /**
   * Threads for the WASM backend; null = automatic: one per logical core (navigator
   * .hardwareConcurrency, at most 8), but one for models under 10,000 parameters (workers/backend.ts
   * wasmThreadsFor). A change applies when the next job starts (the backend is initialised anew).
   */
  wasmThreads: number | null;
  /**
   * "Train jobs from the server": while sync is on, the leader tab claims jobs from the server's
   * queue when this device trains nothing of its own (src/lib/sync/runner.svelte.ts).
   */
  trainServerJobs: boolean;
}

export const DEFAULT_SETTINGS: AppSettings = {
  backend: null,
  autoResume: false,
  checkpointIntervalSec: 10,
  historyEverySteps: 10,
  wasmThreads: null,
  trainServerJobs: false,
};

export const SETTINGS_KEY = 'app-settings';
