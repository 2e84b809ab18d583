// The runner API of the sync server as the browser runner uses it (server/README.md, "Runner
// queue"): claim, renew, checkpoint upload, finish, and the downloads a claim points at. A 409
// `lease_lost` becomes LeaseLostError, which the runner treats as "stop now, send nothing more".
// Imports fflate (to read a package's step) and the page's ServerApi.
import { unzipSync } from 'fflate';
import type { Breakpoint } from '../../../shared/jobs';
import type { FinishOutcome } from '../../../shared/runner-turn';
import { SyncError, type ServerApi } from './server-api';

/** Datasets, checkpoints and results are up to 64 MiB: they get longer than a JSON call; in ms. */
export const RUNNER_TRANSFER_TIMEOUT_MS = 120_000;

export interface Claim {
  job_id: string;
  generation: number;
  lease_until: number;
  lease_ms: number;
  name: string | null;
  config: Record<string, unknown>;
  dataset: { fingerprint: string; url: string };
  checkpoint: { step: number; url: string } | null;
  breakpoint: Breakpoint | null;
}

export interface Renewal {
  lease_until: number;
  cancel_requested: boolean;
  pause_requested: boolean;
}

/** The server says this runner's lease is gone (expired, or another runner holds the job now). */
export class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`The server took job ${jobId} back from this runner (its lease ran out or another runner holds it).`);
    this.name = 'LeaseLostError';
  }
}

export interface LeaseRef {
  jobId: string;
  deviceId: string;
  generation: number;
}

export class RunnerApi {
  constructor(readonly server: ServerApi) {}

  /** The oldest queued job under a new lease, or null when nothing waits. */
  async claim(deviceId: string, leaseMs: number | null): Promise<Claim | null> {
    const body = JSON.stringify({ device_id: deviceId, ...(leaseMs === null ? {} : { lease_ms: leaseMs }) });
    const response = await this.server.request('/api/runners/claim', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    if (response.status === 204) return null;
    return this.server.json<Claim>(response);
  }

  async renew(ref: LeaseRef, step: number | null): Promise<Renewal> {
    const body = { device_id: ref.deviceId, generation: ref.generation, ...(step === null ? {} : { step }) };
    return this.#fenced(ref, await this.#post(`/api/runners/jobs/${encodeURIComponent(ref.jobId)}/renew`, body));
  }

  async finish(ref: LeaseRef, outcome: FinishOutcome, step: number, message: string | null): Promise<void> {
    const body = { device_id: ref.deviceId, generation: ref.generation, outcome, step, ...(message ? { message: message.slice(0, 1000) } : {}) };
    await this.#fenced(ref, await this.#post(`/api/runners/jobs/${encodeURIComponent(ref.jobId)}/finish`, body));
  }

  /** Uploads a `.lathe` package as the lease holder; resolves with the step it holds. */
  async uploadCheckpoint(ref: LeaseRef, bytes: Uint8Array): Promise<number> {
    const step = packageStep(bytes);
    const query = `device_id=${encodeURIComponent(ref.deviceId)}&generation=${ref.generation}&step=${step}`;
    const response = await this.server.request(
      `/api/runners/jobs/${encodeURIComponent(ref.jobId)}/checkpoint?${query}`,
      { method: 'PUT', headers: { 'Content-Type': 'application/x-lathe-package' }, body: blobOf(bytes) },
      RUNNER_TRANSFER_TIMEOUT_MS,
    );
    await this.#fenced(ref, response);
    return step;
  }

  /** The trained model (a TF.js zip) as the job's result, as any device uploads one. */
  async uploadResult(jobId: string, bytes: Uint8Array): Promise<void> {
    const response = await this.server.request(
      `/api/jobs/${encodeURIComponent(jobId)}/result`,
      { method: 'PUT', headers: { 'Content-Type': 'application/zip' }, body: blobOf(bytes) },
      RUNNER_TRANSFER_TIMEOUT_MS,
    );
    await this.server.json(response);
  }

  /** A dataset or checkpoint the claim points at (a path on the server). */
  async download(path: string): Promise<Uint8Array> {
    const response = await this.server.request(path, {}, RUNNER_TRANSFER_TIMEOUT_MS);
    if (!response.ok) throw new SyncError('server', `The server answered ${response.status} for ${path}.`, response.status);
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Asks the server to put a paused server job back in the queue (any runner may take it). */
  async resume(jobId: string): Promise<void> {
    await this.server.json(await this.server.request(`/api/jobs/${encodeURIComponent(jobId)}/resume`, { method: 'POST' }));
  }

  #post(path: string, body: unknown): Promise<Response> {
    return this.server.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  }

  async #fenced<T>(ref: LeaseRef, response: Response): Promise<T> {
    if (response.status === 409) throw new LeaseLostError(ref.jobId);
    return this.server.json<T>(response);
  }
}

/** The global step of the checkpoint inside a `.lathe` package (its manifest's cursor). */
export function packageStep(bytes: Uint8Array): number {
  const files = unzipSync(bytes, { filter: (f) => f.name === 'manifest.json' });
  const manifest = files['manifest.json'];
  if (!manifest) throw new Error('The exported package has no manifest.json.');
  const step = (JSON.parse(new TextDecoder().decode(manifest)) as { checkpoint?: { cursor?: { globalStep?: unknown } } }).checkpoint?.cursor?.globalStep;
  if (typeof step !== 'number') throw new Error('The exported package does not say its checkpoint step.');
  return step;
}

/** A fetch body of exactly these bytes (a view into a larger buffer would send all of it). */
function blobOf(bytes: Uint8Array): Blob {
  return new Blob([bytes.slice().buffer]);
}
