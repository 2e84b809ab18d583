// @ts-check
// In-page instruments for the app UI benches, installed before any app script runs: clicks with
// their event time and next-paint time, every change of the job view's state and step, long
// tasks, Event Timing entries, and when the Train button first became enabled.

/**
 * Runs inside the page (Playwright `addInitScript`), so it must be self-contained.
 * Times are `performance.now()` values: ms since this document's navigation started.
 */
export function installProbes() {
  /** @type {any} */
  const w = window;
  const probes = {
    /** @type {{ testid: string | null, t: number, paintMs: number | null }[]} */
    clicks: [],
    /** @type {{ id: string | null, state: string | null, step: number, t: number }[]} */
    views: [],
    /** @type {{ start: number, duration: number }[]} */
    longTasks: [],
    /** @type {{ name: string, start: number, duration: number, interactionId: number }[]} */
    events: [],
    /** @type {number | null} */
    interactiveAt: null,
    /** When each job row was first seen in each state, keyed `${jobId}|${state}`. */
    /** @type {Record<string, number>} */
    rowStates: {},
    longTaskSupported: PerformanceObserver.supportedEntryTypes.includes('longtask'),
    eventTimingSupported: PerformanceObserver.supportedEntryTypes.includes('event'),
  };
  w.__benchProbes = probes;
  const observe = (/** @type {PerformanceObserverInit} */ init, /** @type {(e: any) => void} */ onEntry) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(onEntry)).observe(init);
    } catch {
      // Unsupported entry type: the *Supported flags above say so.
    }
  };
  observe({ type: 'longtask', buffered: true }, (e) => probes.longTasks.push({ start: e.startTime, duration: e.duration }));
  // `durationThreshold` is missing from TypeScript's PerformanceObserverInit.
  observe(/** @type {PerformanceObserverInit} */ ({ type: 'event', buffered: true, durationThreshold: 16 }), (e) =>
    probes.events.push({ name: e.name, start: e.startTime, duration: e.duration, interactionId: e.interactionId ?? 0 }),
  );
  document.addEventListener(
    'click',
    (ev) => {
      // A click anywhere in a job row (its badge, its progress bar) is a click on the row.
      const el = ev.target instanceof Element ? (ev.target.closest('[data-testid=job-row]') ?? ev.target.closest('[data-testid]')) : null;
      const click = { testid: el ? el.getAttribute('data-testid') : null, t: ev.timeStamp, paintMs: /** @type {number | null} */ (null) };
      probes.clicks.push(click);
      // rAF runs just before the next paint; a task posted from it runs just after that paint.
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          click.paintMs = performance.now() - click.t;
        };
        channel.port2.postMessage(null);
      });
    },
    true,
  );
  let last = '';
  const check = () => {
    const button = document.querySelector('[data-testid=train-button]');
    if (probes.interactiveAt === null && button instanceof HTMLButtonElement && !button.disabled) {
      probes.interactiveAt = performance.now();
    }
    for (const row of document.querySelectorAll('[data-testid=job-row]')) {
      const key = `${row.getAttribute('data-job-id')}|${row.getAttribute('data-state')}`;
      if (!(key in probes.rowStates)) probes.rowStates[key] = performance.now();
    }
    const view = document.querySelector('[data-testid=job-view]');
    if (!view) return;
    const snap = { id: view.getAttribute('data-job-id'), state: view.getAttribute('data-state'), step: Number(view.getAttribute('data-step') || NaN) };
    const key = `${snap.id}|${snap.state}|${snap.step}`;
    if (key === last) return;
    last = key;
    probes.views.push({ ...snap, t: performance.now() });
  };
  // The document node exists before any element does, so observing it sees the whole page.
  new MutationObserver(check).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-state', 'data-step', 'data-job-id', 'disabled'],
  });
}

/**
 * @param {import('@playwright/test').Page} page
 * @returns {Promise<{ clicks: { testid: string | null, t: number, paintMs: number | null }[], views: { id: string | null, state: string | null, step: number, t: number }[], longTasks: { start: number, duration: number }[], events: { name: string, start: number, duration: number, interactionId: number }[], interactiveAt: number | null, rowStates: Record<string, number>, longTaskSupported: boolean, eventTimingSupported: boolean }>}
 */
export function readProbes(page) {
  return page.evaluate(() => structuredClone(/** @type {any} */ (window).__benchProbes));
}

/** @param {import('@playwright/test').Page} page */
export function pageNow(page) {
  return page.evaluate(() => performance.now());
}

/**
 * The last click on `testid` and the first job-view change after it to `state` (and a step above
 * `minStep`, when given): the click-to-UI latency, in ms. Null when either is missing.
 * @param {Awaited<ReturnType<typeof readProbes>>} p
 * @param {string} testid
 * @param {string} state
 * @param {number} [minStep]
 */
export function clickToState(p, testid, state, minStep = -Infinity) {
  const click = p.clicks.filter((c) => c.testid === testid).at(-1);
  if (!click) return null;
  const seen = p.views.find((v) => v.t >= click.t && v.state === state && v.step > minStep);
  return seen ? seen.t - click.t : null;
}
