// Browsers as runners, across two server instances on one PostgreSQL: a script submits a job over
// plain HTTP (its dataset uploaded by fingerprint) with a breakpoint mid-run; runner A (device A,
// on instance 1) trains to the breakpoint, uploads that checkpoint and is killed while its
// "finish paused" is held in flight, so the server never hears it; after A's lease runs out,
// runner B (device B, on instance 2) resumes from that checkpoint and completes. On the cpu
// backend the result's weights are byte-identical to the same submission trained uninterrupted,
// the server's record says who trained which steps, and B's page saw every state change of the
// job, whichever instance wrote it. The kill waits for A's finish request, never for a time, so a
// fast machine cannot finish the job first.
import { createHash } from 'node:crypto';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { findPgUrl, PG_HOW_TO, startInstances, type Instances } from './fixtures/pg-instances';
import { SYNC_TOKEN, syncServer } from './fixtures/sync-server';

// Three ports from here. Not sync + 10: 4190 is on the Fetch standard's list of "bad ports", which
// Node's fetch and Chromium refuse to connect to ("bad port", ERR_UNSAFE_PORT).
const BASE_PORT = Number(process.env.LATHE_RUNNER_E2E_PORT ?? Number(process.env.LATHE_SYNC_E2E_PORT ?? 4180) + 20);
/** The runners' lease, in ms: short, so B takes over soon; a renewal every 1.3 s keeps it on a busy machine. */
const LEASE_MS = 4_000;
/** A training run to the end on a loaded 2-core machine, in ms. */
const RUN_TIMEOUT_MS = 180_000;

/** 80 rows, two numeric inputs and a class that is their XOR: a small table that trains in seconds on cpu. */
const CSV = Buffer.from(
  ['x,y,label', ...Array.from({ length: 80 }, (_, i) => {
    const x = ((i * 37) % 80) / 40 - 1;
    const y = ((i * 53) % 80) / 40 - 1;
    return `${x.toFixed(3)},${y.toFixed(3)},${(x > 0) !== (y > 0) ? 'odd' : 'even'}`;
  })].join('\n') + '\n',
);
const FP = createHash('sha256').update(CSV).digest('hex');
const CONFIG = { model: { kind: 'mlp', hidden: [{ units: 8, activation: 'tanh' }] }, optimizer: 'adam', learningRate: 0.05, batchSize: 8, epochs: 12, validationSplit: 0.2, seed: 11 };
/** Mid-epoch (8 steps an epoch), so the hand-over resumes inside an epoch. */
const BREAK_AT = 44;

let pgUrl: string | null = null;
let servers: Instances | null = null;

test.beforeAll(async () => {
  pgUrl = await findPgUrl();
  if (pgUrl) servers = await startInstances(pgUrl, [BASE_PORT, BASE_PORT + 1], SYNC_TOKEN);
});
test.afterAll(async () => {
  await servers?.stop();
});

async function http(origin: string, method: string, path: string, body?: Buffer | object): Promise<{ status: number; json: Record<string, unknown> | null; bytes: Buffer }> {
  const raw = Buffer.isBuffer(body);
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { Authorization: `Bearer ${SYNC_TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': raw ? 'application/octet-stream' : 'application/json' }) },
    body: body === undefined ? undefined : raw ? new Uint8Array(body) : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(bytes.toString()) as Record<string, unknown>) : null;
  return { status: res.status, json, bytes };
}

/** A device: its own browser context, the app from `origin` on cpu with a short runner lease, sync on. */
async function device(browser: Browser, origin: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/?backend=cpu&runnerLeaseMs=${LEASE_MS}`);
  await expect(page.getByTestId('dataset-select')).toBeVisible();
  await page.getByTestId('sync-token').fill(SYNC_TOKEN);
  await page.getByTestId('sync-enable').click();
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-status', 'connected', { timeout: 15_000 });
  return { context, page };
}

async function becomeRunner(page: Page): Promise<void> {
  await page.getByTestId('setting-train-server-jobs').check();
  await expect(page.getByTestId('runner-status')).not.toHaveAttribute('data-status', 'off', { timeout: 15_000 });
}

async function serverState(origin: string, jobId: string, state: string): Promise<void> {
  await expect.poll(async () => (await http(origin, 'GET', `/api/jobs/${jobId}`)).json?.state, { timeout: RUN_TIMEOUT_MS }).toBe(state);
}

/** The weight files of a result zip (model.json's shards), concatenated in name order. */
function weightBytes(zip: Buffer): Buffer {
  const files = unzipSync(new Uint8Array(zip));
  const bins = Object.keys(files).filter((n) => n.endsWith('.bin')).sort();
  expect(bins.length).toBeGreaterThan(0);
  return Buffer.concat(bins.map((n) => Buffer.from(files[n]!)));
}

test('a job handed over between browser runners on two instances ends byte-identical to an uninterrupted run', async ({ browser }) => {
  test.skip(pgUrl === null, PG_HOW_TO);
  test.setTimeout(600_000);
  const [one, two] = servers!.origins;
  const a = await device(browser, one);
  const b = await device(browser, two);

  expect((await http(one, 'PUT', `/api/datasets/${FP}`, CSV)).status).toBe(201);
  const submitted = await http(one, 'POST', '/api/jobs', { name: 'hand-over', config: CONFIG, dataset: { fingerprint: FP }, breakpoint: { kind: 'step', at: BREAK_AT } });
  expect(submitted.status).toBe(202);
  const job = String(submitted.json!.job_id);

  // A's "finish paused" is held and never answered: the server never hears it.
  let finishHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (finishHeld = resolve));
  await a.context.route('**/api/runners/jobs/*/finish', () => finishHeld());
  await becomeRunner(a.page);
  await expect(a.page.locator(`[data-testid=job-row][data-job-id="${job}"][data-server-job=true]`)).toBeVisible({ timeout: 60_000 });
  await expect(a.page.getByTestId('runner-status')).toHaveAttribute('data-job-id', job);
  await held;
  // The runner sends its finish only after the checkpoint of that step was uploaded.
  expect((await http(one, 'GET', `/api/jobs/${job}`)).json).toMatchObject({ state: 'running', queue: { checkpoint: { step: BREAK_AT } } });
  await a.context.close();

  await becomeRunner(b.page);
  await expect(b.page.locator(`[data-testid=job-row][data-job-id="${job}"]`)).toHaveAttribute('data-state', 'completed', { timeout: RUN_TIMEOUT_MS });
  await serverState(two, job, 'completed');

  // The same submission without the breakpoint, trained in one go by B: the reference.
  const reference = String((await http(two, 'POST', '/api/jobs', { name: 'reference', config: CONFIG, dataset: { fingerprint: FP } })).json!.job_id);
  await serverState(two, reference, 'completed');

  const handedOver = await http(two, 'GET', `/api/jobs/${job}/result`);
  const uninterrupted = await http(two, 'GET', `/api/jobs/${reference}/result`);
  expect(handedOver.status).toBe(200);
  expect(uninterrupted.status).toBe(200);
  expect(Buffer.compare(weightBytes(handedOver.bytes), weightBytes(uninterrupted.bytes))).toBe(0);

  const record = (await http(one, 'GET', `/api/jobs/${job}`)).json as { queue: { runs: { device_id: string; from_step: number; to_step: number; end_reason: string }[] } };
  const runs = record.queue.runs;
  expect(runs).toHaveLength(2);
  expect(runs[0]).toMatchObject({ from_step: 0, to_step: BREAK_AT, end_reason: 'lease_expired' });
  expect(runs[1]).toMatchObject({ from_step: BREAK_AT, end_reason: 'completed' });
  expect(runs[1]!.to_step).toBeGreaterThan(BREAK_AT);
  expect(runs[1]!.device_id).not.toBe(runs[0]!.device_id);

  // Every state change of the job, as B's page listed them from its stream on instance 2.
  const seen = await b.page.locator(`[data-testid=runner-activity-item][data-job-id="${job}"]`).evaluateAll((items) =>
    items
      .map((i) => ({ id: Number(i.getAttribute('data-event-id')), state: i.getAttribute('data-state'), device: i.getAttribute('data-device-id') }))
      .sort((x, y) => x.id - y.id),
  );
  expect(seen.map((e) => e.state)).toEqual(['queued', 'running', 'queued', 'running', 'completed']);
  expect(seen.map((e) => e.device)).toEqual(['server', runs[0]!.device_id, runs[0]!.device_id, runs[1]!.device_id, runs[1]!.device_id]);
});

test('remote pause, resume and cancel from plain HTTP reach a browser runner', async ({ browser }) => {
  test.setTimeout(300_000);
  // One instance on SQLite is enough here; it is stopped at the end.
  const server = syncServer(BASE_PORT + 2);
  await server.start();
  try {
    const { page } = await device(browser, server.origin);
    await becomeRunner(page);
    expect((await http(server.origin, 'PUT', `/api/datasets/${FP}`, CSV)).status).toBe(201);
    // 64 single-row steps an epoch for 100,000 epochs: it cannot end while the test watches.
    const endless = { ...CONFIG, batchSize: 1, epochs: 100_000 };
    const job = String((await http(server.origin, 'POST', '/api/jobs', { name: 'endless', config: endless, dataset: { fingerprint: FP } })).json!.job_id);
    const row = page.locator(`[data-testid=job-row][data-job-id="${job}"]`);
    await expect(row).toHaveAttribute('data-state', 'running', { timeout: 60_000 });

    expect(await http(server.origin, 'POST', `/api/jobs/${job}/pause`)).toMatchObject({ status: 202, json: { outcome: 'requested' } });
    await expect(row).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
    await serverState(server.origin, job, 'paused');
    const paused = (await http(server.origin, 'GET', `/api/jobs/${job}`)).json as { queue: { checkpoint: { step: number }; runs: { to_step: number; end_reason: string }[] } };
    expect(paused.queue.runs).toMatchObject([{ end_reason: 'paused' }]);
    expect(paused.queue.checkpoint.step).toBe(paused.queue.runs[0]!.to_step);

    // Resume on the server: the runner claims it again and continues from that checkpoint.
    expect((await http(server.origin, 'POST', `/api/jobs/${job}/resume`)).status).toBe(200);
    await expect(row).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
    await serverState(server.origin, job, 'running');
    const resumed = (await http(server.origin, 'GET', `/api/jobs/${job}`)).json as { queue: { runs: { from_step: number }[] } };
    expect(resumed.queue.runs[1]!.from_step).toBe(paused.queue.checkpoint.step);

    expect(await http(server.origin, 'POST', `/api/jobs/${job}/cancel`)).toMatchObject({ status: 202, json: { outcome: 'requested' } });
    await expect(row).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
    await serverState(server.origin, job, 'cancelled');
    await expect(page.getByTestId('runner-status')).toHaveAttribute('data-status', 'idle', { timeout: 15_000 });
  } finally {
    await server.stop();
  }
});
