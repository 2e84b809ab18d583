// JobNotifier: shows a system notification when a job completes or fails while this tab is
// hidden. Opt-in: permission is asked only from a click (NotifyToggle). Notifications go through
// the service worker's registration when there is one (so a click focuses Lathe), else through
// `new Notification`. Imports src/ and shared/ types only.
import type { JobRecord, JobState } from '../../shared/jobs';
import type { StateChange } from '../lib/jobs.svelte';

/** localStorage key remembering that the user turned notifications on. */
export const NOTIFY_STORAGE_KEY = 'lathe.notify-on-finish';

/** The states a notification announces. */
const FINISHED: readonly JobState[] = ['completed', 'failed'];

/** What the notifier needs from the browser; tests pass fakes. */
export interface NotifyEnv {
  permission(): NotificationPermission | 'unsupported';
  requestPermission(): Promise<NotificationPermission>;
  hidden(): boolean;
  show(title: string, options: NotificationOptions): Promise<void>;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
}

/** Title and body for a finished job. Exported for tests. */
export function notificationFor(job: JobRecord): { title: string; options: NotificationOptions } {
  const failed = job.state === 'failed';
  return {
    title: failed ? `${job.name} failed` : `${job.name} finished`,
    options: {
      body: failed ? (job.error?.message ?? 'The job stopped with an error.') : 'Training completed.',
      // One notification per job and outcome, however many Lathe tabs saw the change.
      tag: `lathe-job-${job.id}-${job.state}`,
      icon: '/icons/icon-192.png',
    },
  };
}

export class JobNotifier {
  /** The user turned notifications on and the browser allows them. */
  enabled = $state(false);
  /** Why notifications are off although the user asked, in words; null when nothing is wrong. */
  problem: string | null = $state(null);
  readonly supported: boolean;

  #env: NotifyEnv;

  constructor(env: NotifyEnv = browserEnv()) {
    this.#env = env;
    this.supported = env.permission() !== 'unsupported';
    this.enabled = this.supported && env.permission() === 'granted' && env.storage?.getItem(NOTIFY_STORAGE_KEY) === 'on';
  }

  /** Turns notifications on (asking for permission: call it from a click) or off. */
  async setEnabled(on: boolean): Promise<void> {
    this.problem = null;
    if (!on) {
      this.enabled = false;
      this.#env.storage?.removeItem(NOTIFY_STORAGE_KEY);
      return;
    }
    if (!this.supported) {
      this.problem = 'This browser cannot show notifications.';
      return;
    }
    const permission =
      this.#env.permission() === 'granted' ? 'granted' : await this.#env.requestPermission().catch(() => 'denied' as const);
    if (permission !== 'granted') {
      this.enabled = false;
      this.problem = 'Notifications are blocked for Lathe in this browser’s site settings.';
      return;
    }
    this.enabled = true;
    this.#env.storage?.setItem(NOTIFY_STORAGE_KEY, 'on');
  }

  /** Feed it every job state change (JobsStore.onStateChange). */
  jobChanged(change: StateChange): void {
    const { job, from } = change;
    // `from === null` is a job this tab first hears of already finished: nothing new to announce.
    if (!this.enabled || from === null || from === job.state || !FINISHED.includes(job.state)) return;
    if (!this.#env.hidden() || this.#env.permission() !== 'granted') return;
    const { title, options } = notificationFor(job);
    void this.#env.show(title, options).catch((e: unknown) => console.error('Lathe: could not show a notification', e));
  }
}

function browserEnv(): NotifyEnv {
  const has = typeof Notification !== 'undefined';
  let storage: NotifyEnv['storage'] = null;
  try {
    storage = typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    storage = null; // storage blocked: the choice lasts for this page only
  }
  return {
    permission: () => (has ? Notification.permission : 'unsupported'),
    requestPermission: () => Notification.requestPermission(),
    hidden: () => document.visibilityState === 'hidden',
    show: async (title, options) => {
      const registration = await navigator.serviceWorker?.getRegistration();
      if (registration) await registration.showNotification(title, options);
      else new Notification(title, options);
    },
    storage,
  };
}
