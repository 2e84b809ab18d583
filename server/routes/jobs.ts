// The job routes: list (filters and a cursor), get, delete, inline progress and cancel. Thin:
// they translate between the wire (snake_case) and the store. Imports server/ modules only.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { QueueInfoReply } from '../queue-schemas';
import type { ResultFiles } from '../results';
import {
  CancelReply,
  ErrorReply,
  InlineProgressReply,
  JobDetail,
  JobListQuery,
  JobListReply,
  JobParams,
  NoContent,
} from '../schemas';
import type { JobSummary } from '../store/job-store';
import type { QueueInfo } from '../store/queue-types';
import type { Sync } from '../sync';

/** The opaque list cursor: the last row's (updated_at, id), base64url JSON. */
export function encodeCursor(job: { updatedAt: number; id: string }): string {
  return Buffer.from(JSON.stringify([job.updatedAt, job.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { updatedAt: number; id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string')
      return { updatedAt: value[0] as number, id: value[1] };
  } catch {
    // not JSON: reported below
  }
  return null;
}

export function summaryOut(j: JobSummary) {
  return {
    id: j.id,
    device_id: j.deviceId,
    version: j.version,
    state: j.state,
    name: j.name,
    created_at: j.createdAt,
    updated_at: j.updatedAt,
    cancel_requested_at: j.cancelRequestedAt,
    stage: j.progress.stage,
    percent: j.progress.percent,
    last_log: j.progress.lastLog,
    result: j.result && { sha256: j.result.sha256, bytes: j.result.bytes, uploaded_at: j.result.uploadedAt },
  };
}

/** A job with its snapshot, and for server-queued jobs the lease and which device trained which steps. */
const JobWithQueue = JobDetail.extend({ queue: QueueInfoReply.nullable() });

function queueOut(q: QueueInfo | null) {
  if (!q) return null;
  return {
    dataset_fingerprint: q.datasetFingerprint,
    lease_device: q.leaseDevice,
    lease_until: q.leaseUntil,
    generation: q.generation,
    pause_requested: q.pauseRequested,
    checkpoint: q.checkpoint && { step: q.checkpoint.step, sha256: q.checkpoint.sha256, uploaded_at: q.checkpoint.uploadedAt },
    runs: q.runs.map((r) => ({
      generation: r.generation,
      device_id: r.deviceId,
      from_step: r.fromStep,
      to_step: r.toStep,
      started_at: r.startedAt,
      ended_at: r.endedAt,
      end_reason: r.endReason,
    })),
  };
}

const notFound = (id: string) => ({ error: 'not_found', message: `No job "${id}".` });

export const jobRoutes: FastifyPluginAsyncZod<{ sync: Sync; results: ResultFiles }> = async (app, { sync, results }) => {
  const store = sync.store;

  app.get(
    '/api/jobs',
    { schema: { summary: 'List jobs, oldest update first', querystring: JobListQuery, response: { 200: JobListReply, 400: ErrorReply } } },
    async (req, reply) => {
      const q = req.query;
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (after === null) return reply.code(400).send({ error: 'bad_request', message: 'cursor: not a cursor from this server', field: 'cursor' });
      const jobs = await store.listJobs(req.user, {
        state: q.state,
        deviceId: q.device,
        updatedSince: q.updated_since,
        limit: q.limit,
        after,
      });
      const last = jobs.at(-1);
      return { jobs: jobs.map(summaryOut), next_cursor: jobs.length === q.limit && last ? encodeCursor(last) : null };
    },
  );

  app.get(
    '/api/jobs/:id',
    { schema: { summary: 'One job with its snapshot (and its queue record when submitted to the server)', params: JobParams, response: { 200: JobWithQueue, 404: ErrorReply } } },
    async (req, reply) => {
      const job = await store.getJob(req.user, req.params.id);
      if (!job) return reply.code(404).send(notFound(req.params.id));
      return { ...summaryOut(job), snapshot: job.snapshot, queue: queueOut(await store.queue.info(req.user, req.params.id)) };
    },
  );

  app.delete(
    '/api/jobs/:id',
    { schema: { summary: 'Delete a job and its result', params: JobParams, response: { 204: NoContent, 404: ErrorReply } } },
    async (req, reply) => {
      if (!(await sync.delete(req.user, req.params.id))) return reply.code(404).send(notFound(req.params.id));
      await results.remove(req.user, req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/jobs/:id/inline-progress',
    {
      schema: {
        summary: 'Stage, newest log line (≤ 80 characters) and percent: SimpleTuner’s inline-progress shape',
        params: JobParams,
        response: { 200: InlineProgressReply, 404: ErrorReply },
      },
    },
    async (req, reply) => {
      const job = await store.getSummary(req.user, req.params.id);
      if (!job) return reply.code(404).send(notFound(req.params.id));
      return { job_id: job.id, stage: job.progress.stage, last_log: job.progress.lastLog, progress: job.progress.percent };
    },
  );

  app.post(
    '/api/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel: at once when not training, else ask the device that runs it (job_cancel_requested)',
        params: JobParams,
        response: { 200: CancelReply, 202: CancelReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      const r = await sync.cancel(req.user, id);
      switch (r.outcome) {
        case 'not_found':
          return reply.code(404).send(notFound(id));
        case 'finished':
          return reply.code(409).send({ error: 'job_finished', message: `Job "${id}" is already ${r.state}.` });
        case 'cancelled':
          return reply.code(200).send({ job_id: id, outcome: 'cancelled', state: 'cancelled', device_id: r.deviceId, version: r.version });
        case 'requested':
          return reply.code(202).send({ job_id: id, outcome: 'requested', state: 'running', device_id: r.deviceId });
      }
    },
  );
};
