// PUT and GET /api/jobs/:id/result: the finished model's zip, up to 64 MiB, on disk with its
// SHA-256 (results.ts). Zip bodies are accepted here only; every other route keeps the 1 MiB JSON
// limit. Imports server/ modules only.
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MAX_RESULT_BYTES, NotAZip, ResultTooLarge, type ResultFiles } from '../results';
import { ErrorReply, JobParams, ResultReply, ZipBody } from '../schemas';
import type { Sync } from '../sync';

const RESULT_TYPES = ['application/zip', 'application/octet-stream'];

export const resultRoutes: FastifyPluginAsyncZod<{ sync: Sync; results: ResultFiles }> = async (app, { sync, results }) => {
  // The body stays a stream: results.ts hashes and counts it on its way to disk, never in memory.
  app.addContentTypeParser(RESULT_TYPES, (_req, payload, done) => done(null, payload));
  const tooLarge = { error: 'payload_too_large', message: `A result may be at most ${MAX_RESULT_BYTES} bytes.`, field: 'body' };

  app.put(
    '/api/jobs/:id/result',
    {
      bodyLimit: MAX_RESULT_BYTES,
      schema: {
        summary: 'Upload the finished model (the exported TF.js zip), application/zip',
        params: JobParams,
        response: { 201: ResultReply, 400: ErrorReply, 404: ErrorReply, 413: ErrorReply, 415: ErrorReply },
      },
    },
    async (req, reply) => {
      // Other content types were parsed by the JSON/text parsers: only a zip stream is a result.
      if (!(req.body instanceof Readable)) {
        return reply.code(415).send({ error: 'unsupported_media_type', message: `Send the zip as ${RESULT_TYPES.join(' or ')}.`, field: 'content-type' });
      }
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > MAX_RESULT_BYTES) return reply.code(413).header('Connection', 'close').send(tooLarge);
      const id = req.params.id;
      if (!(await sync.store.getSummary(req.user, id))) {
        return reply.code(404).header('Connection', 'close').send({ error: 'not_found', message: `No job "${id}".` });
      }
      let saved: { sha256: string; bytes: number };
      try {
        saved = await results.save(req.user, id, req.body);
      } catch (err) {
        if (err instanceof ResultTooLarge) return reply.code(413).header('Connection', 'close').send(tooLarge);
        if (err instanceof NotAZip) return reply.code(400).send({ error: 'bad_request', message: 'body: not a zip file', field: 'body' });
        throw err;
      }
      if (!(await sync.store.setResult(req.user, id, { ...saved, uploadedAt: Date.now() }))) {
        await results.remove(req.user, id); // deleted while uploading
        return reply.code(404).send({ error: 'not_found', message: `No job "${id}".` });
      }
      return reply.code(201).send({ job_id: id, ...saved });
    },
  );

  app.get(
    '/api/jobs/:id/result',
    { schema: { summary: 'Download the result zip', params: JobParams, response: { 200: ZipBody, 404: ErrorReply } } },
    async (req, reply) => {
      const id = req.params.id;
      const job = await sync.store.getSummary(req.user, id);
      const file = job?.result ? await results.open(req.user, id) : null;
      if (!job?.result || !file) return reply.code(404).send({ error: 'not_found', message: `Job "${id}" has no result.` });
      return reply
        .type('application/zip')
        .header('Content-Length', file.bytes)
        .header('ETag', `"${job.result.sha256}"`)
        .header('X-Content-SHA256', job.result.sha256)
        .header('Content-Disposition', 'attachment; filename="model.zip"')
        .header('Cache-Control', 'private, no-cache')
        .send(file.stream);
    },
  );
};
