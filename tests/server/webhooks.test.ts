// Webhooks on terminal states: signed the Standard Webhooks way (checked with the independent
// `standardwebhooks` package), retried with backoff from the delivery table, and still delivered
// after the server is closed and reopened on the same database file.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWebhookSecret } from '../../server/config';
import { createLathe, type Lathe } from '../../server/server';
import { signature } from '../../server/webhooks/sign';
import { ALICE, auth, change, sleep, tempDir } from './helpers';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that answers each request with the next status in `statuses`. */
async function receiver(statuses: number[]) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, received, statuses, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(check: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe('webhooks', () => {
  it('posts each terminal state once, signed so that the standardwebhooks library verifies it', async () => {
    const hook = await receiver([]);
    cleanups.push(hook.close);
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const lathe = await createLathe({
      dbPath: join(dir.path, 'l.db'),
      resultsDir: null,
      tokens: [{ user: 'alice', token: ALICE }],
      webhookUrls: [hook.url],
      webhookSecret: parseWebhookSecret(SECRET),
      webhookPollMs: 50,
    });
    cleanups.push(() => lathe.close());
    const push = (changes: unknown[]) =>
      lathe.app.inject({ method: 'POST', url: '/api/push', headers: auth(), payload: { deviceId: 'd1', changes } });
    await push([change(1, 'j1', 'queued'), change(2, 'j1', 'running'), change(3, 'j1', 'completed')]);
    await push([change(4, 'j2', 'queued')]);
    await lathe.app.inject({ method: 'POST', url: '/api/jobs/j2/cancel', headers: auth() });
    await until(() => hook.received.length >= 2);
    await sleep(200);
    expect(hook.received).toHaveLength(2);

    const wh = new Webhook(SECRET);
    const payloads = hook.received.map((r) => wh.verify(r.body, r.headers as Record<string, string>) as { type: string; data: Record<string, unknown> });
    expect(payloads.map((p) => p.type).sort()).toEqual(['job.cancelled', 'job.completed']);
    expect(payloads.find((p) => p.type === 'job.completed')?.data).toMatchObject({ job_id: 'j1', state: 'completed', previous_state: 'running', user: 'alice', device_id: 'd1' });
    expect(payloads.find((p) => p.type === 'job.cancelled')?.data).toMatchObject({ job_id: 'j2', previous_state: 'queued' });
    const first = hook.received[0]!;
    expect(first.headers['webhook-id']).toMatch(/^msg_/);
    // A tampered body fails verification: the signature covers it.
    expect(() => wh.verify(first.body.replace('"j', '"x'), first.headers as Record<string, string>)).toThrow();
  });

  it('computes the signature as base64 HMAC-SHA256 of "id.timestamp.body" (a known vector)', () => {
    // Vector from the Standard Webhooks specification's reference libraries.
    const secret = parseWebhookSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')!;
    const body = '{"test": 2432232314}';
    expect(signature(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('retries a failed delivery with backoff, and a restart on the same database loses nothing', async () => {
    const hook = await receiver([500, 503]);
    cleanups.push(hook.close);
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const open = (): Promise<Lathe> =>
      createLathe({
        dbPath: join(dir.path, 'l.db'),
        resultsDir: null,
        tokens: [{ user: 'alice', token: ALICE }],
        webhookUrls: [hook.url],
        webhookSecret: parseWebhookSecret(SECRET),
        webhookPollMs: 50,
        webhookBackoffMs: [100, 600, 100],
      });
    let lathe = await open();
    await lathe.app.inject({ method: 'POST', url: '/api/push', headers: auth(), payload: { deviceId: 'd1', changes: [change(1, 'j1', 'failed')] } });
    // Attempt 1 → 500, attempt 2 (after 100 ms) → 503, then a 600 ms wait: close the server in it.
    await until(() => hook.received.length >= 2);
    await lathe.close();
    await sleep(700);
    expect(hook.received).toHaveLength(2);
    lathe = await open();
    cleanups.push(() => lathe.close());
    await until(() => hook.received.length >= 3);
    await sleep(300);
    expect(hook.received).toHaveLength(3);
    const ids = new Set(hook.received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1); // one message, so the receiver can deduplicate
    const wh = new Webhook(SECRET);
    for (const r of hook.received) expect(() => wh.verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    expect(await lathe.store.claimDeliveries(Date.now() + 3_600_000, 10, 1000)).toEqual([]);
  });

  it('delivers after a restart what was written but never attempted', async () => {
    const hook = await receiver([]);
    cleanups.push(hook.close);
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const options = {
      dbPath: join(dir.path, 'l.db'),
      resultsDir: null,
      tokens: [{ user: 'alice', token: ALICE }],
      webhookUrls: [hook.url],
      webhookSecret: parseWebhookSecret(SECRET),
    };
    // Written through a store without a dispatcher running (as if the process died right after).
    const { SqliteJobStore } = await import('../../server/store/sqlite-store');
    const store = new SqliteJobStore(options.dbPath, { webhookUrls: [hook.url], progressIntervalMs: 1000 });
    await store.push('alice', 'd1', [change(1, 'j1', 'completed')], Date.now());
    await store.close();
    const lathe = await createLathe({ ...options, webhookPollMs: 50 });
    cleanups.push(() => lathe.close());
    await until(() => hook.received.length >= 1);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ type: 'job.completed', data: { job_id: 'j1' } });
  });
});
