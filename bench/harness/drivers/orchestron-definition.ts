// The Orchestron workflow definition of a workload shape: a chain s1 → … → sN, or f1 … fN in parallel then `join`.
import type { Shape } from '../types.ts';

export interface BenchDefinition {
  readonly id: string;
  readonly version: 1;
  readonly defaults: Record<string, unknown>;
  readonly steps: Record<string, { readonly worker: string; readonly needs?: readonly string[] }>;
}

export function definitionId(shape: Shape): string {
  return `benchh-${shape.kind}-${shape.width}-work-${shape.workMs}`;
}

/**
 * Retries are allowed (a step lost in a kill -9 comes back as a new attempt) with a short fixed delay, so a
 * crash costs what the recovery costs and not a backoff.
 */
export function orchestronDefinition(shape: Shape, worker: string): BenchDefinition {
  const steps: Record<string, { worker: string; needs?: string[] }> = {};
  if (shape.kind === 'chain')
    for (let i = 1; i <= shape.width; i++) steps[`s${i}`] = { worker, ...(i > 1 ? { needs: [`s${i - 1}`] } : {}) };
  else {
    for (let i = 1; i <= shape.width; i++) steps[`f${i}`] = { worker };
    steps.join = { worker, needs: Object.keys(steps) };
  }
  return {
    id: definitionId(shape),
    version: 1,
    defaults: { retry: { maxAttempts: 5, backoff: 'fixed', initialDelay: '200ms' }, timeout: '60s' },
    steps,
  };
}
