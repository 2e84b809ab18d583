// The sync outbox: every job write stamps a version and, while sync is on, adds a row with the next
// gap-free seq in the same transaction; rows leave only when acknowledged; a failed write leaves
// neither job nor row; and the event reader parses the server's stream.
import { describe, expect, it } from 'vitest';
import { getJob, listJobs, openLatheDb, putJob, updateJob, type LatheDb } from '../../shared/db';
import { emptyProgress, transition, type JobRecord } from '../../shared/jobs';
import {
  acknowledge, enableSync, nextPushBatch, outboxCount, readSyncState, renumberFrom, writeSyncState,
} from '../../shared/sync-outbox';
import { readEvents } from '../../src/lib/sync/event-reader';
import type { SyncEvent } from '../../shared/sync-types';
import { freshDbName, TEST_CONFIG } from './harness';

function job(id: string): JobRecord {
  return {
    id, name: id, state: 'queued', datasetId: 'd', config: TEST_CONFIG, configHash: 'h', createdAt: 1, queuedAt: 1, startedAt: null,
    finishedAt: null, durationMs: 0, error: null, notice: null, progress: emptyProgress(4), history: [], backend: null,
    backendReason: null, checkpointStep: null, resumedFromStep: null, crashCount: 0,
  };
}

async function db(): Promise<LatheDb> {
  return openLatheDb(freshDbName());
}

describe('sync outbox', () => {
  it('with sync off, writes stamp versions but queue nothing', async () => {
    const d = await db();
    const a = await putJob(d, job('a'));
    expect(a.version).toBe(1);
    expect((await updateJob(d, 'a', (j) => transition(j, 'running', 2))).version).toBe(2);
    expect(await outboxCount(d)).toBe(0);
  });

  it('turning sync on queues every job once; later writes queue in order with gap-free seqs', async () => {
    const d = await db();
    await putJob(d, job('a'));
    await putJob(d, job('b'));
    const state = await enableSync(d, { serverUrl: '', token: 't'.repeat(20) }, 5);
    expect(state).toMatchObject({ enabled: true, nextSeq: 3 });
    await enableSync(d, { serverUrl: '', token: 't'.repeat(20) }, 6);
    expect(await outboxCount(d), 'enabling again queues nothing twice').toBe(2);
    await updateJob(d, 'a', (j) => transition(j, 'running', 7));
    await Promise.all([putJob(d, { ...job('c') }), updateJob(d, 'b', (j) => transition(j, 'cancelled', 8))]);
    const rows = await nextPushBatch(d);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    const versions = new Map<string, number[]>();
    for (const r of rows) versions.set(r.jobId, [...(versions.get(r.jobId) ?? []), r.version]);
    for (const [, v] of versions) expect([...v].sort((x, y) => x - y)).toEqual(v);
    expect(rows.find((r) => r.jobId === 'a' && r.snapshot.state === 'running')).toBeDefined();
    expect(rows.every((r) => r.snapshot.history.length === 0)).toBe(true);
  });

  it('a write that fails leaves neither the job change nor its row', async () => {
    const d = await db();
    await enableSync(d, { serverUrl: '', token: 't'.repeat(20) }, 1);
    await putJob(d, job('a'));
    const before = await outboxCount(d);
    await expect(updateJob(d, 'a', (j) => transition(j, 'completed', 2))).rejects.toThrow(/cannot go from "queued" to "completed"/);
    expect(await outboxCount(d)).toBe(before);
    expect((await getJob(d, 'a'))!.state).toBe('queued');
    expect((await readSyncState(d)).nextSeq).toBe(before + 1);
  });

  it('rows leave only when acknowledged, and a server that lost them gets them renumbered from where it stands', async () => {
    const d = await db();
    await enableSync(d, { serverUrl: '', token: 't'.repeat(20) }, 1);
    for (const id of ['a', 'b', 'c', 'd']) await putJob(d, job(id));
    await acknowledge(d, 2);
    expect((await nextPushBatch(d)).map((r) => r.seq)).toEqual([3, 4]);
    expect((await readSyncState(d)).ackedSeq).toBe(2);
    // A new server database expects seq 1 again.
    await renumberFrom(d, 1);
    expect((await nextPushBatch(d)).map((r) => [r.seq, r.jobId])).toEqual([[1, 'c'], [2, 'd']]);
    await putJob(d, job('e'));
    expect((await nextPushBatch(d)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await listJobs(d)).length).toBe(5);
  });

  it('keeps its cursor across reopening the database', async () => {
    const name = freshDbName();
    const d = await openLatheDb(name);
    await writeSyncState(d, { lastEventId: 41, deviceId: 'dev-1' });
    d.close();
    expect(await readSyncState(await openLatheDb(name))).toMatchObject({ lastEventId: 41, deviceId: 'dev-1' });
  });
});

describe('event stream reader', () => {
  it('parses ids, types and data across chunk boundaries, skipping comments and unknown events', async () => {
    const text =
      ': connected\n\nid: 7\nevent: job_progress\ndata: {"job_id":"j","percent":12.5}\n\nid: 8\nevent: unknown\ndata: {}\n\n' +
      'id: 9\r\nevent: job_status_changed\r\ndata: {"job_id":"j",\r\ndata: "state":"paused"}\r\n\r\n';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.subarray(i, i + 7));
        controller.close();
      },
    });
    const seen: SyncEvent[] = [];
    await readEvents(body, (e) => void seen.push(e));
    expect(seen.map((e) => [e.id, e.type])).toEqual([[7, 'job_progress'], [9, 'job_status_changed']]);
    expect(seen[1]!.data).toMatchObject({ job_id: 'j', state: 'paused' });
  });
});
