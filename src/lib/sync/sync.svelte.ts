// Sync with the optional server: settings and status, the push loop that empties the outbox (one
// push in flight; rows leave only when acknowledged), and, in the leader tab only, the one event
// stream per device (resumed with Last-Event-ID) that keeps other devices' jobs live here and
// carries cancel requests for this device's jobs. Nothing here ever blocks local training: all of
// it runs beside the trainer, with timeouts and backoff.
import {
  acknowledge, enableSync, nextPushBatch, outboxCount, readSyncState, renumberFrom, writeSyncState,
} from '../../../shared/sync-outbox';
import type { LatheDb } from '../../../shared/db';
import type { RemoteJobSummary, SyncEvent, SyncState, SyncStatus } from '../../../shared/sync-types';
import { readEvents } from './event-reader';
import { ServerApi, SyncError } from './server-api';

/** Waits between attempts after a failure, growing to the last one, in ms. */
const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
/** Outbox changes are pushed at most this soon after they are written, in ms (they batch up). */
const PUSH_DELAY_MS = 200;

export interface SyncDeps {
  db: LatheDb;
  /** Another device asked to cancel this device's running job. */
  cancelLocal: (jobId: string) => void;
  /** The server holds a newer version of a local job (a remote cancel): adopt it. */
  adoptServerState: (jobId: string, state: string, version: number) => Promise<void>;
  /** Tells the other tabs what the leader's stream learned. */
  share: (remote: RemoteJobSummary[], status: SyncStatus) => void;
  /** Every event, for the runner (server queue jobs: state changes, pause requests). */
  queueEvent: (event: SyncEvent) => void;
  /** Sync was turned on or off (the runner needs it on). */
  enabledChanged: () => void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Sync {
  status: SyncStatus = $state({ kind: 'off' });
  /** Jobs of other devices, by id; replaced, never mutated. */
  remote: RemoteJobSummary[] = $state.raw([]);
  settings: { serverUrl: string; token: string; enabled: boolean; deviceId: string } = $state({ serverUrl: '', token: '', enabled: false, deviceId: '' });
  error: string | null = $state(null);
  /** False until the stored settings are read: the form waits, so nothing typed before is overwritten. */
  loaded = $state(false);

  #deps: SyncDeps | null = null;
  #state: SyncState | null = null;
  #leader = false;
  #pushTimer: ReturnType<typeof setTimeout> | null = null;
  #pushing: Promise<void> | null = null;
  #pushFailures = 0;
  #stream: AbortController | null = null;

  get #api(): ServerApi | null {
    const s = this.#state;
    return s?.enabled ? new ServerApi(s.serverUrl || location.origin, s.token) : null;
  }

  /** The server's API while sync is on (the runner uses it too), else null. */
  api(): ServerApi | null {
    return this.#api;
  }

  async load(deps: SyncDeps): Promise<void> {
    this.#deps = deps;
    this.#state = await readSyncState(deps.db);
    const { serverUrl, token, enabled, deviceId } = this.#state;
    this.settings = { serverUrl, token, enabled, deviceId };
    this.loaded = true;
    if (enabled) this.status = { kind: 'offline', waiting: await outboxCount(deps.db), reason: 'connecting…' };
  }

  /** Checks the address and token, then turns sync on (queuing every existing job once). */
  async enable(serverUrl: string, token: string): Promise<boolean> {
    const deps = this.#deps;
    if (!deps) return false;
    this.error = null;
    const url = serverUrl.trim().replace(/\/+$/, '');
    try {
      await new ServerApi(url || location.origin, token.trim()).check();
    } catch (error) {
      this.error = error instanceof SyncError && error.kind === 'refused' ? 'The server refused this token.' : `Could not reach the server: ${message(error)}`;
      return false;
    }
    this.#state = await enableSync(deps.db, { serverUrl: url, token: token.trim() }, Date.now());
    this.settings = { serverUrl: url, token: token.trim(), enabled: true, deviceId: this.#state.deviceId };
    if (this.#leader) this.#startLeading();
    this.kick();
    deps.enabledChanged();
    return true;
  }

  async disable(): Promise<void> {
    if (!this.#deps) return;
    this.#stopLeading();
    this.#state = await writeSyncState(this.#deps.db, { enabled: false });
    this.settings = { ...this.settings, enabled: false };
    this.status = { kind: 'off' };
    this.remote = [];
    this.#deps.enabledChanged();
  }

  /** This tab trains and holds the device's stream (one per device, not per tab). */
  becomeLeader(): void {
    this.#leader = true;
    if (this.#state?.enabled) this.#startLeading();
  }

  /** What the leader tab's stream learned, shown in a follower. */
  mirror(remote: RemoteJobSummary[], status: SyncStatus): void {
    if (this.#leader) return;
    this.remote = remote;
    this.status = status;
  }

  /** Job records changed: push the outbox soon (the leader does; a follower's rows wait for it). */
  kick(): void {
    if (!this.#leader || !this.#state?.enabled || this.#pushTimer) return;
    this.#pushTimer = setTimeout(() => {
      this.#pushTimer = null;
      // One push in flight: a kick during a push waits for it, then pushes what came meanwhile.
      this.#pushing = (this.#pushing ?? Promise.resolve()).then(() => this.#pushAll());
    }, PUSH_DELAY_MS);
  }

  /** Cancel from this device: at once on the server, or by the device that trains the job. */
  async cancelRemote(jobId: string): Promise<string> {
    const api = this.#api;
    if (!api) throw new Error('Sync is off.');
    const { outcome } = await api.cancel(jobId);
    return outcome === 'requested' ? 'Cancel requested: the device training it stops within a step.' : 'Cancelled.';
  }

  async remoteDetail(jobId: string): Promise<unknown> {
    const api = this.#api;
    if (!api) throw new Error('Sync is off.');
    return (await api.getJob(jobId)).snapshot;
  }

  dispose(): void {
    this.#stopLeading();
    if (this.#pushTimer) clearTimeout(this.#pushTimer);
  }

  #startLeading(): void {
    this.#stopLeading();
    const controller = new AbortController();
    this.#stream = controller;
    void this.#streamLoop(controller.signal);
    this.kick();
  }

  #stopLeading(): void {
    this.#stream?.abort();
    this.#stream = null;
  }

  async #setStatusAfter(error: unknown): Promise<void> {
    const waiting = this.#deps ? await outboxCount(this.#deps.db) : 0;
    if (error instanceof SyncError && error.kind === 'refused') this.status = { kind: 'refused', reason: error.message };
    else this.status = { kind: 'offline', waiting, reason: message(error) };
    this.#share();
  }

  /** Pushes until the outbox is empty; on failure, tries again with backoff. One push in flight. */
  async #pushAll(): Promise<void> {
    const deps = this.#deps;
    const api = this.#api;
    if (!deps || !api || !this.#state) return;
    try {
      for (;;) {
        const rows = await nextPushBatch(deps.db);
        if (rows.length === 0) break;
        const reply = await api.push(this.#state.deviceId, rows);
        if (reply.kind === 'gap') {
          // The server already has rows we still hold (their acknowledgement was lost), or lost ours.
          if (reply.expectedSeq > rows[0]!.seq) await acknowledge(deps.db, reply.expectedSeq - 1);
          else await renumberFrom(deps.db, reply.expectedSeq);
          continue;
        }
        await acknowledge(deps.db, reply.lastAppliedSeq);
        for (const c of reply.conflicts) if (c.reason === 'stale_version') await this.#adopt(api, c.job_id);
      }
      this.#pushFailures = 0;
      if (this.status.kind !== 'connected' || this.status.waiting !== 0) {
        this.status = { kind: 'connected', waiting: 0 };
        this.#share();
      }
    } catch (error) {
      await this.#setStatusAfter(error);
      const wait = BACKOFF_MS[Math.min(this.#pushFailures++, BACKOFF_MS.length - 1)]!;
      setTimeout(() => this.kick(), wait);
    }
  }

  /** The server has a newer version of one of this device's jobs (another device cancelled it). */
  async #adopt(api: ServerApi, jobId: string): Promise<void> {
    const server = await api.getJob(jobId);
    await this.#deps?.adoptServerState(jobId, server.state, server.version);
  }

  async #streamLoop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const api = this.#api;
      const deps = this.#deps;
      if (!api || !deps || !this.#state) return;
      try {
        // Stream first, then the list: nothing can fall between the two.
        const body = await api.events(this.#state.lastEventId, signal);
        this.#setRemote((await api.listJobs()).filter((j) => j.device_id !== this.#state?.deviceId));
        if (this.status.kind !== 'connected') this.status = { kind: 'connected', waiting: await outboxCount(deps.db) };
        this.#share();
        failures = 0;
        this.kick();
        await readEvents(body, (event) => this.#onEvent(event));
      } catch (error) {
        if (signal.aborted) return;
        await this.#setStatusAfter(error);
      }
      await new Promise((r) => setTimeout(r, BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)]));
    }
  }

  async #onEvent(event: SyncEvent): Promise<void> {
    const deps = this.#deps;
    if (!deps || !this.#state) return;
    const own = this.#state.deviceId;
    deps.queueEvent(event);
    if (event.type === 'resync') {
      const api = this.#api;
      if (api) this.#setRemote((await api.listJobs()).filter((j) => j.device_id !== own));
    } else if (event.type === 'job_deleted') {
      this.#setRemote(this.remote.filter((j) => j.id !== event.data.job_id));
    } else if (event.type === 'job_cancel_requested') {
      if (event.data.device_id === own) deps.cancelLocal(event.data.job_id);
    } else if (event.type === 'job_status_changed') {
      const d = event.data;
      if (d.device_id === own) {
        // Our own change coming back, or another device's cancel of a job of ours. A server job
        // this device's runner claimed is now in the local list, no longer another device's.
        if (this.remote.some((j) => j.id === d.job_id)) this.#setRemote(this.remote.filter((j) => j.id !== d.job_id));
        if (d.state === 'cancelled') await deps.adoptServerState(d.job_id, d.state, d.version);
      } else {
        this.#upsert(d.job_id, { state: d.state, version: d.version, device_id: d.device_id, updated_at: d.at });
        // job_progress events come only while a job runs (at most one a second): the progress a job
        // stopped at (a pause at step N, a completion) is read from its record.
        if (d.state !== 'running') void this.#refreshProgress(d.job_id);
      }
    } else if (event.type === 'job_progress') {
      const d = event.data;
      if (d.device_id !== own) this.#upsert(d.job_id, { stage: d.stage, percent: d.percent, last_log: d.last_log, device_id: d.device_id, updated_at: d.at });
    }
    this.#state = await writeSyncState(deps.db, { lastEventId: event.id });
  }

  async #refreshProgress(id: string): Promise<void> {
    try {
      const j = await this.#api?.getJob(id);
      const shown = this.remote.find((r) => r.id === id);
      // An answer older than what an event brought meanwhile is dropped.
      if (j && shown && j.updated_at >= shown.updated_at) this.#upsert(id, { stage: j.stage, percent: j.percent, last_log: j.last_log });
    } catch {
      // The next list or event brings it; a failed read changes nothing shown.
    }
  }

  #upsert(id: string, patch: Partial<RemoteJobSummary>): void {
    const existing = this.remote.find((j) => j.id === id);
    const base: RemoteJobSummary = existing ?? {
      id, device_id: '', version: 0, state: 'queued', name: 'a job on another device', created_at: Date.now(), updated_at: Date.now(),
      cancel_requested_at: null, stage: null, percent: null, last_log: null, result: null,
    };
    const next = { ...base, ...patch };
    this.#setRemote(existing ? this.remote.map((j) => (j.id === id ? next : j)) : [...this.remote, next]);
    // A job first seen through an event has no name yet: the list has it.
    if (!existing) void this.#api?.getJob(id).then((j) => this.#upsert(id, { name: j.name, created_at: j.created_at })).catch(() => undefined);
  }

  #setRemote(jobs: RemoteJobSummary[]): void {
    this.remote = jobs.sort((a, b) => a.created_at - b.created_at);
    this.#share();
  }

  #share(): void {
    this.#deps?.share($state.snapshot<RemoteJobSummary[]>(this.remote), $state.snapshot<SyncStatus>(this.status));
  }
}
