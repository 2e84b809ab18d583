// The sync API in process (app.inject(), no port): auth, the push contract (replays, gaps,
// out-of-order, version conflicts), jobs list/get/delete, inline progress, cancel, results, and
// the safety rules (400 names the field, 413, 415, 429, CORS, no stack, no token in logs).
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, auth, change, testLathe } from './helpers';

let lathe: Awaited<ReturnType<typeof testLathe>>;
beforeEach(async () => {
  lathe = await testLathe();
});
afterEach(async () => lathe.dispose());

const push = (body: unknown, token = ALICE) => lathe.app.inject({ method: 'POST', url: '/api/push', headers: auth(token), payload: body as object });
const get = (url: string, token = ALICE) => lathe.app.inject({ url, headers: auth(token) });

describe('auth', () => {
  it('health and the OpenAPI document need no token; every other route does', async () => {
    expect((await lathe.app.inject({ url: '/api/health' })).statusCode).toBe(200);
    const doc = await lathe.app.inject({ url: '/api/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json<{ paths: object }>().paths)).toEqual(
      expect.arrayContaining(['/api/push', '/api/jobs', '/api/jobs/{id}', '/api/jobs/{id}/cancel', '/api/jobs/{id}/result', '/api/events']),
    );
    const routes: [string, string][] = [
      ['POST', '/api/push'],
      ['GET', '/api/jobs'],
      ['GET', '/api/jobs/j1'],
      ['DELETE', '/api/jobs/j1'],
      ['GET', '/api/jobs/j1/inline-progress'],
      ['POST', '/api/jobs/j1/cancel'],
      ['PUT', '/api/jobs/j1/result'],
      ['GET', '/api/jobs/j1/result'],
      ['GET', '/api/events'],
    ];
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0000000000' }, { authorization: `Basic ${ALICE}` }, { authorization: 'Bearer' }]) {
        const r = await lathe.app.inject({ method: method as 'GET', url, headers });
        expect(r.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Bearer');
      }
    }
  });

  it('a token sees only its own user’s jobs', async () => {
    await push({ deviceId: 'd1', changes: [change(1, 'j1', 'running')] });
    expect((await get('/api/jobs/j1', BOB)).statusCode).toBe(404);
    expect((await get('/api/jobs', BOB)).json()).toEqual({ jobs: [], next_cursor: null });
  });
});

describe('push', () => {
  it('applies changes and answers with the last applied seq; an empty push just reports it', async () => {
    const r = await push({ deviceId: 'd1', changes: [change(1, 'j1', 'queued'), change(2, 'j1', 'running')] });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ last_applied_seq: 2, applied: [1, 2], duplicates: [], conflicts: [] });
    expect((await push({ deviceId: 'd1', changes: [] })).json()).toMatchObject({ last_applied_seq: 2 });
    expect((await push({ deviceId: 'new-device', changes: [] })).json()).toMatchObject({ last_applied_seq: 0 });
  });

  it('acknowledges a duplicate push again without changing anything', async () => {
    const body = { deviceId: 'd1', changes: [change(1, 'j1', 'queued'), change(2, 'j1', 'running')] };
    await push(body);
    const again = await push(body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ last_applied_seq: 2, applied: [], duplicates: [1, 2], conflicts: [] });
    expect((await get('/api/jobs/j1')).json()).toMatchObject({ state: 'running', version: 2 });
  });

  it('refuses a gap or out-of-order changes with 409 naming the expected seq, applying nothing', async () => {
    await push({ deviceId: 'd1', changes: [change(1, 'j1', 'queued')] });
    const gap = await push({ deviceId: 'd1', changes: [change(3, 'j1', 'running')] });
    expect(gap.statusCode).toBe(409);
    expect(gap.json()).toMatchObject({ error: 'seq_gap', expected_seq: 2, last_applied_seq: 1 });
    const swapped = await push({ deviceId: 'd1', changes: [change(3, 'j1', 'completed'), change(2, 'j1', 'running')] });
    expect(swapped.statusCode).toBe(409);
    expect(swapped.json()).toMatchObject({ expected_seq: 2 });
    expect((await get('/api/jobs/j1')).json()).toMatchObject({ state: 'queued' });
    const inOrder = await push({ deviceId: 'd1', changes: [change(2, 'j1', 'running'), change(3, 'j1', 'completed')] });
    expect(inOrder.json()).toMatchObject({ last_applied_seq: 3, applied: [2, 3] });
  });

  it('keeps an older version out and says so, while the seq still advances', async () => {
    await push({ deviceId: 'phone', changes: [change(1, 'j1', 'running', 7)] });
    const r = await push({ deviceId: 'laptop', changes: [change(1, 'j1', 'queued', 3)] });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      last_applied_seq: 1,
      applied: [],
      duplicates: [],
      conflicts: [{ seq: 1, job_id: 'j1', version: 3, stored_version: 7, reason: 'stale_version' }],
    });
    expect((await get('/api/jobs/j1')).json()).toMatchObject({ state: 'running', version: 7, device_id: 'phone' });
  });

  it('answers 400 naming the bad field', async () => {
    const cases: [unknown, string][] = [
      [{ changes: [] }, 'deviceId'],
      [{ deviceId: 'd1', changes: [{ seq: 'one', jobId: 'j1', version: 1, snapshot: { state: 'queued' } }] }, 'changes.0.seq'],
      [{ deviceId: 'd1', changes: [{ seq: 1, jobId: 'j1', version: 1, snapshot: { state: 'sleeping' } }] }, 'changes.0.snapshot.state'],
      [{ deviceId: 'd1', changes: [{ seq: 1, jobId: 'j 1', version: 1, snapshot: { state: 'queued' } }] }, 'changes.0.jobId'],
      [{ deviceId: 'd1', changes: [{ seq: 1, jobId: 'j1', version: -1, snapshot: { state: 'queued' } }] }, 'changes.0.version'],
      [{ deviceId: 'd1', changes: [{ seq: 1, jobId: 'j1', version: 1, snapshot: { id: 'j2', state: 'queued' } }] }, 'changes.0.snapshot.id'],
      [{ deviceId: 'd1', changes: [change(1, 'j1', 'queued', 1, { log: [{ at: 'x', kind: 'k', text: 't' }] as never })] }, 'changes.0.snapshot.log.0.at'],
    ];
    for (const [body, field] of cases) {
      const r = await push(body);
      expect(r.statusCode, field).toBe(400);
      expect(r.json(), field).toMatchObject({ error: 'bad_request', field });
      expect(r.json<{ message: string }>().message.startsWith(`${field}:`)).toBe(true);
    }
    const badJson = await lathe.app.inject({ method: 'POST', url: '/api/push', headers: { ...auth(), 'content-type': 'application/json' }, payload: '{"deviceId":' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ field: 'body' });
  });

  it('answers 413 over the 1 MiB body limit, 400 for a text body and 415 for other media types', async () => {
    const big = { deviceId: 'd1', changes: [change(1, 'j1', 'queued', 1, { name: 'x', blob: 'y'.repeat(1024 * 1024) })] };
    const r = await push(big);
    expect(r.statusCode).toBe(413);
    const text = await lathe.app.inject({ method: 'POST', url: '/api/push', headers: { ...auth(), 'content-type': 'text/plain' }, payload: 'hi' });
    expect(text.statusCode).toBe(400);
    expect(text.json()).toMatchObject({ field: 'body' });
    const xml = await lathe.app.inject({ method: 'POST', url: '/api/push', headers: { ...auth(), 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
  });
});

describe('jobs', () => {
  beforeEach(async () => {
    await push({
      deviceId: 'd1',
      changes: [change(1, 'a', 'completed'), change(2, 'b', 'running'), change(3, 'c', 'queued'), change(4, 'd', 'running')],
    });
    await push({ deviceId: 'd2', changes: [change(1, 'e', 'running')] });
  });

  it('lists with state and device filters, and pages with a cursor', async () => {
    const running = (await get('/api/jobs?state=running')).json<{ jobs: { id: string }[] }>();
    expect(running.jobs.map((j) => j.id).sort()).toEqual(['b', 'd', 'e']);
    const d2 = (await get('/api/jobs?device=d2')).json<{ jobs: { id: string }[] }>();
    expect(d2.jobs.map((j) => j.id)).toEqual(['e']);
    const seen: string[] = [];
    let url = '/api/jobs?limit=2';
    for (;;) {
      const page = (await get(url)).json<{ jobs: { id: string }[]; next_cursor: string | null }>();
      seen.push(...page.jobs.map((j) => j.id));
      if (!page.next_cursor) break;
      url = `/api/jobs?limit=2&cursor=${page.next_cursor}`;
    }
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect((await get(`/api/jobs?updated_since=${Date.now() + 60_000}`)).json()).toEqual({ jobs: [], next_cursor: null });
  });

  it('answers 400 for bad filters, naming them', async () => {
    for (const [query, field] of [
      ['state=sleeping', 'state'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['updated_since=-5', 'updated_since'],
      ['cursor=%%%', 'cursor'],
      ['cursor=bm90LWpzb24', 'cursor'],
    ]) {
      const r = await get(`/api/jobs?${query}`);
      expect(r.statusCode, query).toBe(400);
      expect(r.json(), query).toMatchObject({ field });
    }
  });

  it('gets one job with its snapshot, 404 when unknown, and deletes with 204', async () => {
    const job = await get('/api/jobs/b');
    expect(job.statusCode).toBe(200);
    expect(job.json()).toMatchObject({ id: 'b', state: 'running', device_id: 'd1', snapshot: { state: 'running', name: 'xor run' } });
    expect((await get('/api/jobs/zzz')).statusCode).toBe(404);
    const del = await lathe.app.inject({ method: 'DELETE', url: '/api/jobs/b', headers: auth() });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await get('/api/jobs/b')).statusCode).toBe(404);
    expect((await lathe.app.inject({ method: 'DELETE', url: '/api/jobs/b', headers: auth() })).statusCode).toBe(404);
  });

  it('gives SimpleTuner’s inline progress with the newest log line cut to 80 characters', async () => {
    const long = `checkpoint written at step 1200 (${'9'.repeat(100)} bytes)`;
    await push({
      deviceId: 'd1',
      changes: [change(5, 'b', 'running', 5, {
        progress: { stage: 'training', percent: 42.5 },
        log: [{ at: 10, kind: 'started', text: 'worker started' }, { at: 20, kind: 'checkpoint', text: long }],
      })],
    });
    const r = await get('/api/jobs/b/inline-progress');
    expect(r.statusCode).toBe(200);
    const body = r.json<{ job_id: string; stage: string; last_log: string; progress: number }>();
    expect(body).toMatchObject({ job_id: 'b', stage: 'training', progress: 42.5 });
    expect(Array.from(body.last_log)).toHaveLength(80);
    expect(body.last_log.startsWith('checkpoint written at step 1200')).toBe(true);
    expect((await get('/api/jobs/zzz/inline-progress')).statusCode).toBe(404);
  });

  it('cancels a queued job at once (200), asks the device for a running one (202), 409 when finished, 404 when unknown', async () => {
    const post = (id: string) => lathe.app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel`, headers: auth() });
    const queued = await post('c');
    expect(queued.statusCode).toBe(200);
    expect(queued.json()).toMatchObject({ job_id: 'c', outcome: 'cancelled', state: 'cancelled', device_id: 'd1', version: 4 });
    expect((await get('/api/jobs/c')).json()).toMatchObject({ state: 'cancelled', snapshot: { state: 'cancelled' } });
    const running = await post('b');
    expect(running.statusCode).toBe(202);
    expect(running.json()).toMatchObject({ outcome: 'requested', device_id: 'd1' });
    expect((await get('/api/jobs/b')).json()).toMatchObject({ state: 'running', cancel_requested_at: expect.any(Number) as number });
    expect((await post('a')).statusCode).toBe(409);
    expect((await post('zzz')).statusCode).toBe(404);
  });
});

describe('results', () => {
  const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(5000, 7)]);
  const put = (id: string, body: Buffer, type = 'application/zip') =>
    lathe.app.inject({ method: 'PUT', url: `/api/jobs/${id}/result`, headers: { ...auth(), 'content-type': type }, payload: body });

  beforeEach(async () => {
    await push({ deviceId: 'd1', changes: [change(1, 'j1', 'completed')] });
  });

  it('stores an upload with its SHA-256 and gives the same bytes back', async () => {
    const up = await put('j1', zip);
    expect(up.statusCode).toBe(201);
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(zip).digest('hex');
    expect(up.json()).toEqual({ job_id: 'j1', sha256, bytes: zip.length });
    const down = await get('/api/jobs/j1/result');
    expect(down.statusCode).toBe(200);
    expect(down.headers['content-type']).toBe('application/zip');
    expect(down.headers['x-content-sha256']).toBe(sha256);
    expect(down.rawPayload.equals(zip)).toBe(true);
    expect((await get('/api/jobs/j1')).json()).toMatchObject({ result: { sha256, bytes: zip.length } });
  });

  it('answers 404 for an unknown job or a missing result, 400 for a file that is not a zip, 415 for JSON', async () => {
    expect((await put('nope', zip)).statusCode).toBe(404);
    expect((await get('/api/jobs/j1/result')).statusCode).toBe(404);
    const notZip = await put('j1', Buffer.from('hello'));
    expect(notZip.statusCode).toBe(400);
    expect(notZip.json()).toMatchObject({ field: 'body' });
    expect((await put('j1', Buffer.from('{}'), 'application/json')).statusCode).toBe(415);
    expect((await put('j1', Buffer.from('PK'), 'text/plain')).statusCode).toBe(415);
  });

  it('answers 413 over 64 MiB and keeps nothing of it', async () => {
    const huge = Buffer.alloc(64 * 1024 * 1024 + 1);
    huge.write('PK\x03\x04', 'latin1');
    const r = await put('j1', huge);
    expect(r.statusCode).toBe(413);
    expect((await get('/api/jobs/j1/result')).statusCode).toBe(404);
  });
});

describe('safety', () => {
  it('answers 429 past the rate limit', async () => {
    const limited = await testLathe({ rateLimitPerMinute: 5 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) codes.push((await limited.app.inject({ url: '/api/jobs', headers: auth() })).statusCode);
      expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(codes.slice(5)).toEqual([429, 429, 429]);
      const r = await limited.app.inject({ url: '/api/jobs', headers: auth() });
      expect(r.headers['retry-after']).toBeDefined();
      expect(r.json()).toMatchObject({ message: expect.any(String) as string });
    } finally {
      await limited.dispose();
    }
  });

  it('allows only the configured origins (CORS)', async () => {
    const withCors = await testLathe({ corsOrigins: ['https://phone.example'] });
    try {
      const pre = (origin: string) =>
        withCors.app.inject({
          method: 'OPTIONS',
          url: '/api/push',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
        });
      const ok = await pre('https://phone.example');
      expect(ok.headers['access-control-allow-origin']).toBe('https://phone.example');
      expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
      const bad = await pre('https://evil.example');
      expect(bad.headers['access-control-allow-origin']).toBeUndefined();
      const simple = await withCors.app.inject({ url: '/api/health', headers: { origin: 'https://evil.example' } });
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await withCors.dispose();
    }
  });

  it('never puts a stack trace in a response, and never the token in a log line', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logged = await testLathe({
      logger: {
        level: 'trace',
        stream: sink,
        redact: ['req.headers.authorization'],
        serializers: { req: (req: { headers: unknown; url: string }) => ({ url: req.url, headers: req.headers }) },
      },
    });
    try {
      // Make the store fail underneath a valid request: the client must see a bare 500.
      await logged.store.close();
      const r = await logged.app.inject({ url: '/api/jobs', headers: auth() });
      expect(r.statusCode).toBe(500);
      expect(r.json()).toEqual({ error: 'internal', message: 'Internal server error' });
      expect(r.body).not.toMatch(/at .*\.ts|stack/i);
      expect(lines.join('').length).toBeGreaterThan(0);
      expect(lines.join('')).not.toContain(ALICE);
      expect(lines.join('')).toContain('[Redacted]');
    } finally {
      await logged.dispose();
    }
  });
});
