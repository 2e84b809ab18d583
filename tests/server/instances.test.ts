// Several server instances on one PostgreSQL database behave as one server: an event written
// through one reaches streams on the other (LISTEN/NOTIFY wake-up, the event table as the truth),
// Last-Event-ID resumes on another instance without a gap, concurrent writes through both keep a
// user's event sequence gap-free, and each webhook delivery is sent once whichever instance sends.
// Skipped without LATHE_TEST_DATABASE_URL (tests/server/pg.ts).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createLathe, type Lathe, type LatheOptions } from '../../server/server';
import { listenerName } from '../../server/store/pg-pool';
import { ALICE, BOB, auth, change, openEvents, sleep, tempDir } from './helpers';
import { freshSchema, PG_URL } from './pg';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `count` instances on one fresh schema, each on its own loopback port. */
async function instances(count: number, extra: Partial<LatheOptions> = {}) {
  const db = freshSchema();
  cleanups.push(() => db.drop());
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const started: { lathe: Lathe; url: string }[] = [];
  for (let i = 0; i < count; i++) {
    const lathe = await createLathe({
      dbPath: ':unused:',
      database: db.conn,
      resultsDir: dir.path,
      tokens: [
        { user: 'alice', token: ALICE },
        { user: 'bob', token: BOB },
      ],
      rateLimitPerMinute: 100_000,
      ...extra,
    });
    cleanups.push(() => lathe.close());
    started.push({ lathe, url: await lathe.listen(0, '127.0.0.1') });
  }
  return Object.assign(started, { conn: db.conn });
}

async function push(url: string, deviceId: string, changes: unknown[]) {
  const r = await fetch(`${url}/api/push`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId, changes }),
  });
  expect(r.status).toBe(200);
}

async function events(url: string, headers: Record<string, string> = auth()) {
  const s = await openEvents(url, headers);
  cleanups.push(() => s.close());
  return s;
}

describe.skipIf(PG_URL === null)('several instances on one PostgreSQL', () => {
  it('an event written through instance 1 reaches a stream on instance 2, only for its user', async () => {
    const [one, two] = await instances(2);
    const alice = await events(two!.url);
    const bob = await events(two!.url, auth(BOB));
    await push(one!.url, 'dev-a', [change(1, 'j1', 'queued'), change(2, 'j1', 'running')]);
    expect(await alice.next()).toMatchObject({ id: '1', event: 'job_status_changed', data: { job_id: 'j1', state: 'queued' } });
    expect(await alice.next()).toMatchObject({ id: '2', event: 'job_status_changed', data: { state: 'running', previous_state: 'queued' } });
    await expect(bob.next(300)).rejects.toThrow(/no event/);
  });

  it('a stream still gets what was written while its instance’s LISTEN connection was down', async () => {
    const nodes = await instances(2);
    const [one, two] = nodes;
    const alice = await events(two!.url);
    await push(one!.url, 'dev-a', [change(1, 'j1', 'queued')]);
    expect(await alice.next()).toMatchObject({ id: '1' });
    // Both instances' LISTEN connections are cut (the server restarted, a proxy dropped them).
    const admin = new pg.Client({ connectionString: PG_URL! });
    await admin.connect();
    const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [listenerName(nodes.conn)]);
    await admin.end();
    expect(cut.rowCount).toBe(2);
    await push(one!.url, 'dev-a', [change(2, 'j1', 'running')]);
    expect(await alice.next(10_000)).toMatchObject({ id: '2', data: { state: 'running' } });
    await push(one!.url, 'dev-a', [change(3, 'j1', 'paused')]);
    expect(await alice.next(10_000)).toMatchObject({ id: '3', data: { state: 'paused' } });
  });

  it('concurrent writes through both instances give one gap-free sequence, and Last-Event-ID resumes on the other instance', async () => {
    const [one, two] = await instances(2);
    const first = await events(one!.url);
    // Eight devices push at once, alternating instances: every push writes one event.
    await Promise.all(
      Array.from({ length: 8 }, (_, d) => push([one, two][d % 2]!.url, `dev-${d}`, [change(1, `job-${d}`, 'queued')])),
    );
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await first.next());
    first.close();
    await Promise.all(
      Array.from({ length: 8 }, (_, d) => push([two, one][d % 2]!.url, `dev-${d}`, [change(2, `job-${d}`, 'running')])),
    );
    const resumed = await events(two!.url, { ...auth(), 'last-event-id': seen.at(-1)!.id! });
    const rest = [];
    for (let i = 0; i < 12; i++) rest.push(await resumed.next());
    const ids = [...seen, ...rest].map((e) => Number(e.id));
    expect(ids).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const states = [...seen, ...rest].filter((e) => e.event === 'job_status_changed').map((e) => `${String(e.data.job_id)}:${String(e.data.state)}`);
    expect(new Set(states).size).toBe(16);
    await expect(resumed.next(300)).rejects.toThrow(/no event/);
  });

  it('sends each webhook delivery once, whichever of three instances claims it', async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(`${String(req.headers['webhook-id'])} ${req.url}`);
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const address = server.address();
    const base = `http://127.0.0.1:${address && typeof address === 'object' ? address.port : 0}`;
    const urls = [`${base}/a`, `${base}/b`];
    const nodes = await instances(3, {
      webhookUrls: urls,
      webhookSecret: Buffer.from(randomBytes(32)),
      webhookPollMs: 20,
    });
    const jobs = 10;
    await Promise.all(
      Array.from({ length: jobs }, (_, j) => push(nodes[j % 3]!.url, `dev-${j}`, [change(1, `job-${j}`, 'completed')])),
    );
    const end = Date.now() + 10_000;
    while (received.length < jobs * urls.length && Date.now() < end) await sleep(20);
    // Every instance polls every 20 ms: give a double send the time to happen.
    await sleep(300);
    expect(received).toHaveLength(jobs * urls.length);
    expect(new Set(received).size).toBe(jobs * urls.length);
  });
});
