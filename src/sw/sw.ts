// Lathe's service worker (built by vite-plugin-pwa, `injectManifest`): precaches the app shell, the
// training worker, tfjs's wasm binaries and the sample data, so a whole training run works offline;
// serves navigations from the cached index.html with the cross-origin isolation headers; receives
// files shared to the installed app; shows job notifications. Imports workbox modules only.
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, addPlugins } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import type { PrecacheEntry } from 'workbox-precaching';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (PrecacheEntry | string)[] };

/**
 * Share target contract (manifest `share_target`, POST multipart to /share-target):
 * - This worker stores each shared file in Cache Storage `lathe-shared-files` under
 *   `/shared-files/<timestamp>-<i>`, as a Response of the file's bytes with headers
 *   `X-File-Name` (the file name, encodeURIComponent-encoded) and `Content-Type`, then redirects
 *   (303) to `/?shared=1`.
 * - The page, on load with `?shared=1`, reads every entry of `lathe-shared-files`, imports each
 *   file, and deletes the entries it imported.
 */
export const SHARED_FILES_CACHE = 'lathe-shared-files';
const SHARE_TARGET_PATH = '/share-target';

/**
 * Sent with every response the worker serves from its cache, as scripts/static-server.mjs sends
 * them: without COOP/COEP the page would lose `crossOriginIsolated` when it loads offline.
 */
const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Navigations that must reach the network, not the app shell: the bench page, and files. */
const NAVIGATION_DENYLIST = [/^\/bench(\.html)?(\/|$)/, /\/[^/?]+\.[a-z0-9]+$/i];

/** The response with every isolation header it lacks; the same response when it has them all. */
function withIsolation(response: Response): Response {
  const missing = Object.entries(ISOLATION_HEADERS).filter(([name]) => !response.headers.has(name));
  if (missing.length === 0 || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of missing) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  // workbox-window's messageSkipWaiting(), sent when the user accepts the update prompt.
  const data: unknown = event.data;
  if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'SKIP_WAITING')
    void self.skipWaiting();
});

// The first install takes control of the open page, so the first visit is already offline-ready.
clientsClaim();
cleanupOutdatedCaches();
addPlugins([{ handlerWillRespond: async ({ response }) => withIsolation(response) }]);
precacheAndRoute(self.__WB_MANIFEST);
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: NAVIGATION_DENYLIST }));

async function receiveShare({ request }: { request: Request }): Promise<Response> {
  const form = await request.formData();
  const files = form.getAll('files').filter((f): f is File => f instanceof File);
  const cache = await caches.open(SHARED_FILES_CACHE);
  const stamp = Date.now();
  await Promise.all(
    files.map((file, i) =>
      cache.put(
        `/shared-files/${stamp}-${i}`,
        new Response(file, {
          headers: {
            'Content-Type': file.type || 'application/octet-stream',
            'X-File-Name': encodeURIComponent(file.name),
          },
        }),
      ),
    ),
  );
  return Response.redirect(new URL('/?shared=1', self.location.origin).href, 303);
}

registerRoute(({ url, request }) => url.pathname === SHARE_TARGET_PATH && request.method === 'POST', receiveShare, 'POST');

// A click on a job notification (src/pwa/notify.svelte.ts) brings a Lathe window forward.
self.addEventListener('notificationclick', (event: NotificationEvent) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows[0];
      if (open) await open.focus();
      else await self.clients.openWindow('/');
    })(),
  );
});
