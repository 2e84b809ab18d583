// @ts-check
// A dedicated worker's memory, read over the Chrome DevTools Protocol: a CDP session on the page
// auto-attaches to its workers (non-flattened, so commands travel inside Target.sendMessageToTarget
// and Playwright's own flattened sessions are untouched), and Runtime.getHeapUsage is asked of the
// worker. Its `usedSize` is the worker's V8 heap in use (live objects and garbage not yet
// collected); `backingStorageSize` is the ArrayBuffer memory outside that heap (the typed column
// arrays), 0 where this Chromium does not report it.

/**
 * @typedef {object} WorkerMemory
 * @property {string} url the worker's script
 * @property {() => Promise<number>} collectGarbage a full GC in the worker, then its memory, in bytes
 * @property {() => Promise<{ heapBytes: number, backingBytes: number, totalBytes: number }>} read
 * @property {() => Promise<void>} close
 */

/**
 * Attaches to the page's first worker whose script URL matches `urlPattern`.
 * @param {import('@playwright/test').BrowserContext} context
 * @param {import('@playwright/test').Page} page
 * @param {RegExp} urlPattern
 * @param {number} [timeoutMs]
 * @returns {Promise<WorkerMemory>}
 */
export async function attachWorkerMemory(context, page, urlPattern, timeoutMs = 15_000) {
  const cdp = await context.newCDPSession(page);
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
  const pending = new Map();
  let nextId = 1;
  /** @type {{ sessionId: string, url: string } | null} */
  let target = null;
  /** @type {(() => void) | null} */
  let found = null;
  cdp.on('Target.attachedToTarget', (/** @type {any} */ e) => {
    if (!target && e.targetInfo.type === 'worker' && urlPattern.test(e.targetInfo.url)) {
      target = { sessionId: e.sessionId, url: e.targetInfo.url };
      found?.();
    }
  });
  cdp.on('Target.receivedMessageFromTarget', (/** @type {any} */ e) => {
    if (e.sessionId !== target?.sessionId) return;
    const msg = JSON.parse(e.message);
    const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`${msg.error.message} (${msg.error.code})`));
    else waiter.resolve(msg.result);
  });
  const ready = new Promise((resolve, reject) => {
    found = () => resolve(undefined);
    setTimeout(() => reject(new Error(`No worker matching ${urlPattern} attached within ${timeoutMs / 1000} s.`)), timeoutMs);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await ready;
  const t = /** @type {{ sessionId: string, url: string }} */ (/** @type {unknown} */ (target));
  /** @param {string} method @param {object} [params] @returns {Promise<any>} */
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      cdp.send('Target.sendMessageToTarget', { sessionId: t.sessionId, message: JSON.stringify({ id, method, params }) }).catch((err) => {
        pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  const read = async () => {
    const r = await send('Runtime.getHeapUsage');
    const heapBytes = r.usedSize;
    const backingBytes = r.backingStorageSize ?? 0;
    return { heapBytes, backingBytes, totalBytes: heapBytes + backingBytes };
  };
  return {
    url: t.url,
    read,
    async collectGarbage() {
      await send('HeapProfiler.collectGarbage');
      return (await read()).totalBytes;
    },
    close: () => cdp.detach().catch(() => undefined),
  };
}
