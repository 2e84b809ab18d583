// Arming a job's breakpoint in a session: converting it to a global step, and dropping one the
// resumed run has already passed (or one at or past the last step) with a notice saying why.
import { breakpointStep, describeBreakpoint, type Breakpoint } from '../shared/jobs';
import type { TrainingSession } from './session';

/**
 * Sets the session's breakpoint step from the job's breakpoint. One that a resumed run has
 * already passed, or that lies at or past the last step, is dropped with a notice saying why.
 */
export function armBreakpoint(session: TrainingSession, bp: Breakpoint | null): { breakpoint: Breakpoint | null; notice: string | null } {
  session.breakpointStep = null;
  if (!bp) return { breakpoint: null, notice: null };
  const target = breakpointStep(bp, session.stepsPerEpoch);
  if (target <= session.cursor.globalStep)
    return { breakpoint: null, notice: `The breakpoint at ${where(bp, target)} was already passed, so it was removed.` };
  if (target >= session.totalSteps)
    return { breakpoint: null, notice: `The breakpoint at ${where(bp, target)} is at or past the last step (${session.totalSteps}), so the job runs to the end.` };
  session.breakpointStep = target;
  return { breakpoint: bp, notice: null };
}

/** "step 40", or "the end of epoch 5 (step 30)". */
export function where(bp: Breakpoint, target: number): string {
  return bp.kind === 'step' ? describeBreakpoint(bp) : `${describeBreakpoint(bp)} (step ${target})`;
}
