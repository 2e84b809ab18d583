// @ts-check
// The sync server's figures (issue 11), as plain JSON: push requests per second and p99 latency
// (autocannon on loopback), and how many concurrent SSE clients one server holds with a p99
// event delay under 1 s. The server runs in a child process (server-child.mjs) with a temporary
// database. `runServerBench` is what bench/run.mjs may call; `npm run bench:server` runs it alone
// and writes bench/results/server-<date>.json. Imports autocannon and node built-ins only.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';

const HERE = dirname(fileURLToPath(import.meta.url));
const TOKEN = 'bench-token-0123456789abcdef';
const AUTH = `Bearer ${TOKEN}`;
/** The SSE figure is the largest client count whose p99 event delay stays under this. */
export const SSE_DELAY_TARGET_MS = 1000;

/** @param {Record<string, unknown>} options */
function startChild(options) {
  const child = fork(join(HERE, 'server-child.mjs'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
    child.once('message', (/** @type {any} */ m) => {
      child.removeAllListeners('exit');
      resolve({
        url: /** @type {string} */ (m.url),
        close: () =>
          new Promise((r) => {
            child.once('exit', () => r(undefined));
            child.disconnect();
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      });
    });
  });
}

/**
 * A job snapshot of the size the app pushes while training (progress and a short log).
 * @param {number} seq
 */
function snapshot(seq) {
  return {
    state: 'running',
    name: 'iris mlp',
    progress: { stage: 'training', epoch: 3, epochs: 50, step: seq, stepsPerEpoch: 12, percent: (seq % 100) + 0.5, loss: 0.3, metrics: { acc: 0.9 }, samplesPerSec: 7000, etaMs: 12000, backend: 'wasm' },
    log: [{ at: 1, kind: 'started', text: 'worker started on wasm' }, { at: 2, kind: 'checkpoint', text: `checkpoint at step ${seq}` }],
  };
}

/** @param {string} url @param {{ seconds: number, connections: number }} o */
async function pushLoad(url, o) {
  let device = 0;
  const result = await autocannon({
    url: `${url}/api/push`,
    connections: o.connections,
    duration: o.seconds,
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    requests: [
      {
        // One device per connection, each with its own gap-free seq: every request applies one change.
        setupRequest: (/** @type {any} */ req, /** @type {any} */ context) => {
          context.device ??= `bench-device-${device++}`;
          context.seq = (context.seq ?? 0) + 1;
          const seq = context.seq;
          req.body = JSON.stringify({ deviceId: context.device, changes: [{ seq, jobId: `${context.device}-job`, version: seq, snapshot: snapshot(seq) }] });
          return req;
        },
      },
    ],
  });
  return {
    connections: o.connections,
    durationS: o.seconds,
    requestsPerSec: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/**
 * One SSE client over a raw connection (each its own TCP socket, as each device would hold one).
 * Records, per event, receive time minus the event's server timestamp (`at`).
 * @param {string} url @param {number[]} delays
 */
function sseClient(url, delays) {
  return /** @type {Promise<{ close: () => void }>} */ (new Promise((resolve, reject) => {
    const req = request(`${url}/api/events`, { headers: { authorization: AUTH, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`SSE status ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk) => {
        const now = Date.now();
        buffer += chunk;
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const m = /"at":(\d+)/.exec(frame);
          if (m && frame.includes('event: job_status_changed')) delays.push(now - Number(m[1]));
        }
      });
      resolve({ close: () => void req.destroy() });
    });
    req.on('error', reject);
    req.end();
  }));
}

/** @param {number[]} sorted @param {number} q */
const p = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;

/** @param {string} url @param {number} clients @param {number} events */
async function sseStep(url, clients, events) {
  /** @type {number[]} */
  const delays = [];
  /** @type {{ close: () => void }[]} */
  const open = [];
  const connectStart = Date.now();
  try {
    for (let i = 0; i < clients; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, clients - i) }, () => sseClient(url, delays)));
      open.push(...batch);
    }
    const connectMs = Date.now() - connectStart;
    // Status changes at 5 a second: each is one event to every client.
    for (let e = 0; e < events; e++) {
      const seq = e + 1;
      const state = e % 2 === 0 ? 'paused' : 'running';
      await fetch(`${url}/api/push`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: `sse-${clients}`, changes: [{ seq, jobId: `sse-job-${clients}`, version: seq, snapshot: { ...snapshot(seq), state } }] }),
      });
      await new Promise((r) => setTimeout(r, 200));
    }
    const expected = clients * events;
    const deadline = Date.now() + 10_000;
    while (delays.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const sorted = [...delays].sort((a, b) => a - b);
    return { clients, connectMs, events, received: delays.length, expected, p50Ms: p(sorted, 0.5), p99Ms: p(sorted, 0.99), maxMs: sorted.at(-1) ?? null };
  } finally {
    for (const c of open) c.close();
  }
}

/**
 * @param {{ quick?: boolean, log?: (line: string) => void }} [opts]
 */
export async function runServerBench({ quick = false, log = console.log } = {}) {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const loadAtStart = loadavg()[0];
  const server = await startChild({
    tokens: [{ user: 'bench', token: TOKEN }],
    rateLimitPerMinute: 1e9,
    streamCaps: { perUser: 100_000, total: 100_000 },
  });
  try {
    log(`server bench: server at ${server.url}; ${quick ? 'quick' : 'full'} run`);
    const push = await pushLoad(server.url, { seconds: quick ? 3 : 15, connections: 10 });
    log(`push: ${push.requestsPerSec} req/s, p99 ${push.latencyMs.p99} ms (${push.non2xx} non-2xx, ${push.errors} errors)`);

    const steps = quick ? [50, 200] : [100, 500, 1000, 2000, 4000, 8000];
    const sseSteps = [];
    let held = 0;
    for (const clients of steps) {
      let step;
      try {
        step = await sseStep(server.url, clients, quick ? 5 : 10);
      } catch (err) {
        sseSteps.push({ clients, error: String(err) });
        log(`sse ${clients} clients: ${String(err)}`);
        break;
      }
      sseSteps.push(step);
      log(`sse ${clients} clients: p99 ${step.p99Ms} ms, ${step.received}/${step.expected} events, connected in ${step.connectMs} ms`);
      const ok = step.received === step.expected && step.p99Ms !== null && step.p99Ms < SSE_DELAY_TARGET_MS;
      if (!ok) break;
      held = clients;
    }
    return {
      schema: 'lathe-server-bench/1',
      mode: quick ? 'quick' : 'full',
      startedAt,
      durationMs: Date.now() - t0,
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model ?? null,
        node: process.version,
        // Other work on the machine (and this bench's own clients) shares the cores.
        loadAverage1m: { atStart: loadAtStart, atEnd: loadavg()[0] },
      },
      push,
      sse: {
        /** The largest client count tried whose p99 event delay was under the target (a lower bound). */
        clientsHeldUnderTarget: held,
        targetP99Ms: SSE_DELAY_TARGET_MS,
        steps: sseSteps,
      },
      // Device A's state change to device B's page needs two browsers: `npm run bench` measures it
      // (ui.syncAToB, bench/ui-sync-delay.mjs).
    };
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const result = await runServerBench({ quick });
  const dir = join(HERE, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `server-${result.startedAt.replaceAll(':', '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
}
