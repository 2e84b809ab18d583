// Types of the server's job queue: jobs submitted over HTTP wait for a runner (a browser that
// claims one job at a time under a renewable lease). Types only.
import type { StoredEvent } from './job-store';

export interface SubmitInput {
  jobId: string;
  name: string | null;
  config: Record<string, unknown>;
  datasetFingerprint: string;
  /** Where the runner pauses by itself ({kind: 'step' | 'epoch', at}); none when absent or null. */
  breakpoint?: { kind: 'step' | 'epoch'; at: number } | null;
}

export type SubmitResult = { ok: true; events: StoredEvent[] } | { ok: false; reason: 'unknown_dataset' | 'exists' };

export interface Lease {
  jobId: string;
  generation: number;
  leaseUntil: number;
  name: string | null;
  config: Record<string, unknown>;
  datasetFingerprint: string;
  /** The newest uploaded checkpoint's step, or null: start from scratch. */
  checkpointStep: number | null;
  breakpoint: { kind: 'step' | 'epoch'; at: number } | null;
}

export interface ClaimResult {
  lease: Lease | null;
  /** Jobs whose expired lease this claim returned to the queue, and the job it took. */
  events: StoredEvent[];
}

/** What a runner sends with a lease: its device and the generation it was given. */
export interface LeaseRef {
  jobId: string;
  deviceId: string;
  generation: number;
}

export type Fenced<T> = ({ ok: true } & T) | { ok: false; reason: 'lease_lost' | 'not_found'; events?: undefined };

export interface RenewReply {
  leaseUntil: number;
  cancelRequested: boolean;
  pauseRequested: boolean;
  events: StoredEvent[];
}

export type FinishOutcome = 'completed' | 'failed' | 'cancelled' | 'paused';

export interface QueueRun {
  generation: number;
  deviceId: string;
  fromStep: number;
  toStep: number;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
}

export interface QueueInfo {
  datasetFingerprint: string;
  leaseDevice: string | null;
  leaseUntil: number | null;
  generation: number;
  pauseRequested: boolean;
  checkpoint: { step: number; sha256: string; uploadedAt: number } | null;
  runs: QueueRun[];
}

export type ControlResult =
  | { outcome: 'not_found' | 'not_queue_job' }
  | { outcome: 'refused'; state: string }
  | { outcome: 'done' | 'requested'; state: string; events: StoredEvent[] };
