// Builds the Fastify app: the built page (static.ts) and /api on one port, with zod validation,
// the OpenAPI document, CORS, rate limits, bearer auth and an error handler that never leaks a
// stack. No port is opened here (tests use app.inject()); server.ts listens. Imports fastify
// plugins and server/ modules only.
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySse from '@fastify/sse';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { EventHub } from './events/hub';
import type { StreamTuning } from './events/stream';
import type { ResultFiles } from './results';
import { eventRoutes } from './routes/events';
import { jobRoutes } from './routes/jobs';
import { metaRoutes } from './routes/meta';
import { pushRoutes } from './routes/push';
import { queueRoutes } from './routes/queue';
import { resultRoutes } from './routes/results';
import { runnerRoutes } from './routes/runners';
import { ISOLATION_HEADERS, registerStatic } from './static';
import type { Sync } from './sync';
import type { TokenTable } from './tokens';

/** Every JSON body; result uploads have their own limit (results.ts). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface AppOptions {
  sync: Sync;
  hub: EventHub;
  tokens: TokenTable;
  results: ResultFiles;
  /** dist/ to serve, or null for the API alone. */
  distDir: string | null;
  corsOrigins: readonly string[];
  /** Requests per user (or per IP without a valid token) per minute on /api. */
  rateLimitPerMinute: number;
  /** SSE heartbeat comment interval, in ms. */
  heartbeatMs: number;
  /** A runner's lease when it does not ask for another length, in ms. */
  leaseMs: number;
  stream: StreamTuning;
  logger: FastifyServerOptions['logger'];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The user of the request's bearer token; set by the auth hook on /api routes that need it. */
    user: string;
  }
}

function fieldOf(context: string | undefined, instancePath: string): string {
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (context === 'body') return path === '' ? 'body' : path;
  return path === '' ? (context ?? 'request') : path;
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    // SSE streams never go idle: close() must end them rather than wait.
    forceCloseConnections: true,
    // A path parameter longer than this matches no route (404); ids are at most 128 characters.
    routerOptions: { maxParamLength: 200 },
    // The router refuses a URL it cannot decode before any hook runs. Outside /api that stays the
    // 404 the old static server gave; under /api it is a 400 naming the path.
    frameworkErrors: (err, req, untypedReply) => {
      const reply = untypedReply as unknown as FastifyReply;
      const api = req.url.startsWith('/api');
      reply.headers(ISOLATION_HEADERS);
      if (err.code === 'FST_ERR_BAD_URL' && !api) {
        void reply.code(404).header('Cache-Control', 'no-cache').type('text/plain; charset=utf-8').send('Not found\n');
      } else {
        void reply.code(400).send({ error: 'bad_request', message: `path: ${err.message}`, field: 'path' });
      }
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('user', '');

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({ field: fieldOf(err.validationContext, v.instancePath), message: v.message }));
      const first = issues[0]!;
      return reply.code(400).send({ error: 'bad_request', message: `${first.field}: ${first.message}`, field: first.field });
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, 413, 415, 429…): their message, never a stack.
      const field = err.code?.startsWith('FST_ERR_CTP') ? 'body' : undefined;
      return reply.code(status).send({ error: err.code ?? 'bad_request', message: err.message, ...(field ? { field } : {}) });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'Internal server error' });
  });

  await registerStatic(app, opts.distDir);
  await app.register(fastifyCors, {
    origin: opts.corsOrigins.length > 0 ? [...opts.corsOrigins] : false,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
    exposedHeaders: ['Retry-After', 'X-Content-SHA256'],
    maxAge: 600,
  });
  await app.register(fastifyRateLimit, {
    max: opts.rateLimitPerMinute,
    timeWindow: 60_000,
    // Only the API: the app's own files are cheap, and a first visit fetches many of them.
    allowList: (req) => !req.url.startsWith('/api/'),
    // A valid token's user shares one budget across devices; anything else is limited per IP,
    // so made-up tokens do not each get a fresh budget.
    keyGenerator: (req) => {
      const user = opts.tokens.userFor(req.headers.authorization);
      return user === null ? `ip:${req.ip}` : `user:${user}`;
    },
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Lathe sync API', version: '1.0.0', description: 'See server/README.md for the sync contract.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySse, { heartbeatInterval: opts.heartbeatMs });

  await app.register(metaRoutes);
  await app.register(async (api) => {
    api.addHook('onRequest', async (req, reply) => {
      const user = opts.tokens.userFor(req.headers.authorization);
      if (user === null) {
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Bearer')
          .send({ error: 'unauthorized', message: 'Send "Authorization: Bearer <token>" with a token from LATHE_TOKENS.' });
      }
      req.user = user;
    });
    await api.register(pushRoutes, { sync: opts.sync });
    await api.register(jobRoutes, { sync: opts.sync, results: opts.results });
    await api.register(resultRoutes, { sync: opts.sync, results: opts.results });
    await api.register(queueRoutes, { sync: opts.sync });
    await api.register(runnerRoutes, { sync: opts.sync, leaseMs: opts.leaseMs });
    await api.register(eventRoutes, { sync: opts.sync, hub: opts.hub, tuning: opts.stream });
  });
  return app;
}
