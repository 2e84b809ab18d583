// The loop's cadence in the bench: always the app's defaults, so the checkpoint share measured is
// the one users get.
import { DEFAULT_SETTINGS } from '../../shared/settings';
import { MIN_EPOCH_CHECKPOINT_GAP_MS, PROGRESS_INTERVAL_MS } from '../session';
import type { Cadence } from './types';

export const CADENCE: Cadence = {
  checkpointIntervalMs: DEFAULT_SETTINGS.checkpointIntervalSec * 1000,
  minEpochCheckpointGapMs: MIN_EPOCH_CHECKPOINT_GAP_MS,
  progressIntervalMs: PROGRESS_INTERVAL_MS,
  historyEverySteps: DEFAULT_SETTINGS.historyEverySteps,
};
