// Puts the server together: store, event hub, sync, webhook dispatcher, result files and the app,
// with the defaults below; `listen()` opens the port and `close()` shuts everything in order.
// Used by main.ts (npm start), bench/ and tests. Imports server/ modules and node built-ins only.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from './app';
import { EventHub, type StreamCaps } from './events/hub';
import type { StreamTuning } from './events/stream';
import { ResultFiles } from './results';
import type { JobStore } from './store/job-store';
import type { PgConnection } from './store/pg-pool';
import { PgJobStore } from './store/pg-store';
import { SqliteJobStore } from './store/sqlite-store';
import { Sync } from './sync';
import { TokenTable } from './tokens';
import type { TokenEntry } from './config';
import { DEFAULT_BACKOFF_MS, WebhookDispatcher } from './webhooks/dispatcher';

export const HEARTBEAT_MS = 15_000;
export const PROGRESS_INTERVAL_MS = 1000;
export const RATE_LIMIT_PER_MINUTE = 1200;
export const STREAM_CAPS: StreamCaps = { perUser: 16, total: 1000 };
export const STREAM_TUNING: StreamTuning = { slowClientTimeoutMs: 10_000, maxBufferedBytes: 1024 * 1024 };
/** Events older than this are pruned; a client further behind gets a `resync` event. */
export const EVENT_RETENTION_MS = 7 * 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;
/** A runner's lease unless it asks for another length; a runner renews well before it ends. */
export const LEASE_MS = 30_000;
/** How often each instance returns jobs with expired leases to the queue. */
export const LEASE_SWEEP_MS = 1000;

export interface LatheOptions {
  /** The SQLite file (or `:memory:`); unused when `database` is given. */
  dbPath: string;
  /** PostgreSQL instead of SQLite: several instances may share it. */
  database?: PgConnection | null;
  /** Uploaded results; a temporary folder when null. */
  resultsDir: string | null;
  tokens: readonly TokenEntry[];
  distDir?: string | null;
  corsOrigins?: readonly string[];
  webhookUrls?: readonly string[];
  webhookSecret?: Buffer | null;
  webhookBackoffMs?: readonly number[];
  webhookPollMs?: number;
  rateLimitPerMinute?: number;
  heartbeatMs?: number;
  leaseMs?: number;
  leaseSweepMs?: number;
  progressIntervalMs?: number;
  streamCaps?: StreamCaps;
  stream?: StreamTuning;
  logger?: FastifyServerOptions['logger'];
}

export interface Lathe {
  app: FastifyInstance;
  store: JobStore;
  hub: EventHub;
  /** Opens the port (0 = a free one) and resolves with the base URL. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

/** Pino options: the Authorization header (and cookies) never reach a log line. */
export const LOG_REDACT = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'];

export async function createLathe(o: LatheOptions): Promise<Lathe> {
  const progressIntervalMs = o.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  const webhookUrls = o.webhookUrls ?? [];
  const storeOptions = { webhookUrls, progressIntervalMs };
  const store = o.database ? await PgJobStore.open(o.database, storeOptions) : new SqliteJobStore(o.dbPath, storeOptions);
  const hub = new EventHub(o.streamCaps ?? STREAM_CAPS);
  // Other instances' events: NOTIFY wakes this instance's streams, which read the event table.
  const subscription =
    store instanceof PgJobStore ? await store.subscribe((user, seq) => hub.wakeTo(user, seq), () => hub.wakeAll()) : null;
  // Background failures (a progress flush, a webhook round) go to the app's log once it exists.
  let logError = (err: unknown, what: string) => console.error(what, err);
  let dispatcher: WebhookDispatcher | null = null;
  if (webhookUrls.length > 0) {
    if (!o.webhookSecret) throw new Error('Webhook URLs need a secret.');
    dispatcher = new WebhookDispatcher(store, {
      secret: o.webhookSecret,
      backoffMs: o.webhookBackoffMs ?? DEFAULT_BACKOFF_MS,
      pollMs: o.webhookPollMs ?? 1000,
      leaseMs: 60_000,
      timeoutMs: 10_000,
      batch: 16,
      onError: (err) => logError(err, 'webhook round failed'),
    });
  }
  const sync = new Sync(store, hub, dispatcher, progressIntervalMs, Date.now, (err) => logError(err, 'progress flush failed'));
  const results = new ResultFiles(o.resultsDir ?? mkdtempSync(join(tmpdir(), 'lathe-results-')));
  const app = await buildApp({
    sync,
    hub,
    tokens: new TokenTable(o.tokens),
    results,
    distDir: o.distDir ?? null,
    corsOrigins: o.corsOrigins ?? [],
    rateLimitPerMinute: o.rateLimitPerMinute ?? RATE_LIMIT_PER_MINUTE,
    heartbeatMs: o.heartbeatMs ?? HEARTBEAT_MS,
    leaseMs: o.leaseMs ?? LEASE_MS,
    stream: o.stream ?? STREAM_TUNING,
    logger: o.logger ?? false,
  });
  await app.ready();
  logError = (err, what) => app.log.error({ err }, what);
  dispatcher?.start();
  const prune = setInterval(() => {
    store.pruneEvents(Date.now() - EVENT_RETENTION_MS).catch((err: unknown) => app.log.error({ err }, 'event pruning failed'));
  }, PRUNE_EVERY_MS);
  prune.unref();
  // Jobs whose runner vanished go back to the queue (and say so) even when no runner claims.
  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    store.queue
      .expireAll(Date.now())
      .then((expired) => expired.forEach((x) => sync.announce(x.user, x.events)))
      .catch((err: unknown) => app.log.error({ err }, 'lease sweep failed'))
      .finally(() => (sweeping = false));
  }, o.leaseSweepMs ?? LEASE_SWEEP_MS);
  sweep.unref();

  let closed: Promise<void> | null = null;
  return {
    app,
    store,
    hub,
    async listen(port, host) {
      await app.listen({ port, host });
      const address = app.server.address();
      const bound = address && typeof address === 'object' ? address.port : port;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      return `http://${shownHost}:${bound}`;
    },
    close() {
      closed ??= (async () => {
        clearInterval(prune);
        clearInterval(sweep);
        sync.close();
        await dispatcher?.stop();
        await app.close();
        await subscription?.close();
        await store.close();
      })();
      return closed;
    },
  };
}
