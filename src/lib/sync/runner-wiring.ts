// Builds the page's Runner from the app's parts (sync, jobs store, trainer client, scheduler, tab
// channel): what "idle" means, how a server job's local copy starts, and the runner's URL lease.
// Page only; imports the runner, its API and the app's own types.
import type { JobRecord } from '../../../shared/jobs';
import type { TabMessage } from '../../../shared/protocol';
import type { JobsStore } from '../jobs.svelte';
import type { Scheduler } from '../scheduler';
import { runnerLeaseFromUrl } from '../settings-rules';
import type { TrainerClient } from '../trainer-client';
import { RunnerApi } from './runner-api';
import { Runner } from './runner.svelte';
import type { Sync } from './sync.svelte';

export interface RunnerParts {
  sync: Sync;
  jobs: JobsStore;
  client: () => TrainerClient | null;
  scheduler: () => Scheduler | null;
  publish: (job: JobRecord) => void;
  post: (message: TabMessage) => void;
  /** The page URL's query (`?runnerLeaseMs=`). */
  search: string;
}

export function createRunner(p: RunnerParts): Runner {
  const scheduler = (): Scheduler => {
    const s = p.scheduler();
    if (!s) throw new Error('This tab does not train.');
    return s;
  };
  return new Runner({
    api: () => {
      const server = p.sync.api();
      return server ? new RunnerApi(server) : null;
    },
    deviceId: () => p.sync.settings.deviceId,
    client: p.client,
    job: (id) => p.jobs.jobs.find((j) => j.id === id) ?? null,
    // A server job's copy left queued (its tab reloaded before it started) waits for its runner, not this check.
    idle: () => p.jobs.running === null && !p.jobs.queue.some((j) => !j.serverJob),
    publish: p.publish,
    // A new copy is queued and starts in turn; an imported one is paused, and resuming queues it.
    start: async (jobId) => {
      if (p.jobs.jobs.find((j) => j.id === jobId)?.state === 'paused') await scheduler().command('resume', jobId);
      else await scheduler().submitted();
    },
    command: (command, jobId) => scheduler().command(command, jobId),
    leaseMs: runnerLeaseFromUrl(p.search),
    share: (status, activity) => p.post({ type: 'runner-status', status, activity }),
  });
}
