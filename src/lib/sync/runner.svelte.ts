// "Train jobs from the server": in the leader tab, while sync is on and the setting is set, this
// device claims one queued server job at a time when it trains nothing of its own, trains it with
// the normal trainer (so exact resume holds), renews the lease every third of its length, uploads
// each new checkpoint (one upload in flight, the newest wins), and ends the turn with the local
// outcome. A lost lease (409) stops the local run at once and closes every channel for that turn:
// nothing more is sent for it. A server that is down only slows the polling; local training never
// waits for the runner. Pure decisions live in shared/runner-turn.ts.
import type { TrainConfig } from '../../../shared/config';
import type { JobRecord } from '../../../shared/jobs';
import type { QueueActivity, RunnerStatus, SyncEvent } from '../../../shared/sync-types';
import type { ImportOptions, ImportResult, InputFile, ModelExport, ExportedFile } from '../../../shared/package-format';
import type { SubmitRequest, TableImport } from '../../../shared/protocol';
import { claimDelayMs, LatestOnlyUploads, refusalOf, renewEveryMs, turnAction, type TurnAction } from '../../../shared/runner-turn';
import { LeaseLostError, type Claim, type LeaseRef, type RunnerApi } from './runner-api';

/** State changes of server jobs kept for the page, newest last. */
export const ACTIVITY_KEPT = 40;
/** While local jobs run or wait, the runner looks again this often (and at once when one ends); in ms. */
const BUSY_RECHECK_MS = 5_000;
/** Tries for the last checkpoint of a turn before finishing without it; in ms between them. */
const FINAL_UPLOAD_RETRY_MS = [1_000, 3_000, 10_000];

/** The slice of TrainerClient a turn needs. */
export interface RunnerClient {
  importTable(file: File, onProgress: (read: number, total: number) => void): Promise<TableImport>;
  submit(request: SubmitRequest): Promise<JobRecord>;
  importFiles(files: InputFile[], options?: ImportOptions): Promise<ImportResult>;
  exportPackage(jobId: string, options: { includeDataset: boolean }): Promise<ExportedFile>;
  exportModel(jobId: string, options: { zip: boolean }): Promise<ModelExport>;
  activeJob(): Promise<{ jobId: string; state: string } | null>;
}

export interface RunnerDeps {
  /** The runner API, or null while sync is off. */
  api: () => RunnerApi | null;
  deviceId: () => string;
  client: () => RunnerClient | null;
  /** The newest local record of a job, if any. */
  job: (jobId: string) => JobRecord | null;
  /** No local job runs or waits: only then is a server job claimed. */
  idle: () => boolean;
  /** A record the runner made (submit, import): show it and tell the other tabs. */
  publish: (job: JobRecord) => void;
  /** Starts the local copy through the scheduler (queued, or paused from an imported checkpoint). */
  start: (jobId: string) => Promise<void>;
  /** Pauses or cancels the local copy through the scheduler. */
  command: (command: 'pause' | 'cancel', jobId: string) => Promise<void>;
  /** Lease length asked for at each claim (null: the server's default, 30 s). */
  leaseMs: number | null;
  /** Tells follower tabs what the runner does. */
  share: (status: RunnerStatus, activity: QueueActivity[]) => void;
}

interface Turn {
  /** The API of the claim: the turn ends through it even if sync is turned off meanwhile. */
  api: RunnerApi;
  ref: LeaseRef;
  name: string;
  uploads: LatestOnlyUploads;
  renewTimer: ReturnType<typeof setInterval> | null;
  /** The local copy exists and was started: job records now drive the turn. */
  started: boolean;
  /** A pause or cancel already asked of the local copy (from a renewal or an event). */
  stopAsked: 'pause' | 'cancel' | null;
  ending: boolean;
  lost: boolean;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Runner {
  status: RunnerStatus = $state.raw({ kind: 'off', reason: null });
  /** The server's job state changes this device's stream brought, newest last. */
  activity: QueueActivity[] = $state.raw([]);

  #deps: RunnerDeps;
  #leader = false;
  #enabled = false;
  #turn: Turn | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #claiming = false;
  #streak: { answer: 'empty' | 'failed'; count: number } | null = null;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  /** The job this runner trains now, if any. */
  get jobId(): string | null {
    return this.#turn?.ref.jobId ?? null;
  }

  becomeLeader(): void {
    this.#leader = true;
    this.#wake();
  }

  /** The setting changed, or sync was turned on or off. */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    this.#wake();
  }

  /** What the leader tab's runner does, shown in a follower. */
  mirror(status: RunnerStatus, activity: QueueActivity[]): void {
    if (this.#leader) return;
    this.status = status;
    this.activity = activity;
  }

  /** A local job record changed (worker event or this tab's own write). */
  jobChanged(job: JobRecord): void {
    const turn = this.#turn;
    if (turn && turn.started && !turn.ending && !turn.lost && job.id === turn.ref.jobId) this.#act(turn, turnAction(job, turn.uploads.uploaded));
    else if (!turn && job.state !== 'running' && job.state !== 'queued') this.#wake();
  }

  /** An event from the device's stream (the leader's Sync hands every one over). */
  onEvent(event: SyncEvent): void {
    if (event.type === 'job_status_changed') {
      const d = event.data;
      const entry: QueueActivity = { eventId: event.id, jobId: d.job_id, state: d.state, previousState: d.previous_state, deviceId: d.device_id, reason: d.reason ?? null, at: d.at };
      this.activity = [...this.activity, entry].slice(-ACTIVITY_KEPT);
      this.#share();
      // A job went (back) to the queue: ask at once instead of at the next poll.
      if (d.state === 'queued') this.#wake(true);
    } else if (event.type === 'job_pause_requested') {
      const turn = this.#turn;
      const d = event.data;
      if (turn && d.job_id === turn.ref.jobId && d.device_id === turn.ref.deviceId && d.generation === turn.ref.generation) this.#stop(turn, 'pause');
    }
  }

  /** Another device asked to cancel a job this device trains: true when it is the runner's (it acts). */
  cancelRequested(jobId: string): boolean {
    const turn = this.#turn;
    if (!turn || turn.ref.jobId !== jobId) return false;
    this.#stop(turn, 'cancel');
    return true;
  }

  /** Resume of a server job this device is not training: the server puts it back in its queue. */
  async resumeOnServer(jobId: string): Promise<void> {
    const api = this.#deps.api();
    if (!api) throw new Error('This job belongs to the server’s queue; turn sync on to resume it there.');
    await api.resume(jobId);
  }

  dispose(): void {
    this.#leader = false;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#turn?.renewTimer) clearInterval(this.#turn.renewTimer);
  }

  get #active(): boolean {
    return this.#leader && this.#enabled && this.#deps.api() !== null;
  }

  #setStatus(status: RunnerStatus): void {
    this.status = status;
    this.#share();
  }

  #share(): void {
    this.#deps.share($state.snapshot<RunnerStatus>(this.status), $state.snapshot<QueueActivity[]>(this.activity));
  }

  /** Looks for work now (or soon); `fresh` forgets the backoff (an event said something changed). */
  #wake(fresh = false): void {
    if (fresh) this.#streak = null;
    if (!this.#active) {
      if (this.#leader && this.status.kind !== 'off' && !this.#turn) this.#setStatus({ kind: 'off', reason: null });
      return;
    }
    if (this.#turn || this.#claiming) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), 0);
  }

  #later(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), ms);
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    const api = this.#deps.api();
    if (!this.#active || !api || this.#turn || this.#claiming) return;
    if (!this.#deps.idle()) {
      this.#setStatus({ kind: 'idle', detail: 'Waiting: this device trains its own jobs first.' });
      this.#later(BUSY_RECHECK_MS);
      return;
    }
    this.#claiming = true;
    let claim: Claim | null = null;
    try {
      claim = await api.claim(this.#deps.deviceId(), this.#deps.leaseMs);
      if (!claim) this.#backoff('empty', 'No server job is waiting.');
    } catch (error) {
      // Quietly: a server that is down says so in the status, never in an alert.
      this.#backoff('failed', `The server did not answer (${message(error)}).`);
    } finally {
      this.#claiming = false;
    }
    if (claim) {
      this.#streak = null;
      await this.#runTurn(api, claim);
    }
  }

  #backoff(answer: 'empty' | 'failed', detail: string): void {
    const count = this.#streak?.answer === answer ? this.#streak.count + 1 : 1;
    this.#streak = { answer, count };
    const wait = claimDelayMs(answer, count);
    this.#setStatus({ kind: 'idle', detail: `${detail} Asking again in ${Math.round(wait / 1000)} s.` });
    this.#later(wait);
  }

  async #runTurn(api: RunnerApi, claim: Claim): Promise<void> {
    const ref: LeaseRef = { jobId: claim.job_id, deviceId: this.#deps.deviceId(), generation: claim.generation };
    const name = claim.name ?? `Server job ${claim.job_id.slice(0, 8)}`;
    const turn: Turn = {
      api, ref, name, renewTimer: null, started: false, stopAsked: null, ending: false, lost: false,
      uploads: new LatestOnlyUploads(() => this.#uploadNewest(api, turn), (error) => this.#uploadFailed(turn, error)),
    };
    this.#turn = turn;
    turn.renewTimer = setInterval(() => void this.#renew(api, turn), renewEveryMs(claim.lease_ms));
    this.#setStatus({ kind: 'preparing', jobId: ref.jobId, name, detail: 'Downloading the dataset…' });
    const refusal = refusalOf(claim.config);
    if (refusal) {
      await this.#refuse(api, turn, refusal);
      return;
    }
    let job: JobRecord;
    try {
      job = await this.#prepare(api, turn, claim);
    } catch (error) {
      if (error instanceof LeaseLostError || turn.lost) this.#lose(turn);
      else await this.#refuse(api, turn, message(error));
      return;
    }
    if (turn.lost) return;
    this.#deps.publish(job);
    turn.started = true;
    this.#setStatus({ kind: 'training', jobId: ref.jobId, name, generation: ref.generation });
    // An imported checkpoint that is already the end of the run: only the finish is left.
    if (job.state === 'completed') {
      this.#act(turn, turnAction(job, turn.uploads.uploaded));
      return;
    }
    try {
      await this.#deps.start(ref.jobId);
      if (turn.stopAsked) await this.#deps.command(turn.stopAsked, ref.jobId);
    } catch (error) {
      await this.#refuse(api, turn, `The job could not start here: ${message(error)}`);
    }
  }

  /** The dataset (read through the CSV import, reused by fingerprint), then the local copy: imported from the checkpoint, or new. */
  async #prepare(api: RunnerApi, turn: Turn, claim: Claim): Promise<JobRecord> {
    const client = this.#deps.client();
    if (!client) throw new Error('The trainer is not ready.');
    // An earlier turn's copy still held paused in the worker would resume from memory, not from the server's checkpoint.
    if ((await client.activeJob())?.jobId === claim.job_id) await this.#deps.command('cancel', claim.job_id).catch(() => undefined);
    const csv = await api.download(claim.dataset.url);
    let table: TableImport;
    try {
      table = await client.importTable(new File([csv.slice().buffer], `${turn.name}.csv`, { type: 'text/csv' }), () => undefined);
    } catch (error) {
      throw new Error(`The job's dataset is not a table this browser can read as CSV: ${message(error)}`);
    }
    const serverJob = { id: claim.job_id, generation: claim.generation };
    if (claim.checkpoint) {
      this.#setStatus({ kind: 'preparing', jobId: claim.job_id, name: turn.name, detail: `Downloading the checkpoint of step ${claim.checkpoint.step}…` });
      const bytes = await api.download(claim.checkpoint.url);
      const result = await client.importFiles([{ name: `${claim.job_id}.lathe`, bytes }], {
        serverJob: { ...serverJob, name: turn.name, breakpoint: claim.breakpoint },
      });
      if (result.kind !== 'package') throw new Error(result.kind === 'needs-dataset' ? result.message : 'The server’s checkpoint is not a Lathe package.');
      // That checkpoint is the server's already: only newer ones go up.
      turn.uploads.uploaded = result.job.checkpointStep;
      return result.job;
    }
    return client.submit({
      name: turn.name, config: claim.config as unknown as TrainConfig, datasetId: table.dataset.id, breakpoint: claim.breakpoint, serverJob,
    });
  }

  async #renew(api: RunnerApi, turn: Turn): Promise<void> {
    if (turn.lost || this.#turn !== turn) return;
    try {
      const step = this.#deps.job(turn.ref.jobId)?.progress.step ?? null;
      const reply = await api.renew(turn.ref, step);
      if (reply.cancel_requested) this.#stop(turn, 'cancel');
      else if (reply.pause_requested) this.#stop(turn, 'pause');
    } catch (error) {
      if (error instanceof LeaseLostError) this.#lose(turn);
      // Any other failure: the next renewal tries again; the lease has room for two misses.
    }
  }

  /** A remote pause or cancel: asked of the local copy once; its new state then ends the turn. */
  #stop(turn: Turn, kind: 'pause' | 'cancel'): void {
    if (turn.lost || turn.ending || turn.stopAsked === kind || turn.stopAsked === 'cancel') return;
    turn.stopAsked = kind;
    if (turn.started) void this.#deps.command(kind, turn.ref.jobId).catch(() => undefined);
  }

  #act(turn: Turn, action: TurnAction): void {
    if (action.kind === 'upload') turn.uploads.request();
    else if (action.kind === 'finish') void this.#end(turn, action);
  }

  async #uploadNewest(api: RunnerApi, turn: Turn): Promise<number> {
    const client = this.#deps.client();
    if (!client) throw new Error('The trainer is not ready.');
    const file = await client.exportPackage(turn.ref.jobId, { includeDataset: false });
    // The lease may have been lost while the package was being made: then it never leaves.
    if (turn.lost) throw new LeaseLostError(turn.ref.jobId);
    return api.uploadCheckpoint(turn.ref, file.bytes);
  }

  #uploadFailed(turn: Turn, error: unknown): void {
    if (error instanceof LeaseLostError) this.#lose(turn);
    else console.warn('Lathe runner: a checkpoint upload failed; the next one carries on', error);
  }

  /** The local run ended: its last checkpoint goes up first, then (completed) the model, then the finish. */
  async #end(turn: Turn, action: Extract<TurnAction, { kind: 'finish' }>): Promise<void> {
    if (turn.ending || turn.lost) return;
    turn.ending = true;
    const api = turn.api;
    this.#setStatus({ kind: 'finishing', jobId: turn.ref.jobId, name: turn.name, outcome: action.outcome });
    try {
      if (action.upload) {
        for (let attempt = 0; !turn.lost && (turn.uploads.uploaded ?? -1) < action.step; attempt++) {
          turn.uploads.request();
          await turn.uploads.flush();
          if (turn.lost || (turn.uploads.uploaded ?? -1) >= action.step) break;
          if (attempt >= FINAL_UPLOAD_RETRY_MS.length) throw new Error(`the checkpoint of step ${action.step} could not be uploaded`);
          await new Promise((r) => setTimeout(r, FINAL_UPLOAD_RETRY_MS[attempt]));
        }
      }
      if (turn.lost) return;
      if (action.outcome === 'completed') {
        const exported = await this.#deps.client()?.exportModel(turn.ref.jobId, { zip: true });
        if (exported?.kind !== 'zip') throw new Error('the trained model could not be exported');
        await api.uploadResult(turn.ref.jobId, exported.file.bytes);
      }
      if (turn.lost) return;
      this.#stopRenewing(turn);
      await api.finish(turn.ref, action.outcome, action.step, action.message);
      this.#close(turn, null);
    } catch (error) {
      if (error instanceof LeaseLostError) this.#lose(turn);
      else {
        // The finish did not land: the lease runs out and the server hands the job on from its newest checkpoint.
        this.#stopRenewing(turn);
        this.#close(turn, `Could not report the end of “${turn.name}” to the server (${message(error)}); the server will hand it on when its lease runs out.`);
      }
    }
  }

  /** A claimed job this browser cannot train: its turn ends failed, with the reason. */
  async #refuse(api: RunnerApi, turn: Turn, reason: string): Promise<void> {
    this.#stopRenewing(turn);
    const status: RunnerStatus = { kind: 'refused', jobId: turn.ref.jobId, name: turn.name, reason };
    try {
      await api.finish(turn.ref, 'failed', this.#deps.job(turn.ref.jobId)?.progress.step ?? 0, `refused by a browser runner: ${reason}`);
    } catch (error) {
      if (error instanceof LeaseLostError) turn.lost = true;
    }
    this.#turn = null;
    this.#setStatus(status);
    this.#later(claimDelayMs('empty', 1));
  }

  /** The lease is gone: stop the local run at once and never send anything more for this turn. */
  #lose(turn: Turn): void {
    if (turn.lost) return;
    turn.lost = true;
    turn.uploads.fence();
    this.#stopRenewing(turn);
    const job = this.#deps.job(turn.ref.jobId);
    if (turn.started && job && (job.state === 'running' || job.state === 'queued' || job.state === 'paused'))
      void this.#deps.command('cancel', turn.ref.jobId).catch(() => undefined);
    if (this.#turn === turn) this.#turn = null;
    this.#setStatus({ kind: 'lost', jobId: turn.ref.jobId, name: turn.name });
    this.#later(claimDelayMs('empty', 1));
  }

  #stopRenewing(turn: Turn): void {
    if (turn.renewTimer) clearInterval(turn.renewTimer);
    turn.renewTimer = null;
  }

  #close(turn: Turn, problem: string | null): void {
    if (this.#turn === turn) this.#turn = null;
    this.#setStatus({ kind: 'idle', detail: problem ?? `Finished its turn on “${turn.name}”.` });
    this.#wake();
  }
}
