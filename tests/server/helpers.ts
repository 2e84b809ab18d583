// Test helpers for the sync server: job snapshots as the app pushes them, temp folders, and an
// app built in process with a temp database. Imports server/ and node built-ins only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobState } from '../../shared/jobs';
import { createLathe, type Lathe, type LatheOptions } from '../../server/server';
import type { JobChange, JobSnapshot } from '../../server/store/job-store';

export function tempDir(prefix = 'lathe-server-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function snapshot(state: JobState, extra: Partial<JobSnapshot> = {}): JobSnapshot {
  return {
    id: 'ignored-by-store',
    name: 'xor run',
    state,
    progress: { stage: 'training', percent: 10, step: 5 },
    log: [{ at: 1, kind: 'started', text: 'worker started on wasm' }],
    ...extra,
  };
}

/** A change; `seq` and `version` default to each other for brevity. */
export function change(seq: number, jobId: string, state: JobState, version = seq, extra: Partial<JobSnapshot> = {}): JobChange {
  return { seq, jobId, version, snapshot: { ...snapshot(state, extra), id: jobId } };
}

export const ALICE = 'alice-token-0123456789';
export const BOB = 'bob-token-0123456789ab';
export const auth = (token = ALICE) => ({ authorization: `Bearer ${token}` });

/** A server in process with a temporary database and results folder; `dispose` removes both. */
export async function testLathe(opts: Partial<LatheOptions> = {}): Promise<Lathe & { dir: string; dispose: () => Promise<void> }> {
  const dir = tempDir();
  const lathe = await createLathe({
    dbPath: join(dir.path, 'lathe.db'),
    resultsDir: join(dir.path, 'results'),
    tokens: [
      { user: 'alice', token: ALICE },
      { user: 'bob', token: BOB },
    ],
    rateLimitPerMinute: 100_000,
    ...opts,
  });
  return {
    ...lathe,
    dir: dir.path,
    dispose: async () => {
      await lathe.close();
      dir.remove();
    },
  };
}

export interface SseEvent {
  id: string | null;
  event: string;
  data: Record<string, unknown>;
}

/**
 * Reads a server-sent event stream with fetch (as the browser client will: the token in the
 * header). `next()` waits for the next event; comments (heartbeats) are counted.
 */
export async function openEvents(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/events`, { headers, signal: controller.signal });
  const queue: SseEvent[] = [];
  const waiters: ((e: SseEvent) => void)[] = [];
  let comments = 0;
  let ended = false;
  const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const pump = async () => {
    if (!reader || !res.headers.get('content-type')?.startsWith('text/event-stream')) return;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const ev: SseEvent = { id: null, event: 'message', data: {} };
          let isEvent = false;
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) comments++;
            else if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('data: ')) {
              ev.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
              isEvent = true;
            }
          }
          if (!isEvent) continue;
          const w = waiters.shift();
          if (w) w(ev);
          else queue.push(ev);
        }
      }
    } catch {
      // aborted or dropped
    } finally {
      ended = true;
    }
  };
  const done = pump();
  return {
    res,
    get comments() {
      return comments;
    },
    get ended() {
      return ended;
    },
    done,
    next(timeoutMs = 5000): Promise<SseEvent> {
      const e = queue.shift();
      if (e) return Promise.resolve(e);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((ev) => {
          clearTimeout(t);
          resolve(ev);
        });
      });
    },
    /** Events already received and not yet taken. */
    drain(): SseEvent[] {
      return queue.splice(0);
    },
    close() {
      controller.abort();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
