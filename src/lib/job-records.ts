// Plain helpers over lists of job records, kept out of the reactive store so they stay testable.
import type { JobRecord } from '../../shared/jobs';

export function sortByCreation(jobs: JobRecord[]): JobRecord[] {
  return jobs.sort((a, b) => a.createdAt - b.createdAt);
}

/** Stored records plus ones that arrived by event meanwhile; the event copies are newer and win. */
export function mergeJobs(stored: readonly JobRecord[], live: readonly JobRecord[]): JobRecord[] {
  const liveById = new Map(live.map((j) => [j.id, j]));
  const storedIds = new Set(stored.map((j) => j.id));
  return sortByCreation([...stored.map((j) => liveById.get(j.id) ?? j), ...live.filter((j) => !storedIds.has(j.id))]);
}

/** A readable default name, e.g. "XOR · 8×8 tanh · adam", "Digits · CNN 16-32 at 28 px · adam". */
export function defaultJobName(datasetName: string, config: JobRecord['config']): string {
  const m = config.model;
  if (m.kind === 'cnn') return `${datasetName} · CNN ${m.blocks.map((b) => b.filters).join('-')} at ${m.imageSize} px · ${config.optimizer}`;
  if (m.kind === 'transfer') return `${datasetName} · MobileNetV2 + ${m.hidden} · ${config.optimizer}`;
  if (m.kind === 'transformer') return `${datasetName} · transformer ${m.blocks}×${m.dModel} (${m.heads} heads) over ${m.sequenceLength} chars · ${config.optimizer}`;
  if (m.kind === 'rnn') return `${datasetName} · ${m.layers}×${m.units} ${m.cell.toUpperCase()} over ${m.sequenceLength} chars · ${config.optimizer}`;
  const layers = m.hidden.map((l) => l.units).join('×') || 'no hidden layers';
  const activations = [...new Set(m.hidden.map((l) => l.activation))].join('/');
  return `${datasetName} · ${layers}${activations ? ` ${activations}` : ''} · ${config.optimizer}`;
}
