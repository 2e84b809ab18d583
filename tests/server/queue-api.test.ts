// The job queue over HTTP (app.inject, on SQLite and on PostgreSQL when configured): a script
// uploads a dataset and submits a job, a runner claims, renews, uploads a checkpoint and finishes;
// malformed requests get a 4xx naming the field; a runner that lost its lease gets 409.
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, auth, testLathe } from './helpers';
import { freshSchema, PG_URL } from './pg';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DATA = Buffer.from('x,y\n0,0\n1,1\n');
const FP = createHash('sha256').update(DATA).digest('hex');
const CONFIG = {
  model: { kind: 'mlp', hidden: [{ units: 8, activation: 'relu' }] },
  optimizer: 'adam',
  learningRate: 0.01,
  batchSize: 4,
  epochs: 3,
  validationSplit: 0,
  seed: 7,
};
const PACKAGE = Buffer.from(zipSync({ 'manifest.json': new TextEncoder().encode('{"format":"lathe-package"}') }));

const stores: [string, () => { database?: { url: string; schema: string }; drop?: () => Promise<void> }][] = [['SQLite', () => ({})]];
if (PG_URL !== null)
  stores.push([
    'PostgreSQL',
    () => {
      const db = freshSchema();
      return { database: { url: db.conn.url, schema: db.conn.schema! }, drop: db.drop };
    },
  ]);

describe.each(stores)('job queue API on %s', (_name, makeDb) => {
  async function server() {
    const db = makeDb();
    const lathe = await testLathe(db.database ? { database: db.database } : {});
    cleanups.push(async () => {
      await lathe.dispose();
      await db.drop?.();
    });
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, type = 'application/json', token = ALICE) => {
      const raw = Buffer.isBuffer(body);
      const res = await lathe.app.inject({
        method,
        url,
        headers: { ...auth(token), ...(body === undefined ? {} : { 'content-type': type }) },
        ...(body === undefined ? {} : { payload: raw ? body : JSON.stringify(body) }),
      });
      const json = res.headers['content-type']?.toString().startsWith('application/json') ? res.json<Record<string, unknown>>() : null;
      return { status: res.statusCode, json, raw: res.rawPayload, headers: res.headers };
    };
    return { lathe, call };
  }

  it('checks a dataset’s fingerprint on arrival and stores it once', async () => {
    const { call } = await server();
    const wrong = 'a'.repeat(64);
    expect(await call('PUT', `/api/datasets/${wrong}`, DATA, 'application/octet-stream')).toMatchObject({ status: 400, json: { error: 'fingerprint_mismatch', field: 'fingerprint' } });
    expect(await call('PUT', '/api/datasets/not-a-hash', DATA, 'application/octet-stream')).toMatchObject({ status: 400, json: { field: 'fingerprint' } });
    expect((await call('PUT', `/api/datasets/${FP}`, { a: 1 })).status).toBe(415);
    expect(await call('PUT', `/api/datasets/${FP}`, DATA, 'application/octet-stream')).toMatchObject({ status: 201, json: { created: true, bytes: DATA.length } });
    expect(await call('PUT', `/api/datasets/${FP}`, DATA, 'application/octet-stream')).toMatchObject({ status: 200, json: { created: false } });
    const got = await call('GET', `/api/datasets/${FP}`);
    expect(got.status).toBe(200);
    expect(Buffer.compare(got.raw, DATA)).toBe(0);
    expect((await call('GET', `/api/datasets/${FP}`, undefined, undefined, BOB)).status).toBe(404);
  });

  it('refuses a malformed job with a 4xx naming the field, and queues a good one at once', async () => {
    const { call } = await server();
    const bad = await call('POST', '/api/jobs', { config: { ...CONFIG, epochs: 0 }, dataset: { fingerprint: FP } });
    expect(bad).toMatchObject({ status: 400, json: { field: 'config' } });
    expect(String(bad.json?.message)).toMatch(/Epochs/);
    expect(await call('POST', '/api/jobs', { config: { ...CONFIG, model: { kind: 'rnn' } }, dataset: { fingerprint: FP } })).toMatchObject({ status: 400, json: { field: 'config.model.kind' } });
    expect(await call('POST', '/api/jobs', { config: CONFIG })).toMatchObject({ status: 400, json: { field: 'dataset' } });
    expect(await call('POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP } })).toMatchObject({ status: 422, json: { field: 'dataset.fingerprint' } });
    await call('PUT', `/api/datasets/${FP}`, DATA, 'application/octet-stream');
    const ok = await call('POST', '/api/jobs', { name: 'from a script', config: CONFIG, dataset: { fingerprint: FP } });
    expect(ok).toMatchObject({ status: 202, json: { state: 'queued' } });
    const status = await call('GET', String(ok.json!.status_url));
    expect(status).toMatchObject({ status: 200, json: { state: 'queued', device_id: 'server', name: 'from a script', queue: { dataset_fingerprint: FP, generation: 0, runs: [] } } });
  });

  it('lets a runner claim, renew, upload checkpoints and finish; a runner that lost its lease gets 409', async () => {
    const { call } = await server();
    await call('PUT', `/api/datasets/${FP}`, DATA, 'application/octet-stream');
    const job = String((await call('POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP } })).json!.job_id);
    const claim = await call('POST', '/api/runners/claim', { device_id: 'dev-a', lease_ms: 2000 });
    expect(claim).toMatchObject({ status: 200, json: { job_id: job, generation: 1, config: CONFIG, checkpoint: null, dataset: { url: `/api/datasets/${FP}` } } });
    expect((await call('POST', '/api/runners/claim', { device_id: 'dev-b' })).status).toBe(204);
    expect(await call('POST', '/api/runners/claim', { device_id: 'dev-b', lease_ms: 5 })).toMatchObject({ status: 400, json: { field: 'lease_ms' } });
    const lease = { device_id: 'dev-a', generation: 1 };
    expect(await call('POST', `/api/runners/jobs/${job}/renew`, { ...lease, step: 3 })).toMatchObject({ status: 200, json: { cancel_requested: false, pause_requested: false } });
    expect(await call('POST', `/api/runners/jobs/${job}/renew`, { ...lease, generation: 2 })).toMatchObject({ status: 409, json: { error: 'lease_lost' } });
    expect(await call('POST', `/api/runners/jobs/${job}/renew`, { ...lease, device_id: 'dev-b' })).toMatchObject({ status: 409 });
    const ckpt = `/api/runners/jobs/${job}/checkpoint?device_id=dev-a&generation=1&step=4`;
    expect(await call('PUT', ckpt, Buffer.from('not a zip'), 'application/octet-stream')).toMatchObject({ status: 400, json: { field: 'body' } });
    expect(await call('PUT', ckpt, PACKAGE, 'application/x-lathe-package')).toMatchObject({ status: 201, json: { step: 4, bytes: PACKAGE.length } });
    expect(await call('PUT', `/api/runners/jobs/${job}/checkpoint?device_id=dev-a&generation=x&step=4`, PACKAGE, 'application/zip')).toMatchObject({ status: 400, json: { field: 'generation' } });
    const saved = await call('GET', `/api/jobs/${job}/checkpoint`);
    expect(saved.headers['x-checkpoint-step']).toBe('4');
    expect(Buffer.compare(saved.raw, PACKAGE)).toBe(0);

    expect(await call('POST', `/api/jobs/${job}/cancel`)).toMatchObject({ status: 202, json: { outcome: 'requested', device_id: 'dev-a' } });
    expect(await call('POST', `/api/runners/jobs/${job}/renew`, lease)).toMatchObject({ status: 200, json: { cancel_requested: true } });
    expect(await call('POST', `/api/runners/jobs/${job}/finish`, { ...lease, outcome: 'cancelled', step: 5 })).toMatchObject({ status: 200 });
    expect(await call('POST', `/api/runners/jobs/${job}/finish`, { ...lease, outcome: 'completed', step: 6 })).toMatchObject({ status: 409 });
    const record = await call('GET', `/api/jobs/${job}`);
    expect(record.json).toMatchObject({ state: 'cancelled', queue: { runs: [{ generation: 1, device_id: 'dev-a', from_step: 0, to_step: 5, end_reason: 'cancelled' }] } });
  });

  it('keeps a submission’s breakpoint and hands it to every runner that claims the job; a breakpoint that cannot fire is refused', async () => {
    const { call } = await server();
    await call('PUT', `/api/datasets/${FP}`, DATA, 'application/octet-stream');
    expect(await call('POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP }, breakpoint: { kind: 'epoch', at: 3 } })).toMatchObject({ status: 400, json: { field: 'breakpoint' } });
    expect(await call('POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP }, breakpoint: { kind: 'step', at: 0 } })).toMatchObject({ status: 400, json: { field: 'breakpoint.at' } });
    expect(await call('POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP }, breakpoint: { kind: 'batch', at: 2 } })).toMatchObject({ status: 400, json: { field: 'breakpoint.kind' } });
    const plain = String((await call('POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP } })).json!.job_id);
    const paused = String((await call('POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP }, breakpoint: { kind: 'step', at: 2 } })).json!.job_id);
    expect(await call('POST', '/api/runners/claim', { device_id: 'dev-a', lease_ms: 2000 })).toMatchObject({ json: { job_id: plain, breakpoint: null } });
    expect(await call('POST', '/api/runners/claim', { device_id: 'dev-a', lease_ms: 2000 })).toMatchObject({ json: { job_id: paused, breakpoint: { kind: 'step', at: 2 } } });
    // The runner paused there: the job waits paused, and a resumed claim still carries the breakpoint (the runner drops it, being past it).
    const lease = { device_id: 'dev-a', generation: 1 };
    await call('PUT', `/api/runners/jobs/${paused}/checkpoint?device_id=dev-a&generation=1&step=2`, PACKAGE, 'application/x-lathe-package');
    expect(await call('POST', `/api/runners/jobs/${paused}/finish`, { ...lease, outcome: 'paused', step: 2 })).toMatchObject({ status: 200, json: { state: 'paused' } });
    expect(await call('POST', `/api/jobs/${paused}/resume`)).toMatchObject({ status: 200, json: { state: 'queued' } });
    expect(await call('POST', '/api/runners/claim', { device_id: 'dev-b' })).toMatchObject({ json: { job_id: paused, generation: 2, checkpoint: { step: 2 }, breakpoint: { kind: 'step', at: 2 } } });
    expect((await call('GET', `/api/jobs/${paused}`)).json).toMatchObject({ snapshot: { breakpoint: { kind: 'step', at: 2 } } });
  });

  it('pauses a queued job at once, a running one through its runner, and resumes it into the queue', async () => {
    const { call } = await server();
    await call('PUT', `/api/datasets/${FP}`, DATA, 'application/octet-stream');
    const job = String((await call('POST', '/api/jobs', { config: CONFIG, dataset: { fingerprint: FP } })).json!.job_id);
    expect(await call('POST', `/api/jobs/${job}/pause`)).toMatchObject({ status: 200, json: { state: 'paused' } });
    expect((await call('POST', '/api/runners/claim', { device_id: 'dev-a' })).status).toBe(204);
    expect(await call('POST', `/api/jobs/${job}/pause`)).toMatchObject({ status: 409, json: { error: 'wrong_state' } });
    expect(await call('POST', `/api/jobs/${job}/resume`)).toMatchObject({ status: 200, json: { state: 'queued' } });
    expect((await call('POST', '/api/runners/claim', { device_id: 'dev-a' })).status).toBe(200);
    expect(await call('POST', `/api/jobs/${job}/pause`)).toMatchObject({ status: 202, json: { outcome: 'requested' } });
    expect(await call('POST', `/api/runners/jobs/${job}/renew`, { device_id: 'dev-a', generation: 1 })).toMatchObject({ json: { pause_requested: true } });
    expect((await call('POST', '/api/jobs/nope/resume')).status).toBe(404);
  });
});
