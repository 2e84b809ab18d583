// Plain rules for settings values: what `?backend=` may say, and which stored values are sane.
import { isBackendName, type BackendName } from '../../shared/protocol';
import { DEFAULT_SETTINGS, type AppSettings } from '../../shared/settings';

export const MIN_CHECKPOINT_INTERVAL_SEC = 1;
export const MAX_CHECKPOINT_INTERVAL_SEC = 3600;
/** The WASM backend's thread pool holds at most 8 threads (workers/wasm-threads.ts). */
export const MAX_WASM_THREADS = 8;

/** The thread counts the settings offer on a machine with `cores` logical cores: 1 to min(cores, 8). */
export function wasmThreadChoices(cores: number): number[] {
  const top = Math.max(1, Math.min(Math.floor(cores) || 1, MAX_WASM_THREADS));
  return Array.from({ length: top }, (_, i) => i + 1);
}

function isWasmThreads(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_WASM_THREADS;
}

/** Reads `?backend=`; an unknown value is ignored rather than trusted. */
export function backendFromUrl(search: string): BackendName | null {
  const value = new URLSearchParams(search).get('backend');
  return isBackendName(value) ? value : null;
}

export function isCheckpointInterval(value: number): boolean {
  return Number.isFinite(value) && value >= MIN_CHECKPOINT_INTERVAL_SEC && value <= MAX_CHECKPOINT_INTERVAL_SEC;
}

/** Keeps only fields that make sense, so a damaged or older record cannot break the app. */
export function sanitizeSettings(raw: unknown): AppSettings {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof AppSettings, unknown>>;
  const interval = Number(r.checkpointIntervalSec);
  const every = Number(r.historyEverySteps);
  return {
    backend: isBackendName(r.backend) ? r.backend : null,
    autoResume: typeof r.autoResume === 'boolean' ? r.autoResume : DEFAULT_SETTINGS.autoResume,
    checkpointIntervalSec: isCheckpointInterval(interval) ? interval : DEFAULT_SETTINGS.checkpointIntervalSec,
    historyEverySteps: Number.isInteger(every) && every >= 1 ? every : DEFAULT_SETTINGS.historyEverySteps,
    wasmThreads: isWasmThreads(r.wasmThreads) ? r.wasmThreads : DEFAULT_SETTINGS.wasmThreads,
    trainServerJobs: typeof r.trainServerJobs === 'boolean' ? r.trainServerJobs : DEFAULT_SETTINGS.trainServerJobs,
  };
}

/** Lease lengths a runner may ask for (the server's MIN_LEASE_MS and MAX_LEASE_MS); in ms. */
const RUNNER_LEASE_RANGE_MS = [2_000, 600_000] as const;

/**
 * `?runnerLeaseMs=4000`: the lease this page's runner asks for at each claim, for tests and
 * demonstrations of a hand-over; null (the server's default, 30 s) when absent or out of range.
 */
export function runnerLeaseFromUrl(search: string): number | null {
  const raw = new URLSearchParams(search).get('runnerLeaseMs');
  const ms = raw === null ? Number.NaN : Number(raw);
  return Number.isInteger(ms) && ms >= RUNNER_LEASE_RANGE_MS[0] && ms <= RUNNER_LEASE_RANGE_MS[1] ? ms : null;
}
