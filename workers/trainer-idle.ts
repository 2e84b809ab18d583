// Whether the trainer worker is training right now, for work that should not compete with it:
// the background measurement of software GPUs (backend-probe.ts), whose shader compilation takes
// every core of a small machine for seconds. No imports; trainer-api.ts reports, others wait.

/** The trainer must have been idle this long before idle-time work starts, in ms. */
export const IDLE_GRACE_MS = 2000;

let busy = false;
let idleSince = 0;
let waiters: (() => void)[] = [];
let timer: ReturnType<typeof setTimeout> | null = null;

function schedule(): void {
  if (timer !== null || busy || waiters.length === 0) return;
  const wait = Math.max(0, idleSince + IDLE_GRACE_MS - Date.now());
  timer = setTimeout(() => {
    timer = null;
    if (busy) return;
    if (Date.now() - idleSince < IDLE_GRACE_MS) return schedule();
    const ready = waiters;
    waiters = [];
    ready.forEach((resolve) => resolve());
  }, wait);
}

/** trainer-api.ts: a run starts (true) or ends (false). */
export function setTrainerBusy(value: boolean): void {
  if (busy === value) return;
  busy = value;
  if (!busy) {
    idleSince = Date.now();
    schedule();
  }
}

/** Resolves once the trainer has not trained for IDLE_GRACE_MS (a job starting right away keeps it waiting). */
export function whenTrainerIdle(): Promise<void> {
  return new Promise((resolve) => {
    waiters.push(resolve);
    if (!busy) idleSince = Math.max(idleSince, Date.now());
    schedule();
  });
}
