// User settings: loaded from and saved to IndexedDB, with `?backend=` in the URL overriding the
// stored backend for this page load only.
import { getSetting, putSetting, type LatheDb } from '../../shared/db';
import { BACKENDS, type BackendName, type WorkerSettings } from '../../shared/protocol';
import { DEFAULT_SETTINGS, SETTINGS_KEY, type AppSettings } from '../../shared/settings';
import { backendFromUrl, sanitizeSettings, wasmThreadChoices } from './settings-rules';

export class SettingsStore {
  value: AppSettings = $state.raw({ ...DEFAULT_SETTINGS });
  /** From the URL; wins over `value.backend` while this page lives. */
  readonly urlBackend: BackendName | null;
  readonly backendChoices = ['auto', ...BACKENDS] as const;
  /** 1 to min(logical cores, 8): what the WASM thread setting offers on this machine. */
  readonly wasmThreadChoices = wasmThreadChoices(typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency);

  #db: LatheDb | null = null;

  constructor(search: string) {
    this.urlBackend = backendFromUrl(search);
  }

  get effectiveBackend(): BackendName | null {
    return this.urlBackend ?? this.value.backend;
  }

  /** What the worker needs; a fresh plain object, safe to send. */
  get worker(): WorkerSettings {
    return {
      backend: this.effectiveBackend,
      checkpointIntervalSec: this.value.checkpointIntervalSec,
      historyEverySteps: this.value.historyEverySteps,
      wasmThreads: this.value.wasmThreads,
    };
  }

  async load(db: LatheDb): Promise<void> {
    this.#db = db;
    this.value = sanitizeSettings(await getSetting<unknown>(db, SETTINGS_KEY, DEFAULT_SETTINGS));
  }

  /** Applies and saves a change; invalid values are dropped so the form cannot poison the store. */
  async update(patch: Partial<AppSettings>): Promise<void> {
    this.value = sanitizeSettings({ ...this.value, ...patch });
    if (this.#db) await putSetting(this.#db, SETTINGS_KEY, { ...this.value });
  }
}
