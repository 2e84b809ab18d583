// The page's PWA rules, without a browser: an update never reloads the page while a job runs, and
// a job notification appears only for a finish the user was away for, after they opted in.
import { describe, expect, it, vi } from 'vitest';
import type { JobRecord, JobState } from '../../shared/jobs';
import { JobsStore } from '../../src/lib/jobs.svelte';
import { JobNotifier, NOTIFY_STORAGE_KEY, type NotifyEnv } from '../../src/pwa/notify.svelte';
import { UpdateState } from '../../src/pwa/update.svelte';

describe('the update prompt', () => {
  it('does nothing until the user chooses Reload', () => {
    const state = new UpdateState();
    const apply = vi.fn();
    state.offer(apply);
    expect(state.phase).toBe('ready');
    state.jobRunningChanged(false);
    expect(apply).not.toHaveBeenCalled();
  });

  it('reloads at once when no job runs', () => {
    const state = new UpdateState();
    const apply = vi.fn();
    state.offer(apply);
    state.request(false);
    expect(apply).toHaveBeenCalledOnce();
    expect(state.phase).toBe('applying');
  });

  it('waits while a job runs and updates once it finishes', () => {
    const state = new UpdateState();
    const apply = vi.fn();
    state.offer(apply);
    state.request(true);
    expect(state.phase).toBe('deferred');
    state.jobRunningChanged(true);
    expect(apply).not.toHaveBeenCalled();
    state.jobRunningChanged(false);
    expect(apply).toHaveBeenCalledOnce();
  });

  it('offers a reload when another tab applied the update', () => {
    const state = new UpdateState();
    const reload = vi.fn();
    state.takenOverElsewhere(reload);
    expect(state).toMatchObject({ phase: 'ready', updatedElsewhere: true });
    state.request(true);
    expect(reload).not.toHaveBeenCalled();
    state.jobRunningChanged(false);
    expect(reload).toHaveBeenCalledOnce();
  });
});

function fakeEnv(over: Partial<NotifyEnv> = {}): NotifyEnv & { shown: string[]; store: Map<string, string> } {
  const store = new Map<string, string>();
  const shown: string[] = [];
  let permission: NotificationPermission = 'default';
  return {
    shown,
    store,
    permission: () => permission,
    requestPermission: async (): Promise<NotificationPermission> => (permission = 'granted'),
    hidden: () => true,
    show: async (title) => {
      shown.push(title);
    },
    storage: {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => store.set(k, v),
      removeItem: (k) => store.delete(k),
    },
    ...over,
  };
}

function job(state: JobState, name = 'XOR #1'): JobRecord {
  return { id: 'j1', name, state, error: state === 'failed' ? { message: 'NaN loss' } : null } as JobRecord;
}

describe('job notifications', () => {
  it('asks for permission only when the user turns them on, and remembers the choice', async () => {
    let granted: NotificationPermission = 'default';
    const requestPermission = vi.fn(async (): Promise<NotificationPermission> => (granted = 'granted'));
    const env = fakeEnv({ requestPermission, permission: () => granted });
    const notifier = new JobNotifier(env);
    expect(notifier.enabled).toBe(false);
    expect(requestPermission).not.toHaveBeenCalled();
    await notifier.setEnabled(true);
    expect(requestPermission).toHaveBeenCalledOnce();
    expect(notifier.enabled).toBe(true);
    expect(env.store.get(NOTIFY_STORAGE_KEY)).toBe('on');
    expect(new JobNotifier(env).enabled).toBe(true);
  });

  it('says so when the browser blocks them', async () => {
    const notifier = new JobNotifier(fakeEnv({ requestPermission: async (): Promise<NotificationPermission> => 'denied' }));
    await notifier.setEnabled(true);
    expect(notifier.enabled).toBe(false);
    expect(notifier.problem).toMatch(/blocked/);
  });

  it('announces a job that completes or fails while the tab is hidden, through the jobs store', async () => {
    const env = fakeEnv();
    const notifier = new JobNotifier(env);
    await notifier.setEnabled(true);
    const jobs = new JobsStore();
    jobs.onStateChange((c) => notifier.jobChanged(c));
    jobs.apply({ type: 'job', job: job('running') });
    jobs.apply({ type: 'job', job: job('completed') });
    jobs.apply({ type: 'job', job: { ...job('running', 'Iris'), id: 'j2' } });
    jobs.apply({ type: 'job', job: { ...job('failed', 'Iris'), id: 'j2' } });
    await Promise.resolve();
    expect(env.shown).toEqual(['XOR #1 finished', 'Iris failed']);
  });

  it('stays quiet while the tab is visible, when turned off, and for jobs first seen already finished', async () => {
    let hidden = false;
    const env = fakeEnv({ hidden: () => hidden });
    const notifier = new JobNotifier(env);
    await notifier.setEnabled(true);
    notifier.jobChanged({ job: job('completed'), from: 'running' });
    hidden = true;
    notifier.jobChanged({ job: job('completed'), from: null });
    notifier.jobChanged({ job: job('paused'), from: 'running' });
    await notifier.setEnabled(false);
    notifier.jobChanged({ job: job('completed'), from: 'running' });
    await Promise.resolve();
    expect(env.shown).toEqual([]);
  });
});
