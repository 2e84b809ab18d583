// The runner API: a device claims one queued job under a lease, renews it while training (and
// hears of pause and cancel requests in the reply), uploads checkpoints, and finishes. Every call
// after the claim carries the lease generation; a runner whose lease was lost gets 409 and must
// stop that job. Imports server/ modules and node built-ins only.
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CheckpointQuery, CheckpointReply, ClaimBody, ClaimReply, FinishBody, FinishReply, RenewBody, RenewReply } from '../queue-schemas';
import { ErrorReply, JobParams, NoContent } from '../schemas';
import type { Fenced } from '../store/queue-types';
import type { Sync } from '../sync';
import { BLOB_TYPES, MAX_BLOB_BYTES, unsupported } from './queue';

const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');

export const runnerRoutes: FastifyPluginAsyncZod<{ sync: Sync; leaseMs: number }> = async (app, { sync, leaseMs }) => {
  const queue = sync.store.queue;
  app.addContentTypeParser(BLOB_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const refused = (r: Extract<Fenced<object>, { ok: false }>, id: string) =>
    r.reason === 'not_found'
      ? { code: 404 as const, body: { error: 'not_found', message: `No job "${id}".` } }
      : { code: 409 as const, body: { error: 'lease_lost', message: `This runner no longer holds job "${id}" (its lease expired or another runner took it over): stop training it.` } };

  app.post(
    '/api/runners/claim',
    { schema: { summary: 'Claim the oldest queued job under a lease', body: ClaimBody, response: { 200: ClaimReply, 204: NoContent, 400: ErrorReply } } },
    async (req, reply) => {
      const ms = req.body.lease_ms ?? leaseMs;
      const r = await queue.claim(req.user, req.body.device_id, ms, Date.now());
      sync.announce(req.user, r.events);
      const l = r.lease;
      if (!l) return reply.code(204).send(null);
      return {
        job_id: l.jobId,
        generation: l.generation,
        lease_until: l.leaseUntil,
        lease_ms: ms,
        name: l.name,
        config: l.config,
        dataset: { fingerprint: l.datasetFingerprint, url: `/api/datasets/${l.datasetFingerprint}` },
        checkpoint: l.checkpointStep === null ? null : { step: l.checkpointStep, url: `/api/jobs/${l.jobId}/checkpoint` },
        breakpoint: l.breakpoint,
      };
    },
  );

  app.post(
    '/api/runners/jobs/:id/renew',
    { schema: { summary: 'Renew a lease; says whether pause or cancel was asked for', params: JobParams, body: RenewBody, response: { 200: RenewReply, 404: ErrorReply, 409: ErrorReply } } },
    async (req, reply) => {
      const b = req.body;
      const r = await queue.renew(req.user, { jobId: req.params.id, deviceId: b.device_id, generation: b.generation }, b.step ?? null, b.lease_ms ?? null, Date.now());
      if (!r.ok) {
        const x = refused(r, req.params.id);
        return reply.code(x.code).send(x.body);
      }
      return { lease_until: r.leaseUntil, cancel_requested: r.cancelRequested, pause_requested: r.pauseRequested };
    },
  );

  app.put(
    '/api/runners/jobs/:id/checkpoint',
    {
      bodyLimit: MAX_BLOB_BYTES,
      schema: {
        summary: 'Upload a checkpoint (.lathe package) as the lease holder',
        params: JobParams,
        querystring: CheckpointQuery,
        response: { 201: CheckpointReply, 400: ErrorReply, 404: ErrorReply, 409: ErrorReply, 413: ErrorReply, 415: ErrorReply },
      },
    },
    async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) return reply.code(415).send(unsupported);
      if (!req.body.subarray(0, 4).equals(ZIP_MAGIC))
        return reply.code(400).send({ error: 'bad_request', message: 'body: not a .lathe package (a zip file)', field: 'body' });
      const q = req.query;
      const sha256 = createHash('sha256').update(req.body).digest('hex');
      const ref = { jobId: req.params.id, deviceId: q.device_id, generation: q.generation };
      const r = await queue.checkpoint(req.user, ref, q.step, req.body, sha256, Date.now());
      if (!r.ok) {
        const x = refused(r, req.params.id);
        return reply.code(x.code).send(x.body);
      }
      return reply.code(201).send({ job_id: req.params.id, step: q.step, sha256, bytes: req.body.length });
    },
  );

  app.post(
    '/api/runners/jobs/:id/finish',
    { schema: { summary: 'End this runner’s turn: completed, failed, cancelled or paused', params: JobParams, body: FinishBody, response: { 200: FinishReply, 404: ErrorReply, 409: ErrorReply } } },
    async (req, reply) => {
      const b = req.body;
      const ref = { jobId: req.params.id, deviceId: b.device_id, generation: b.generation };
      const r = await queue.finish(req.user, ref, b.outcome, b.step, b.message ?? null, Date.now());
      if (!r.ok) {
        const x = refused(r, req.params.id);
        return reply.code(x.code).send(x.body);
      }
      sync.announce(req.user, r.events);
      return { job_id: req.params.id, state: b.outcome };
    },
  );
};
