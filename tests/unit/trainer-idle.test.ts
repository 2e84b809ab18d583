// The trainer's idle gate (work that must not compete with training waits for it), on fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDLE_GRACE_MS, setTrainerBusy, whenTrainerIdle } from '../../workers/trainer-idle';

beforeEach(() => {
  vi.useFakeTimers();
  setTrainerBusy(false);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('trainer idle gate', () => {
  it('opens only after the trainer has not trained for the grace period, and a job started meanwhile keeps it shut', async () => {
    let open = false;
    void whenTrainerIdle().then(() => (open = true));
    // A job starts right after the probe, as it does in the app.
    setTrainerBusy(true);
    await vi.advanceTimersByTimeAsync(IDLE_GRACE_MS * 5);
    expect(open).toBe(false);
    setTrainerBusy(false);
    await vi.advanceTimersByTimeAsync(IDLE_GRACE_MS - 10);
    expect(open).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(open).toBe(true);
  });
});
