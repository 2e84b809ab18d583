// The event stream over a real loopback port (inject cannot stream): events in order with
// persisted ids, Last-Event-ID resumption without a gap (also across a restart), progress
// throttling, heartbeats, caps (503), and a slow client being dropped rather than buffered.
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLathe } from '../../server/server';
import { ALICE, BOB, auth, change, openEvents, sleep, tempDir, testLathe } from './helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(opts: Parameters<typeof testLathe>[0] = {}) {
  const lathe = await testLathe(opts);
  const url = await lathe.listen(0, '127.0.0.1');
  cleanups.push(() => lathe.dispose());
  const push = async (deviceId: string, changes: unknown[], token = ALICE) => {
    const r = await fetch(`${url}/api/push`, {
      method: 'POST',
      headers: { ...auth(token), 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId, changes }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const events = async (headers: Record<string, string> = auth()) => {
    const s = await openEvents(url, headers);
    cleanups.push(() => s.close());
    return s;
  };
  return { lathe, url, push, events };
}

describe('GET /api/events', () => {
  it('streams job_status_changed with persisted ids, only to the job’s user', async () => {
    const { push, events } = await started();
    const alice = await events();
    const bob = await events(auth(BOB));
    expect(alice.res.status).toBe(200);
    expect(alice.res.headers.get('content-type')).toContain('text/event-stream');
    await push('d1', [change(1, 'j1', 'queued'), change(2, 'j1', 'running', 2, { progress: { stage: 'training', percent: 5 } })]);
    const e1 = await alice.next();
    expect(e1).toMatchObject({ id: '1', event: 'job_status_changed', data: { job_id: 'j1', state: 'queued', previous_state: null, device_id: 'd1' } });
    const e2 = await alice.next();
    expect(e2).toMatchObject({ id: '2', event: 'job_status_changed', data: { state: 'running', previous_state: 'queued' } });
    const e3 = await alice.next();
    expect(e3).toMatchObject({ id: '3', event: 'job_progress', data: { job_id: 'j1', stage: 'training', percent: 5 } });
    expect(typeof e3.data.at).toBe('number');
    await expect(bob.next(300)).rejects.toThrow(/no event/);
  });

  it('resumes after Last-Event-ID without a gap or a repeat, also after a server restart', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const open = async () =>
      createLathe({ dbPath: join(dir.path, 'l.db'), resultsDir: join(dir.path, 'r'), tokens: [{ user: 'alice', token: ALICE }] });
    let lathe = await open();
    let url = await lathe.listen(0, '127.0.0.1');
    const pushTo = (u: string, changes: unknown[]) =>
      fetch(`${u}/api/push`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ deviceId: 'd1', changes }) });
    let s = await openEvents(url, auth());
    await pushTo(url, [change(1, 'j1', 'queued'), change(2, 'j2', 'queued')]);
    expect((await s.next()).id).toBe('1');
    s.close();
    // Changes while the client is away, then a restart of the server on the same database.
    await pushTo(url, [change(3, 'j1', 'running', 3, { progress: { percent: 50 } }), change(4, 'j2', 'cancelled')]);
    await lathe.close();
    lathe = await open();
    url = await lathe.listen(0, '127.0.0.1');
    cleanups.push(() => lathe.close());
    s = await openEvents(url, { ...auth(), 'last-event-id': '1' });
    cleanups.push(() => s.close());
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await s.next()).id!);
    expect(ids).toEqual(['2', '3', '4', '5']);
    await pushTo(url, [change(5, 'j1', 'completed')]);
    expect(await s.next()).toMatchObject({ id: '6', data: { state: 'completed', previous_state: 'running' } });
  });

  it('tells a client whose Last-Event-ID is ahead of the server to resync', async () => {
    const { events } = await started();
    const s = await events({ ...auth(), 'last-event-id': '999' });
    expect(await s.next()).toMatchObject({ event: 'resync', id: '0', data: { reason: 'ahead_of_server' } });
  });

  it('answers 400 for a Last-Event-ID that is not a number, 406 to a client that refuses event streams, 404 to HEAD', async () => {
    const { url, lathe } = await started();
    expect((await fetch(`${url}/api/events`, { headers: { ...auth(), accept: 'application/json' } })).status).toBe(406);
    expect((await lathe.app.inject({ method: 'HEAD', url: '/api/events', headers: auth() })).statusCode).toBe(404);
    const r = await fetch(`${url}/api/events`, { headers: { ...auth(), 'last-event-id': 'abc' } });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ field: 'last-event-id' });
  });

  it('sends job_progress at most once a second per job, and the newest held one when the second ends', async () => {
    const { push, events } = await started({ progressIntervalMs: 400 });
    const s = await events();
    const started_ = Date.now();
    for (let i = 1; i <= 10; i++) {
      await push('d1', [change(i, 'j1', 'running', i, { progress: { stage: 'training', percent: i } })]);
      await sleep(20);
    }
    await sleep(600);
    const got = s.drain().filter((e) => e.event === 'job_progress');
    const elapsed = Date.now() - started_;
    expect(got.length).toBeLessThanOrEqual(Math.ceil(elapsed / 400) + 1);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.at(-1)?.data.percent).toBe(10);
    const times = got.map((e) => e.data.at as number);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(400);
  });

  it('sends a heartbeat comment on an idle stream', async () => {
    const { events } = await started({ heartbeatMs: 100 });
    const s = await events();
    await sleep(350);
    expect(s.comments).toBeGreaterThanOrEqual(2);
  });

  it('caps streams per user and in total with 503', async () => {
    const { url, events } = await started({ streamCaps: { perUser: 2, total: 3 } });
    await events();
    await events();
    const third = await fetch(`${url}/api/events`, { headers: auth() });
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('5');
    await events(auth(BOB));
    const overTotal = await fetch(`${url}/api/events`, { headers: auth(BOB) });
    expect(overTotal.status).toBe(503);
  });

  it('frees a slot when a stream closes', async () => {
    const { url, events, lathe } = await started({ streamCaps: { perUser: 1, total: 10 } });
    const s = await events();
    s.close();
    for (let i = 0; i < 50 && lathe.hub.total > 0; i++) await sleep(20);
    const again = await fetch(`${url}/api/events`, { headers: auth() });
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });

  it('drops a client that stops reading instead of buffering for it', async () => {
    const { url, push, lathe } = await started({ stream: { slowClientTimeoutMs: 300, maxBufferedBytes: 64 * 1024 } });
    const { port } = new URL(url);
    // A raw socket that sends the request and never reads: the kernel buffers fill, then ours.
    const socket = connect(Number(port), '127.0.0.1');
    socket.pause();
    cleanups.push(() => void socket.destroy());
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(`GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\nAccept: text/event-stream\r\n\r\n`);
    for (let i = 0; i < 50 && lathe.hub.total === 0; i++) await sleep(20);
    expect(lathe.hub.total).toBe(1);
    const big = 'x'.repeat(200_000);
    for (let seq = 1; seq <= 60 && lathe.hub.total > 0; seq++) {
      await push('d1', [change(seq, `j${seq}`, 'running', seq, { progress: { stage: 'training', percent: 1, blob: big } })]);
    }
    for (let i = 0; i < 100 && lathe.hub.total > 0; i++) await sleep(20);
    expect(lathe.hub.total).toBe(0);
  });
});
