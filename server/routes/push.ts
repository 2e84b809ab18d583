// POST /api/push: a device's outbox changes, applied in one transaction (server/README.md).
// Thin: validation is the schema's, the rules are the store's. Imports server/ modules only.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorReply, PushBody, PushReply, SeqGapReply } from '../schemas';
import type { Sync } from '../sync';

export const pushRoutes: FastifyPluginAsyncZod<{ sync: Sync }> = async (app, { sync }) => {
  app.post(
    '/api/push',
    {
      schema: {
        summary: 'Apply a device’s changes (gap-free per-device seq; replays are acknowledged)',
        body: PushBody,
        response: { 200: PushReply, 400: ErrorReply, 401: ErrorReply, 409: SeqGapReply, 413: ErrorReply, 429: ErrorReply },
      },
    },
    async (req, reply) => {
      const { deviceId, changes } = req.body;
      const r = await sync.push(req.user, deviceId, changes);
      if (!r.ok) {
        return reply.code(409).send({
          error: 'seq_gap',
          message: `Expected seq ${r.expectedSeq}; nothing of this push was applied (last applied: ${r.lastAppliedSeq}).`,
          expected_seq: r.expectedSeq,
          last_applied_seq: r.lastAppliedSeq,
        });
      }
      return {
        last_applied_seq: r.lastAppliedSeq,
        applied: r.applied,
        duplicates: r.duplicates,
        conflicts: r.conflicts.map((c) => ({
          seq: c.seq,
          job_id: c.jobId,
          version: c.version,
          stored_version: c.storedVersion,
          reason: c.reason,
        })),
      };
    },
  );
};
