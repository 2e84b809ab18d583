// The async job pattern: upload a dataset once by fingerprint, submit a job (config + dataset
// reference) that waits on the server for a runner, pause or resume it, fetch its newest
// checkpoint. Datasets and checkpoints live in the database, so every instance serves them.
// Imports server/ modules and node built-ins only.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ControlReply, DatasetParams, DatasetReply, SubmitBody, SubmitReply } from '../queue-schemas';
import { ErrorReply, JobParams, ZipBody } from '../schemas';
import type { Sync } from '../sync';

/** The largest dataset or checkpoint accepted, in bytes. */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;
export const BLOB_TYPES = ['application/octet-stream', 'application/zip', 'application/x-lathe-package'];

export const unsupported = { error: 'unsupported_media_type', message: `Send the bytes as ${BLOB_TYPES.join(', ')}.`, field: 'content-type' };

export const queueRoutes: FastifyPluginAsyncZod<{ sync: Sync }> = async (app, { sync }) => {
  const queue = sync.store.queue;
  app.addContentTypeParser(BLOB_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.put(
    '/api/datasets/:fingerprint',
    {
      bodyLimit: MAX_BLOB_BYTES,
      schema: {
        summary: 'Upload a dataset once; its fingerprint is the SHA-256 of the bytes, checked on arrival',
        params: DatasetParams,
        response: { 200: DatasetReply, 201: DatasetReply, 400: ErrorReply, 413: ErrorReply, 415: ErrorReply },
      },
    },
    async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) return reply.code(415).send(unsupported);
      const fp = req.params.fingerprint;
      if (req.body.length === 0) return reply.code(400).send({ error: 'bad_request', message: 'body: the dataset is empty', field: 'body' });
      const actual = createHash('sha256').update(req.body).digest('hex');
      if (actual !== fp) {
        return reply.code(400).send({ error: 'fingerprint_mismatch', message: `fingerprint: the body's SHA-256 is ${actual}, not ${fp}`, field: 'fingerprint' });
      }
      const created = await queue.putDataset(req.user, fp, req.body, Date.now());
      return reply.code(created ? 201 : 200).send({ fingerprint: fp, bytes: req.body.length, created });
    },
  );

  app.get(
    '/api/datasets/:fingerprint',
    { schema: { summary: 'Download a dataset (for runners)', params: DatasetParams, response: { 200: ZipBody, 404: ErrorReply } } },
    async (req, reply) => {
      const bytes = await queue.getDataset(req.user, req.params.fingerprint);
      if (!bytes) return reply.code(404).send({ error: 'not_found', message: `No dataset ${req.params.fingerprint}; PUT it first.` });
      return reply.type('application/octet-stream').header('Cache-Control', 'private, max-age=31536000, immutable').send(bytes);
    },
  );

  app.post(
    '/api/jobs',
    {
      schema: {
        summary: 'Submit a job to the server queue; a runner (a browser with "Train jobs from the server") trains it',
        body: SubmitBody,
        response: { 202: SubmitReply, 400: ErrorReply, 422: ErrorReply },
      },
    },
    async (req, reply) => {
      const jobId = randomUUID();
      const { name, config, dataset, breakpoint } = req.body;
      const r = await queue.submit(req.user, { jobId, name: name ?? null, config, datasetFingerprint: dataset.fingerprint, breakpoint: breakpoint ?? null }, Date.now());
      if (!r.ok) {
        return reply.code(422).send({
          error: 'unknown_dataset',
          message: `dataset.fingerprint: no dataset ${dataset.fingerprint}; upload it with PUT /api/datasets/${dataset.fingerprint} first.`,
          field: 'dataset.fingerprint',
        });
      }
      sync.announce(req.user, r.events);
      return reply
        .code(202)
        .header('Location', `/api/jobs/${jobId}`)
        .send({ job_id: jobId, status_url: `/api/jobs/${jobId}`, result_url: `/api/jobs/${jobId}/result`, state: 'queued' as const });
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/jobs/:id/${action}`,
      {
        schema: {
          summary: action === 'pause' ? 'Pause a server-queued job (a running one at its runner’s next renewal)' : 'Put a paused server-queued job back in the queue',
          params: JobParams,
          response: { 200: ControlReply, 202: ControlReply, 404: ErrorReply, 409: ErrorReply },
        },
      },
      async (req, reply) => {
        const id = req.params.id;
        const r = await queue[action](req.user, id, Date.now());
        switch (r.outcome) {
          case 'not_found':
            return reply.code(404).send({ error: 'not_found', message: `No job "${id}".` });
          case 'not_queue_job':
            return reply.code(409).send({ error: 'not_a_server_job', message: `Job "${id}" trains on its own device; ${action} it there.` });
          case 'refused':
            return reply.code(409).send({ error: 'wrong_state', message: `Job "${id}" is ${r.state}; it cannot be ${action === 'pause' ? 'paused' : 'resumed'}.` });
          default:
            sync.announce(req.user, r.events);
            return reply.code(r.outcome === 'done' ? 200 : 202).send({ job_id: id, outcome: r.outcome, state: r.state });
        }
      },
    );
  }

  app.get(
    '/api/jobs/:id/checkpoint',
    { schema: { summary: 'The newest checkpoint a runner uploaded (.lathe package)', params: JobParams, response: { 200: ZipBody, 404: ErrorReply } } },
    async (req, reply) => {
      const c = await queue.getCheckpoint(req.user, req.params.id);
      if (!c) return reply.code(404).send({ error: 'not_found', message: `Job "${req.params.id}" has no checkpoint.` });
      return reply
        .type('application/x-lathe-package')
        .header('X-Checkpoint-Step', String(c.step))
        .header('X-Content-SHA256', c.sha256)
        .header('Cache-Control', 'private, no-cache')
        .send(c.bytes);
    },
  );
};
