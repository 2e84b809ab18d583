// Request and response schemas (zod) of the server's job queue: submitting a job, datasets by
// fingerprint, and the runner API (claim, renew, checkpoint, finish). The OpenAPI document comes
// from these too. Imports zod, schemas.ts and shared/config.ts (plain TypeScript).
import { z } from 'zod';
import { ACTIVATIONS, OPTIMIZERS, validateConfig, type TrainConfig } from '../shared/config';
import { validateBreakpoint } from '../shared/jobs';
import { Id } from './schemas';

/** A dataset's fingerprint: the SHA-256 of its bytes, in lower-case hex. */
export const Fingerprint = z.string().regex(/^[0-9a-f]{64}$/, 'the SHA-256 of the dataset, 64 lower-case hex digits');

const Model = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mlp'), hidden: z.array(z.object({ units: z.number(), activation: z.enum(ACTIVATIONS) })).max(8) }),
  z.object({
    kind: z.literal('cnn'),
    imageSize: z.number(),
    blocks: z.array(z.object({ filters: z.number(), kernelSize: z.number() })).max(5),
    dense: z.number(),
    dropout: z.number(),
    augment: z.object({ shift: z.number(), brightness: z.number(), flip: z.boolean().optional() }).loose(),
  }),
  z.object({ kind: z.literal('transfer'), base: z.literal('mobilenet-v2'), imageSize: z.number(), hidden: z.number() }),
]);

/** The app's TrainConfig; the ranges are shared/config.ts's `validateConfig`, reported on `config`. */
export const TrainConfigSchema = z
  .looseObject({
    model: Model,
    optimizer: z.enum(OPTIMIZERS),
    learningRate: z.number(),
    batchSize: z.number(),
    epochs: z.number(),
    validationSplit: z.number(),
    seed: z.number(),
    table: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((c, ctx) => {
    for (const message of validateConfig(c as unknown as TrainConfig)) ctx.addIssue({ code: 'custom', message });
  });

/** Where the runner pauses the job by itself (shared/jobs.ts Breakpoint): after step N, or at the end of epoch N. */
export const BreakpointSchema = z.object({ kind: z.enum(['step', 'epoch']), at: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

export const SubmitBody = z
  .object({
    name: z.string().min(1).max(200).optional(),
    config: TrainConfigSchema,
    dataset: z.object({ fingerprint: Fingerprint }),
    breakpoint: BreakpointSchema.optional(),
  })
  .superRefine((b, ctx) => {
    // An epoch breakpoint at or past the last epoch would never fire: refused as the app refuses it.
    const epochs = typeof b.config?.epochs === 'number' ? b.config.epochs : Number.POSITIVE_INFINITY;
    for (const message of validateBreakpoint(b.breakpoint ?? null, epochs)) ctx.addIssue({ code: 'custom', path: ['breakpoint'], message });
  });

export const SubmitReply = z.object({ job_id: z.string(), status_url: z.string(), result_url: z.string(), state: z.literal('queued') });

export const DatasetParams = z.object({ fingerprint: Fingerprint });
export const DatasetReply = z.object({ fingerprint: z.string(), bytes: z.number().int(), created: z.boolean() });

/** Lease length a runner may ask for, in ms. */
export const MIN_LEASE_MS = 2_000;
export const MAX_LEASE_MS = 600_000;

export const ClaimBody = z.object({
  device_id: Id,
  lease_ms: z.number().int().min(MIN_LEASE_MS).max(MAX_LEASE_MS).optional(),
});

export const ClaimReply = z.object({
  job_id: z.string(),
  generation: z.number().int(),
  lease_until: z.number().int(),
  lease_ms: z.number().int(),
  name: z.string().nullable(),
  config: z.record(z.string(), z.unknown()),
  dataset: z.object({ fingerprint: z.string(), url: z.string() }),
  checkpoint: z.object({ step: z.number().int(), url: z.string() }).nullable(),
  /** The submission's breakpoint; a runner resuming past it drops it. */
  breakpoint: BreakpointSchema.nullable(),
});

const Step = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Generation = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const RenewBody = z.object({ device_id: Id, generation: Generation, step: Step.optional(), lease_ms: ClaimBody.shape.lease_ms });
export const RenewReply = z.object({ lease_until: z.number().int(), cancel_requested: z.boolean(), pause_requested: z.boolean() });

export const CheckpointQuery = z.object({ device_id: Id, generation: z.coerce.number().pipe(Generation), step: z.coerce.number().pipe(Step) });
export const CheckpointReply = z.object({ job_id: z.string(), step: z.number().int(), sha256: z.string(), bytes: z.number().int() });

export const FinishBody = z.object({
  device_id: Id,
  generation: Generation,
  outcome: z.enum(['completed', 'failed', 'cancelled', 'paused']),
  step: Step,
  message: z.string().max(1000).optional(),
});
export const FinishReply = z.object({ job_id: z.string(), state: z.string() });

export const ControlReply = z.object({ job_id: z.string(), outcome: z.enum(['done', 'requested']), state: z.string() });

export const QueueInfoReply = z.object({
  dataset_fingerprint: z.string(),
  lease_device: z.string().nullable(),
  lease_until: z.number().int().nullable(),
  generation: z.number().int(),
  pause_requested: z.boolean(),
  checkpoint: z.object({ step: z.number().int(), sha256: z.string(), uploaded_at: z.number().int() }).nullable(),
  runs: z.array(
    z.object({
      generation: z.number().int(),
      device_id: z.string(),
      from_step: z.number().int(),
      to_step: z.number().int(),
      started_at: z.number().int(),
      ended_at: z.number().int().nullable(),
      end_reason: z.string().nullable(),
    }),
  ),
});
