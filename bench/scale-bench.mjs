// @ts-check
// The scale-out figures (issue 12), as plain JSON: two server instances (child processes, see
// server-child.mjs) on one PostgreSQL database, measured over loopback:
// - claims per second with 50 simulated runners (claim, then finish at once, until the queue is empty);
// - cross-instance event delay: a push through instance 1 to the event on a stream of instance 2;
// - death to running again: a runner stops renewing; how long until another runner, polling
//   instance 2, holds the job (the lease time plus the sweep and the claim).
// Needs LATHE_BENCH_DATABASE_URL (or LATHE_TEST_DATABASE_URL); each run uses a fresh schema and
// drops it. `npm run bench:scale` writes bench/results/scale-<date>.json. Imports pg and node built-ins.
import { createHash, randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { percentile } from './stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const TOKEN = 'bench-token-0123456789abcdef';
const HEADERS = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
/** Users for the many-users claim figure: a user's writes run one at a time, users in parallel. */
const USERS = 10;
/** @param {number} u */
const userToken = (u) => `${TOKEN}-user-${u}`;
const CONFIG = { model: { kind: 'mlp', hidden: [{ units: 8, activation: 'relu' }] }, optimizer: 'adam', learningRate: 0.01, batchSize: 8, epochs: 1, validationSplit: 0, seed: 1 };

/** @param {Record<string, unknown>} options @returns {Promise<{ url: string, close: () => Promise<unknown> }>} */
function startChild(options) {
  const child = fork(join(HERE, 'server-child.mjs'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
    child.once('message', (/** @type {any} */ m) => {
      child.removeAllListeners('exit');
      resolve({
        url: m.url,
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

/** @param {string} url @param {string} path @param {unknown} [body] @param {string} [method] @param {string} [token] */
async function api(url, path, body, method = 'POST', token = TOKEN) {
  const headers = { ...HEADERS, authorization: `Bearer ${token}` };
  const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** @param {string} url @param {number} jobs @param {string} [token] */
async function submitJobs(url, jobs, token = TOKEN) {
  const data = Buffer.from('x,y\n0,1\n');
  const fp = createHash('sha256').update(data).digest('hex');
  await fetch(`${url}/api/datasets/${fp}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: data });
  for (let i = 0; i < jobs; i += 10)
    await Promise.all(Array.from({ length: Math.min(10, jobs - i) }, () => api(url, '/api/jobs', { config: CONFIG, dataset: { fingerprint: fp } }, 'POST', token)));
}

/**
 * 50 runners, alternating instances, claim and finish until the queue is empty; the runners
 * belong to `users` users (runner r to user r % users), each with `jobs / users` jobs.
 */
async function claimRate(/** @type {string[]} */ urls, users = 1, runners = 50, jobs = 1000) {
  const tokens = users === 1 ? [TOKEN] : Array.from({ length: users }, (_, u) => userToken(u));
  for (const token of tokens) await submitJobs(urls[0] ?? '', jobs / users, token);
  /** @type {number[]} */
  const claimMs = [];
  let claimed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: runners }, async (_, r) => {
      const url = urls[r % urls.length] ?? '';
      const device = `runner-${r}`;
      const token = tokens[r % tokens.length];
      for (;;) {
        const c0 = performance.now();
        const c = await api(url, '/api/runners/claim', { device_id: device }, 'POST', token);
        claimMs.push(performance.now() - c0);
        if (c.status === 204) return;
        if (c.status !== 200) throw new Error(`claim answered ${c.status}`);
        claimed++;
        const f = await api(url, `/api/runners/jobs/${c.json.job_id}/finish`, { device_id: device, generation: c.json.generation, outcome: 'completed', step: 1 }, 'POST', token);
        if (f.status !== 200) throw new Error(`finish answered ${f.status}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { users, runners, jobs, claimed, seconds: Math.round(seconds * 100) / 100, claimsPerSec: Math.round(claimed / seconds), claimLatencyMs: { p50: round(percentile(claimMs, 50)), p99: round(percentile(claimMs, 99)) } };
}

/** @param {number | null} v */
const round = (v) => (v === null ? null : Math.round(v * 10) / 10);

/** Pushes through instance 1; a stream on instance 2 records push-start → event-received. */
async function crossInstanceDelay(/** @type {string[]} */ urls, events = 200) {
  /** @type {Map<string, number>} */
  const sentAt = new Map();
  /** @type {number[]} */
  const delays = [];
  const stream = await new Promise((resolve, reject) => {
    const req = request(`${urls[1]}/api/events`, { headers: { authorization: HEADERS.authorization }, agent: false }, (res) => {
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk) => {
        const now = performance.now();
        buffer += chunk;
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const m = /"job_id":"(delay-\d+)"/.exec(frame);
          const t = m && frame.includes('event: job_status_changed') ? sentAt.get(m[1] ?? '') : undefined;
          if (t !== undefined) delays.push(now - t);
        }
      });
      resolve({ close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
  for (let e = 1; e <= events; e++) {
    const jobId = `delay-${e}`;
    sentAt.set(jobId, performance.now());
    await api(urls[0] ?? '', '/api/push', { deviceId: 'delay-device', changes: [{ seq: e, jobId, version: 1, snapshot: { state: 'queued' } }] });
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 5000;
  while (delays.length < events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  /** @type {any} */ (stream).close();
  return { events, received: delays.length, p50Ms: round(percentile(delays, 50)), p99Ms: round(percentile(delays, 99)), maxMs: round(percentile(delays, 100)) };
}

/** A runner on instance 1 dies; one polling instance 2 every `pollMs` takes over. */
async function deathToRunning(/** @type {string[]} */ urls, leaseMs = 2000, pollMs = 100, rounds = 5) {
  /** @type {number[]} */
  const times = [];
  for (let i = 0; i < rounds; i++) {
    await submitJobs(urls[0] ?? '', 1);
    const a = await api(urls[0] ?? '', '/api/runners/claim', { device_id: `dying-${i}`, lease_ms: leaseMs });
    if (a.status !== 200) throw new Error(`claim answered ${a.status}`);
    const died = Date.now();
    for (;;) {
      const b = await api(urls[1] ?? '', '/api/runners/claim', { device_id: `heir-${i}`, lease_ms: leaseMs });
      if (b.status === 200) {
        times.push(Date.now() - died);
        await api(urls[1] ?? '', `/api/runners/jobs/${b.json.job_id}/finish`, { device_id: `heir-${i}`, generation: b.json.generation, outcome: 'completed', step: 1 });
        break;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
  return { leaseMs, pollMs, rounds, p50Ms: percentile(times, 50), maxMs: percentile(times, 100), overLeaseP50Ms: (percentile(times, 50) ?? 0) - leaseMs };
}

/** The database's own speed on this machine, to read the figures against: a round trip and a commit. */
async function dbProbe(/** @type {string} */ url, /** @type {string} */ schema) {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query('CREATE TABLE probe (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)');
    await client.query('INSERT INTO probe VALUES (1, 0)');
    let t0 = performance.now();
    for (let i = 0; i < 100; i++) await client.query('SELECT 1');
    const roundTripMs = (performance.now() - t0) / 100;
    t0 = performance.now();
    for (let i = 0; i < 100; i++) await client.query('UPDATE probe SET n = n + 1 WHERE id = 1');
    const commitMs = (performance.now() - t0) / 100;
    await client.query('DROP TABLE probe');
    return { roundTripMs: round(roundTripMs), commitMs: round(commitMs) };
  } finally {
    await client.end();
  }
}

export async function runScaleBench({ log = console.log } = {}) {
  const url = scaleBenchDatabaseUrl();
  if (!url) throw new Error('Set LATHE_BENCH_DATABASE_URL (or LATHE_TEST_DATABASE_URL) to a PostgreSQL database the bench may use; scripts/pg-setup.sh prints one.');
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg()[0];
  const tokens = [{ user: 'bench', token: TOKEN }, ...Array.from({ length: USERS }, (_, u) => ({ user: `bench-${u}`, token: userToken(u) }))];
  const options = { database: { url, schema }, tokens, rateLimitPerMinute: 1e9 };
  const first = await startChild(options);
  const second = await startChild(options);
  const urls = [first.url, second.url];
  try {
    log(`scale bench: instances at ${urls.join(', ')} on schema ${schema}`);
    const database = await dbProbe(url, schema);
    log(`database: round trip ${database.roundTripMs} ms, one-row commit ${database.commitMs} ms`);
    const claims = await claimRate(urls);
    log(`claims, one user: ${claims.claimsPerSec}/s with ${claims.runners} runners (claim p50 ${claims.claimLatencyMs.p50} ms, p99 ${claims.claimLatencyMs.p99} ms)`);
    const claimsManyUsers = await claimRate(urls, USERS);
    log(`claims, ${USERS} users: ${claimsManyUsers.claimsPerSec}/s with ${claimsManyUsers.runners} runners (claim p50 ${claimsManyUsers.claimLatencyMs.p50} ms, p99 ${claimsManyUsers.claimLatencyMs.p99} ms)`);
    const delay = await crossInstanceDelay(urls);
    log(`cross-instance event delay: p50 ${delay.p50Ms} ms, p99 ${delay.p99Ms} ms (${delay.received}/${delay.events})`);
    const takeover = await deathToRunning(urls);
    log(`death to running again: p50 ${takeover.p50Ms} ms with a ${takeover.leaseMs} ms lease (${takeover.overLeaseP50Ms} ms over the lease)`);
    return { startedAt, machine: { cores: cpus().length, loadAverage: { start: loadAtStart, end: loadavg()[0] }, nodeVersion: process.version }, database, claims, claimsManyUsers, crossInstanceDelay: delay, deathToRunning: takeover };
  } finally {
    await first.close();
    await second.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

/** The PostgreSQL database the scale bench may use, or null when none is configured. */
export function scaleBenchDatabaseUrl() {
  return process.env.LATHE_BENCH_DATABASE_URL || process.env.LATHE_TEST_DATABASE_URL || null;
}

/** Writes a scale result as bench/results/scale-<date>.json (or into `dir`); returns the file. */
export function writeScaleResult(/** @type {{ startedAt: string }} */ result, dir = join(HERE, 'results')) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `scale-${result.startedAt.replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`wrote ${writeScaleResult(await runScaleBench())}`);
}
