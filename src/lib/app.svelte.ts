// Lathe: wires the page together (IndexedDB, settings, jobs store, trainer client, tab channel,
// leadership, scheduler) and gives components the few actions they may call.
import { getJob, openLatheDb, updateJob, type LatheDb } from '../../shared/db';
import { isTerminal, type Breakpoint, type JobRecord } from '../../shared/jobs';
import { Sync } from './sync/sync.svelte';
import type { Runner } from './sync/runner.svelte';
import { createRunner } from './sync/runner-wiring';
import type { DatasetSummary } from '../../shared/dataset';
import type { TabMessage, WorkerEvent } from '../../shared/protocol';
import { JobsStore } from './jobs.svelte';
import { Leadership } from './leadership';
import { DatasetsStore, TABLE_FILE } from './datasets.svelte';
import { ImagesStore } from './images.svelte';
import { imageDrop } from './image-files';
import { TableResults } from './table-results.svelte';
import { Scheduler, type JobCommand } from './scheduler';
import { SettingsStore } from './settings.svelte';
import type { SetupForm } from './setup.svelte';
import { formatStorage, readStorage, requestPersistence } from './storage';
import { TabChannel, type TabBus } from './tab-channel';
import { TrainerClient, type WorkerCrashedError } from './trainer-client';
import { Transfer } from './transfer.svelte';
import type { AppSettings } from '../../shared/settings';

/** Storage is re-read at most this often while jobs change. */
const STORAGE_REFRESH_MS = 2_000;
/** How often the leader checks whether any other tab is open to mirror its worker. */
const FOLLOWER_CHECK_MS = 2_000;

export interface LatheDeps {
  search: string;
  openDb?: () => Promise<LatheDb>;
  channel?: TabBus & { close(): void };
  leadership?: Leadership;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

export class Lathe {
  readonly jobs = new JobsStore();
  readonly datasets = new DatasetsStore();
  /** The optional sync server: outbox pushes, other devices' jobs, remote cancel. */
  readonly sync = new Sync();
  /** "Train jobs from the server": claims server-queued jobs in the leader tab (issue 12). */
  readonly runner: Runner;
  /** Image datasets from folders, files and the camera (issue 9). */
  readonly images = new ImagesStore(
    () => this.#client,
    (dataset) => {
      void this.datasets
        .refresh()
        .then(() => this.onImagesAdded?.(dataset))
        .catch((e: unknown) => this.report(e, 'Could not read the datasets'));
      this.#channel.post({ type: 'datasets-changed' });
    },
  );
  /** A dataset was added outside the table and image stores (a text): list it, and tell the other tabs. */
  datasetsChanged(): void {
    void this.datasets.refresh().catch((e: unknown) => this.report(e, 'Could not read the datasets'));
    this.#channel.post({ type: 'datasets-changed' });
  }
  /** Where added images go once stored: the setup form selects them. */
  onImagesAdded: ((dataset: DatasetSummary) => void) | null = null;
  /** Evaluation and predictions of table jobs. */
  readonly results = new TableResults(() => this.#client);
  readonly settings: SettingsStore;
  /** Export, import and share (issue 4). */
  readonly transfer: Transfer;
  isLeader = $state(false);
  ready = $state(false);
  /** A problem in words, shown with role=alert until dismissed. */
  alert: string | null = $state(null);
  /** Something worth knowing that is not a failure, e.g. a worker restart. */
  status: string | null = $state(null);
  storageText = $state('Checking storage…');

  readonly leaderText = $derived(this.isLeader ? 'This tab trains' : 'Another tab trains; this tab mirrors it');
  /** The backend in use: the latest worker report, else what the selected job ran on. */
  readonly backend = $derived.by(() => {
    const info = this.jobs.backendInfo;
    if (info) return { name: info.backend, reason: info.reason, adapter: info.adapter, threads: info.threads ?? null };
    const job = this.jobs.selected;
    if (job?.backend) return { name: job.backend, reason: job.backendReason ?? '', adapter: null, threads: null };
    return { name: 'not started', reason: 'chosen when the first job starts', adapter: null, threads: null };
  });
  readonly announcement = $derived.by(() => {
    const change = this.jobs.lastChange;
    return change ? `${change.job.name}: ${change.job.state}` : '';
  });

  #deps: LatheDeps;
  #channel: TabBus & { close(): void };
  #leadership: Leadership;
  #client: TrainerClient | null = null;
  #scheduler: Scheduler | null = null;
  #unsubscribe: (() => void) | null = null;
  #storageTimer: ReturnType<typeof setTimeout> | null = null;
  #followerTimer: ReturnType<typeof setInterval> | null = null;
  /**
   * Whether another tab is open. Re-sending every worker event costs the leader's main thread
   * a structured clone of the job (with its history) each time, so a lone tab skips it.
   */
  #hasFollowers = true;

  constructor(deps: LatheDeps) {
    this.#deps = deps;
    this.settings = new SettingsStore(deps.search);
    this.#channel = deps.channel ?? new TabChannel();
    this.#leadership = deps.leadership ?? new Leadership();
    this.runner = createRunner({
      sync: this.sync, jobs: this.jobs, client: () => this.#client, scheduler: () => this.#scheduler, search: deps.search,
      publish: (job) => this.#publish(job),
      post: (message) => this.#channel.post(message),
    });
    this.transfer = new Transfer({
      client: () => this.#client,
      jobImported: (job) => {
        this.#publish(job);
        this.jobs.select(job.id);
      },
      jobQueued: (job) => this.#queued(job),
      isTable: (file) => TABLE_FILE.test(file.name),
      addTable: (file) => this.addTable(file),
      dropImages: (transfer) => {
        const walk = imageDrop(transfer);
        if (walk) void this.images.importDropped(walk);
        return walk !== null;
      },
    });
  }

  async start(): Promise<void> {
    // Listen before loading, so nothing another tab says meanwhile is missed.
    this.#unsubscribe = this.#channel.subscribe((m) => this.#onTabMessage(m));
    const db = await (this.#deps.openDb ?? openLatheDb)();
    await this.settings.load(db);
    await this.jobs.load(db);
    await this.datasets.load({ db, client: () => this.#client, announce: () => this.#channel.post({ type: 'datasets-changed' }) });
    await this.sync.load({
      db,
      cancelLocal: (jobId) => {
        if (!this.runner.cancelRequested(jobId)) void this.command('cancel', jobId);
      },
      queueEvent: (event) => this.runner.onEvent(event),
      enabledChanged: () => this.#updateRunner(),
      adoptServerState: (jobId, state, version) => this.#adoptServerState(db, jobId, state, version),
      share: (remote, status) => this.#channel.post({ type: 'sync-remote', remote, status }),
    });
    const client = new TrainerClient({
      settings: $state.snapshot(this.settings.worker),
      onEvent: (e) => this.#onWorkerEvent(e),
      onCrash: (jobId, error) => this.#onCrash(jobId, error),
    });
    this.#client = client;
    const scheduler = new Scheduler({
      db,
      client,
      now: () => Date.now(),
      publish: (job) => this.#publish(job),
      autoResume: () => this.settings.value.autoResume,
      // A server job's local copy trains only in its runner's turn.
      mayStart: (job) => !job.serverJob || this.runner.jobId === job.id,
      report: (error, context) => this.report(error, context),
    });
    this.#scheduler = scheduler;
    this.#leadership.onLeader(() => {
      this.isLeader = true;
      this.sync.becomeLeader();
      this.runner.becomeLeader();
      this.#updateRunner();
      this.#watchFollowers();
      void scheduler.becomeLeader().catch((e: unknown) => this.report(e, 'Could not take over training'));
    });
    void this.#leadership.claim().catch((e: unknown) => this.report(e, 'Could not coordinate with other tabs'));
    // Tells a leader that one more tab now mirrors it (and costs it one empty queue check).
    if (!this.isLeader) this.#channel.post({ type: 'queue-changed' });
    this.ready = true;
    this.#refreshStorage(0);
  }

  /** The worker's client once started; the setup form asks it for samples and plan checks. */
  get client(): TrainerClient | null {
    return this.#client;
  }

  /** Where an added table goes once stored: the setup form selects it. */
  onTableAdded: ((dataset: DatasetSummary) => void) | null = null;

  /** Reads a table file in the worker (progress, cancel) and selects it in the setup form. */
  async addTable(file: File): Promise<void> {
    const result = await this.datasets.add(file);
    if (result) this.onTableAdded?.(result.dataset);
  }

  /** Queues the form's job. On failure the form keeps everything and the reason is shown. */
  async train(form: SetupForm): Promise<JobRecord | null> {
    const client = this.#client;
    if (!client || !form.dataset || !form.canTrain) return null;
    form.submitting = true;
    this.alert = null;
    try {
      void requestPersistence()
        .then(() => this.#refreshStorage(0))
        .catch((e: unknown) => this.report(e, 'Could not ask for persistent storage'));
      const job = await client.submit({
        name: form.jobName(),
        config: form.jobConfig(),
        datasetId: form.dataset.id,
        breakpoint: $state.snapshot(form.breakpoint),
      });
      this.#queued(job);
      return job;
    } catch (error) {
      this.report(error, 'Could not queue the job');
      return null;
    } finally {
      form.submitting = false;
    }
  }

  /** Pause, resume or cancel: here if this tab trains, else by asking the tab that does. */
  async command(command: JobCommand, jobId: string): Promise<void> {
    this.alert = null;
    const job = this.jobs.jobs.find((j) => j.id === jobId);
    if (command === 'resume' && job?.serverJob && this.runner.jobId !== jobId) {
      // A server job's checkpoint is on the server: resuming puts it back in the server's queue.
      try {
        await this.runner.resumeOnServer(jobId);
        this.status = `“${job.name}” is back in the server's queue; a runner continues it from its last checkpoint.`;
      } catch (error) {
        this.report(error, 'Could not resume the job on the server');
      }
      return;
    }
    if (!this.isLeader) {
      this.#channel.post({ type: 'command', command, jobId });
      return;
    }
    try {
      await this.#scheduler?.command(command, jobId);
    } catch (error) {
      this.report(error, `Could not ${command} the job`);
    }
  }

  /** Sets or clears where a job pauses by itself: here if this tab trains, else via the tab that does. */
  async setBreakpoint(jobId: string, breakpoint: Breakpoint | null): Promise<boolean> {
    this.alert = null;
    if (!this.isLeader) {
      this.#channel.post({ type: 'set-breakpoint', jobId, breakpoint });
      return true;
    }
    try {
      await this.#scheduler?.setBreakpoint(jobId, breakpoint);
      return true;
    } catch (error) {
      this.report(error, 'Could not set the breakpoint');
      return false;
    }
  }

  async saveSettings(patch: Partial<AppSettings>): Promise<void> {
    try {
      await this.settings.update(patch);
      await this.#client?.updateSettings($state.snapshot(this.settings.worker));
      this.#updateRunner();
    } catch (error) {
      this.report(error, 'Could not save the settings');
    }
  }

  #updateRunner(): void {
    this.runner.setEnabled(this.settings.value.trainServerJobs && this.sync.settings.enabled);
  }

  report(error: unknown, context: string): void {
    console.error(`Lathe: ${context}`, error);
    this.alert = `${context}: ${errorText(error)}`;
  }

  dismissAlert(): void {
    this.alert = null;
  }

  dispose(): void {
    this.sync.dispose();
    this.runner.dispose();
    this.#unsubscribe?.();
    this.jobs.flush();
    this.#client?.dispose();
    this.#channel.close();
    this.#leadership.release();
    if (this.#storageTimer) clearTimeout(this.#storageTimer);
    if (this.#followerTimer) clearInterval(this.#followerTimer);
  }

  /** A job on a dataset this page has not listed yet (a sample made, a package imported): read the list again. */
  #noteDataset(job: JobRecord): void {
    if (this.datasets.find(job.datasetId)) return;
    void this.datasets.refresh().catch((e: unknown) => this.report(e, 'Could not read the datasets'));
  }

  #onWorkerEvent(event: WorkerEvent): void {
    this.jobs.enqueue(event);
    if (event.type === 'job') this.#noteDataset(event.job);
    // Worker events double as tab messages: other tabs mirror this worker live.
    if (this.#hasFollowers || !this.isLeader) this.#channel.post(event);
    if (event.type === 'job') {
      if (this.isLeader) this.#scheduler?.jobChanged(event.job);
      if (this.isLeader) this.runner.jobChanged(event.job);
      this.#refreshStorage();
      this.sync.kick();
    }
  }

  #onTabMessage(message: TabMessage): void {
    this.#hasFollowers = true;
    this.jobs.enqueue(message);
    if (message.type === 'job') this.#noteDataset(message.job);
    if (message.type === 'job') this.#refreshStorage();
    if (message.type === 'datasets-changed') void this.datasets.refresh().catch((e: unknown) => this.report(e, 'Could not read the datasets'));
    if (message.type === 'sync-remote') this.sync.mirror(message.remote, message.status);
    if (message.type === 'runner-status') this.runner.mirror(message.status, message.activity);
    if (message.type === 'job') this.sync.kick();
    if (!this.isLeader || !this.#scheduler) return;
    const scheduler = this.#scheduler;
    if (message.type === 'job') scheduler.jobChanged(message.job);
    else if (message.type === 'queue-changed')
      void scheduler.pump().catch((e: unknown) => this.report(e, 'Could not check the queue'));
    else if (message.type === 'set-breakpoint')
      void scheduler
        .setBreakpoint(message.jobId, message.breakpoint)
        .catch((e: unknown) => this.report(e, 'Another tab asked to set a breakpoint, which failed'));
    else if (message.type === 'command' && message.command === 'resume' && this.jobs.jobs.find((j) => j.id === message.jobId)?.serverJob)
      void this.command('resume', message.jobId);
    else if (message.type === 'command')
      void scheduler
        .command(message.command, message.jobId)
        .catch((e: unknown) => this.report(e, `Another tab asked to ${message.command} a job, which failed`));
  }

  #onCrash(jobId: string | null, error: WorkerCrashedError): void {
    console.error('Lathe: the training worker died', error);
    if (!this.isLeader || !this.#scheduler) return;
    if (jobId) this.status = `${error.message} Lathe restarted it; training continues from the last checkpoint.`;
    void this.#scheduler
      .recoverFromCrash(jobId)
      .catch((e: unknown) => this.report(e, 'Could not restart training after a crash'));
  }

  #watchFollowers(): void {
    const check = (): void => {
      void this.#leadership
        .followers()
        .then((n) => {
          this.#hasFollowers = n > 0;
        })
        .catch(() => {
          this.#hasFollowers = true;
        });
    };
    check();
    this.#followerTimer ??= setInterval(check, FOLLOWER_CHECK_MS);
  }

  /** A job this tab queued: show and select it, and have the leader (this tab or another) start it. */
  #queued(job: JobRecord): void {
    this.#publish(job);
    this.jobs.select(job.id);
    // Not awaited: starting may take minutes (backend setup) and the caller is free meanwhile.
    if (this.isLeader && this.#scheduler)
      void this.#scheduler.submitted().catch((e: unknown) => this.report(e, 'Could not check the queue'));
    else this.#channel.post({ type: 'queue-changed' });
  }

  /**
   * The server holds a newer version of a job of this device: another device cancelled it while it
   * was not training. Cancel it here too, and carry on from the server's version.
   */
  async #adoptServerState(db: LatheDb, jobId: string, state: string, version: number): Promise<void> {
    const job = await getJob(db, jobId);
    if (!job) return;
    if (state === 'cancelled' && !isTerminal(job.state)) await this.command('cancel', jobId);
    const after = await getJob(db, jobId);
    if (after && (after.version ?? 0) < version) this.#publish(await updateJob(db, jobId, (j) => ({ ...j, version: Math.max(j.version ?? 0, version) })));
  }

  /** A record this tab changed: show it here and tell the other tabs. */
  #publish(job: JobRecord): void {
    this.sync.kick();
    this.jobs.apply({ type: 'job', job });
    if (this.isLeader) this.runner.jobChanged(job);
    this.#noteDataset(job);
    this.#channel.post({ type: 'job', job: $state.snapshot(job) });
    this.#refreshStorage();
  }

  #refreshStorage(delayMs = STORAGE_REFRESH_MS): void {
    if (this.#storageTimer) return;
    this.#storageTimer = setTimeout(() => {
      this.#storageTimer = null;
      void readStorage()
        .then((r) => {
          this.storageText = formatStorage(r);
        })
        .catch((e: unknown) => this.report(e, 'Could not read storage use'));
    }, delayMs);
  }
}
