// A job handed over between runners across two server instances on one PostgreSQL, over real
// loopback HTTP: a script submits through instance 1, runner A (on instance 1) trains and uploads
// a checkpoint, then vanishes; after its lease runs out, runner B (on instance 2) resumes from that
// checkpoint and finishes; A comes back and is fenced off. An observer streaming from instance 2
// sees every state change in order, whichever instance wrote it. The browser runner is not
// built yet: the runners here are plain HTTP clients. Skipped without LATHE_TEST_DATABASE_URL.
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { createLathe } from '../../server/server';
import { ALICE, auth, openEvents, sleep, tempDir } from './helpers';
import { freshSchema, PG_URL } from './pg';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DATA = Buffer.from('a,b,label\n1,2,x\n3,4,y\n');
const FP = createHash('sha256').update(DATA).digest('hex');
const CONFIG = { model: { kind: 'mlp', hidden: [{ units: 4, activation: 'relu' }] }, optimizer: 'adam', learningRate: 0.01, batchSize: 2, epochs: 5, validationSplit: 0, seed: 3 };
const pkg = (step: number) => Buffer.from(zipSync({ 'manifest.json': new TextEncoder().encode(JSON.stringify({ step })) }, { mtime: new Date('2026-01-01') }));
/** Runner A's lease, in ms: long enough that its one renewal lands inside it on a busy machine. */
const LEASE_A_MS = 4000;

async function call(base: string, method: string, path: string, body?: unknown, type = 'application/json') {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...auth(ALICE), ...(body === undefined ? {} : { 'content-type': type }) },
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(buf.toString()) as Record<string, unknown>) : null;
  return { status: res.status, json, buf };
}

describe.skipIf(PG_URL === null)('runner hand-over across two instances', () => {
  it('a vanished runner’s job resumes elsewhere from its checkpoint, and the old runner cannot write over its successor', async () => {
    const db = freshSchema();
    cleanups.push(() => db.drop());
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const lathe = await createLathe({ dbPath: ':unused:', database: db.conn, resultsDir: dir.path, tokens: [{ user: 'alice', token: ALICE }], rateLimitPerMinute: 100_000, leaseSweepMs: 100 });
      cleanups.push(() => lathe.close());
      urls.push(await lathe.listen(0, '127.0.0.1'));
    }
    const [one, two] = urls as [string, string];
    const observer = await openEvents(two, auth(ALICE));
    cleanups.push(() => observer.close());

    expect((await call(one, 'PUT', `/api/datasets/${FP}`, DATA, 'application/octet-stream')).status).toBe(201);
    const job = String((await call(one, 'POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP } })).json!.job_id);

    const a = await call(one, 'POST', '/api/runners/claim', { device_id: 'device-a', lease_ms: LEASE_A_MS });
    expect(a.json).toMatchObject({ job_id: job, generation: 1, checkpoint: null });
    const leaseA = { device_id: 'device-a', generation: 1 };
    expect((await call(one, 'POST', `/api/runners/jobs/${job}/renew`, { ...leaseA, step: 3, lease_ms: LEASE_A_MS })).status).toBe(200);
    expect((await call(one, 'PUT', `/api/runners/jobs/${job}/checkpoint?device_id=device-a&generation=1&step=3`, pkg(3), 'application/x-lathe-package')).status).toBe(201);
    // Runner A vanishes here: no more renewals. Runner B polls instance 2 until the job is free.
    let b = await call(two, 'POST', '/api/runners/claim', { device_id: 'device-b' });
    expect(b.status).toBe(204);
    const deadline = Date.now() + 30_000;
    while (b.status === 204 && Date.now() < deadline) {
      await sleep(100);
      b = await call(two, 'POST', '/api/runners/claim', { device_id: 'device-b' });
    }
    expect(b.json).toMatchObject({ job_id: job, generation: 2, checkpoint: { step: 3, url: `/api/jobs/${job}/checkpoint` } });
    const resumed = await call(two, 'GET', `/api/jobs/${job}/checkpoint`);
    expect(Buffer.compare(resumed.buf, pkg(3))).toBe(0);
    expect(Buffer.compare((await call(two, 'GET', `/api/datasets/${FP}`)).buf, DATA)).toBe(0);

    // A comes back: every write it tries is refused, and B's work stands.
    expect(await call(one, 'POST', `/api/runners/jobs/${job}/renew`, { ...leaseA, step: 4 })).toMatchObject({ status: 409, json: { error: 'lease_lost' } });
    expect((await call(one, 'PUT', `/api/runners/jobs/${job}/checkpoint?device_id=device-a&generation=1&step=4`, pkg(99), 'application/zip')).status).toBe(409);
    const leaseB = { device_id: 'device-b', generation: 2 };
    expect((await call(two, 'PUT', `/api/runners/jobs/${job}/checkpoint?device_id=device-b&generation=2&step=5`, pkg(5), 'application/zip')).status).toBe(201);
    expect((await call(one, 'POST', `/api/runners/jobs/${job}/finish`, { ...leaseA, outcome: 'completed', step: 4 })).status).toBe(409);
    expect((await call(two, 'POST', `/api/runners/jobs/${job}/finish`, { ...leaseB, outcome: 'completed', step: 5 })).status).toBe(200);

    const record = await call(one, 'GET', `/api/jobs/${job}`);
    expect(record.json).toMatchObject({
      state: 'completed',
      device_id: 'device-b',
      queue: {
        checkpoint: { step: 5 },
        runs: [
          { generation: 1, device_id: 'device-a', from_step: 0, to_step: 3, end_reason: 'lease_expired' },
          { generation: 2, device_id: 'device-b', from_step: 3, to_step: 5, end_reason: 'completed' },
        ],
      },
    });
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await observer.next());
    expect(seen.map((e) => Number(e.id))).toEqual([1, 2, 3, 4, 5]);
    expect(seen.map((e) => [e.data.state, e.data.device_id])).toEqual([
      ['queued', 'server'],
      ['running', 'device-a'],
      ['queued', 'device-a'],
      ['running', 'device-b'],
      ['completed', 'device-b'],
    ]);
    expect(seen[2]!.data.reason).toBe('lease_expired');
  });
});
