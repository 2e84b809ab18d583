// The API's request and response schemas (zod). Fastify validates every body, query and params
// against them (fastify-type-provider-zod) and @fastify/swagger turns the same schemas into
// /api/openapi.json, so the server, its clients and the fuzz test read one truth. Imports zod and
// shared/jobs.ts only.
import { z } from 'zod';
import { JOB_STATES } from '../shared/jobs';

/** Job and device ids: what crypto.randomUUID() and similar ids look like, bounded. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

const JobState = z.enum(JOB_STATES);
const Seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** One line of a job's log, as the app keeps it. */
export const LogEntry = z.object({
  at: z.number(),
  kind: z.string().max(64),
  text: z.string().max(4096),
});

/** A job as the device holds it: the server reads these fields and keeps the rest verbatim. */
export const JobSnapshot = z.looseObject({
  id: Id.optional(),
  state: JobState,
  name: z.string().max(200).optional(),
  progress: z.looseObject({ stage: z.string().max(64).optional(), percent: z.number().optional() }).optional(),
  log: z.array(LogEntry).max(2000).optional(),
});

export const JobChange = z
  .object({
    seq: Seq,
    jobId: Id,
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    snapshot: JobSnapshot,
  })
  .superRefine((c, ctx) => {
    if (c.snapshot.id !== undefined && c.snapshot.id !== c.jobId)
      ctx.addIssue({ code: 'custom', path: ['snapshot', 'id'], message: 'must equal jobId' });
  });

/** At most this many changes per push; the outbox sends the rest in the next one. */
export const MAX_CHANGES_PER_PUSH = 500;

export const PushBody = z.object({
  deviceId: Id,
  /** May be empty: the reply still says the device's last applied seq. */
  changes: z.array(JobChange).max(MAX_CHANGES_PER_PUSH),
});

export const PushReply = z.object({
  last_applied_seq: z.number().int(),
  applied: z.array(z.number().int()),
  duplicates: z.array(z.number().int()),
  conflicts: z.array(
    z.object({
      seq: z.number().int(),
      job_id: z.string(),
      version: z.number().int(),
      stored_version: z.number().int(),
      reason: z.enum(['stale_version', 'deleted']),
    }),
  ),
});

export const ErrorReply = z.object({
  error: z.string(),
  message: z.string(),
  field: z.string().optional(),
});

export const SeqGapReply = ErrorReply.extend({
  expected_seq: z.number().int(),
  last_applied_seq: z.number().int(),
});

export const JobParams = z.object({ id: Id });

export const JobListQuery = z.object({
  state: JobState.optional(),
  device: Id.optional(),
  updated_since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(512).optional(),
});

const ResultInfo = z.object({ sha256: z.string(), bytes: z.number().int(), uploaded_at: z.number().int() });

export const JobSummary = z.object({
  id: z.string(),
  device_id: z.string(),
  version: z.number().int(),
  state: JobState,
  name: z.string().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  cancel_requested_at: z.number().int().nullable(),
  stage: z.string().nullable(),
  percent: z.number().nullable(),
  last_log: z.string().nullable(),
  result: ResultInfo.nullable(),
});

export const JobDetail = JobSummary.extend({ snapshot: z.record(z.string(), z.unknown()) });

export const JobListReply = z.object({ jobs: z.array(JobSummary), next_cursor: z.string().nullable() });

/** SimpleTuner's inline-progress shape: `progress` is the percent done (0 to 100). */
export const InlineProgressReply = z.object({
  job_id: z.string(),
  stage: z.string().nullable(),
  last_log: z.string().nullable(),
  progress: z.number().nullable(),
});

export const CancelReply = z.object({
  job_id: z.string(),
  outcome: z.enum(['cancelled', 'requested']),
  state: JobState,
  device_id: z.string(),
  version: z.number().int().optional(),
});

export const ResultReply = z.object({ job_id: z.string(), sha256: z.string(), bytes: z.number().int() });

export const HealthReply = z.object({ status: z.literal('ok'), time: z.number().int() });

export const EventsHeaders = z.looseObject({
  'last-event-id': z
    .string()
    .regex(/^\d{1,15}$/, 'a whole number (the id of the last event received)')
    .optional(),
});

export const NoContent = z.null().describe('No content');

/** The result download: a zip stream (never serialized as JSON). */
export const ZipBody = z.unknown().describe('application/zip');
