import { describe, expect, it } from 'vitest';
import { canTransition, emptyProgress, IllegalTransitionError, JOB_STATES, transition, type JobRecord } from '../../shared/jobs';
import { TEST_CONFIG } from './harness';

function job(state: JobRecord['state']): JobRecord {
  return {
    id: 'j1', name: 'j', state, datasetId: 'd', config: TEST_CONFIG, configHash: 'h', createdAt: 1, queuedAt: 1,
    startedAt: null, finishedAt: null, durationMs: 0, error: null, notice: null, progress: emptyProgress(4),
    history: [], backend: null, backendReason: null, checkpointStep: null, resumedFromStep: null, crashCount: 0,
  };
}

describe('job state machine', () => {
  it('a queued job can start, and a completed job can never change again', () => {
    expect(canTransition('queued', 'running')).toBe(true);
    for (const to of JOB_STATES) expect(canTransition('completed', to)).toBe(false);
  });

  it('refuses illegal transitions with a readable error', () => {
    expect(() => transition(job('completed'), 'running', 5)).toThrow(IllegalTransitionError);
    expect(() => transition(job('queued'), 'paused', 5)).toThrow('cannot go from "queued" to "paused"');
    expect(() => transition(job('interrupted'), 'running', 5)).toThrow(IllegalTransitionError);
  });

  it('cancelled, failed and interrupted jobs can be re-queued to resume from their checkpoint', () => {
    for (const s of ['cancelled', 'failed', 'interrupted'] as const) {
      const next = transition({ ...job(s), finishedAt: 9, error: { message: 'x' } }, 'queued', 20);
      expect(next).toMatchObject({ state: 'queued', queuedAt: 20, finishedAt: null, error: null });
    }
  });

  it('records startedAt once and finishedAt on terminal states', () => {
    const running = transition(job('queued'), 'running', 10);
    expect(running.startedAt).toBe(10);
    const paused = transition(running, 'paused', 20);
    const again = transition(paused, 'running', 30);
    expect(again.startedAt).toBe(10);
    expect(transition(again, 'completed', 40).finishedAt).toBe(40);
    expect(transition(again, 'paused', 40).finishedAt).toBeNull();
  });
});
