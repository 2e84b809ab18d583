// Registers the service worker (dist/sw.js, built from src/sw/sw.ts) in production builds and
// turns its lifecycle into UpdateState calls. Never reloads by itself: UpdateState decides when.
// Imports workbox-window and src/pwa only.
import { Workbox } from 'workbox-window';
import { pwaUpdate, type UpdateState } from './update.svelte';

/** How often an open tab asks the server whether a new version exists, in ms. */
export const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;

let registration: Promise<ServiceWorkerRegistration | undefined> = Promise.resolve(undefined);

/** The active registration, or undefined in development or where service workers are missing. */
export function serviceWorkerRegistration(): Promise<ServiceWorkerRegistration | undefined> {
  return registration;
}

export function registerServiceWorker(state: UpdateState = pwaUpdate): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  const wb = new Workbox('/sw.js', { scope: '/' });
  let accepted = false;

  wb.addEventListener('waiting', () => {
    state.offer(() => {
      accepted = true;
      wb.addEventListener('controlling', () => window.location.reload());
      wb.messageSkipWaiting();
    });
  });
  wb.addEventListener('controlling', (event) => {
    // Another tab accepted the update: offer the reload here too, under the same rule.
    if (event.isUpdate && !accepted) state.takenOverElsewhere(() => window.location.reload());
  });

  registration = wb.register().catch((error: unknown) => {
    console.error('Lathe: the service worker did not register; offline use is off.', error);
    return undefined;
  });
  setInterval(() => {
    void wb.update().catch(() => undefined); // offline: try again next time
  }, UPDATE_CHECK_INTERVAL_MS);
}
