// The sync server's HTTP API as the page uses it (server/README.md is the contract): every call
// has a timeout, the token goes only in the Authorization header, and failures come back as one
// of three words the sync status shows: refused (a wrong token), offline, or a server problem.
import type { OutboxRow, RemoteJobSummary } from '../../../shared/sync-types';

/** A call that takes longer counts as "offline"; training never waits for it. */
export const SYNC_CALL_TIMEOUT_MS = 10_000;

export class SyncError extends Error {
  constructor(
    readonly kind: 'refused' | 'offline' | 'server',
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

export interface PushConflict {
  seq: number;
  job_id: string;
  version: number;
  stored_version: number;
  reason: 'stale_version' | 'deleted';
}

export type PushReply =
  | { kind: 'ok'; lastAppliedSeq: number; conflicts: PushConflict[] }
  | { kind: 'gap'; expectedSeq: number; lastAppliedSeq: number };

export class ServerApi {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  /** One authenticated call; a network failure or a 401 becomes a SyncError. */
  async request(path: string, init: RequestInit = {}, timeoutMs = SYNC_CALL_TIMEOUT_MS): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(this.url(path), {
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), Authorization: `Bearer ${this.token}` },
        signal: init.signal ?? AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new SyncError('offline', `The sync server cannot be reached (${error instanceof Error ? error.message : String(error)}).`);
    }
    if (response.status === 401) throw new SyncError('refused', 'The sync server refused the token.', 401);
    return response;
  }

  /** The JSON body of a 2xx answer; anything else becomes a SyncError carrying the status. */
  async json<T>(response: Response): Promise<T> {
    if (response.status >= 500) throw new SyncError('server', `The sync server answered ${response.status}.`, response.status);
    const body = (await response.json().catch(() => null)) as (T & { message?: string }) | null;
    if (!response.ok || body === null)
      throw new SyncError('server', `The sync server answered ${response.status}: ${body?.message ?? 'no details'}.`, response.status);
    return body;
  }

  /** Checks the address and the token: any authenticated call does. */
  async check(): Promise<void> {
    await this.json(await this.request('/api/jobs?limit=1'));
  }

  async push(deviceId: string, rows: OutboxRow[]): Promise<PushReply> {
    const body = JSON.stringify({ deviceId, changes: rows.map((r) => ({ seq: r.seq, jobId: r.jobId, version: r.version, snapshot: r.snapshot })) });
    const response = await this.request('/api/push', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    if (response.status === 409) {
      const gap = (await response.json().catch(() => null)) as { expected_seq?: number; last_applied_seq?: number } | null;
      if (typeof gap?.expected_seq === 'number') return { kind: 'gap', expectedSeq: gap.expected_seq, lastAppliedSeq: gap.last_applied_seq ?? gap.expected_seq - 1 };
    }
    const reply = await this.json<{ last_applied_seq: number; conflicts?: PushConflict[] }>(response);
    return { kind: 'ok', lastAppliedSeq: reply.last_applied_seq, conflicts: reply.conflicts ?? [] };
  }

  /** Every job the user has on the server, page by page. */
  async listJobs(): Promise<RemoteJobSummary[]> {
    const all: RemoteJobSummary[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/jobs?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await this.json<{ jobs: RemoteJobSummary[]; next_cursor: string | null }>(await this.request(query));
      all.push(...page.jobs);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  }

  async getJob(id: string): Promise<RemoteJobSummary & { snapshot: unknown }> {
    return this.json(await this.request(`/api/jobs/${encodeURIComponent(id)}`));
  }

  /** Asks for a job to be cancelled: at once when it is not training, else by the device that runs it. */
  async cancel(id: string): Promise<{ outcome: 'cancelled' | 'requested' }> {
    const response = await this.request(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
    if (response.status === 409) return { outcome: 'cancelled' };
    return this.json(response);
  }

  /** Opens the event stream after `lastEventId`; the caller reads `body` until it ends or `signal` aborts. */
  async events(lastEventId: number, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.request('/api/events', { headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(lastEventId) }, signal });
    if (!response.ok || !response.body) {
      if (response.status === 503) throw new SyncError('offline', 'The sync server has too many open streams; retrying.', 503);
      throw new SyncError('server', `The event stream answered ${response.status}.`, response.status);
    }
    return response.body;
  }
}
