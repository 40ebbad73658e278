import { DEFAULT_GOVERNANCE_TIMEOUT_MS } from '@orchestron/definitions';
import type { CompiledDefinition, CompiledStep, RetryPolicy } from '@orchestron/definitions';
import { assertNever } from './evolve.ts';
import type { Phase } from './messages.ts';
import type { RunData } from './state.ts';

/**
 * How often a worker should heartbeat an attempt, sent on its command: a third of the step's `heartbeatTimeout`, so
 * that two heartbeats may be lost or late before the attempt times out. Null when nothing watches for heartbeats:
 * the step has no `heartbeatTimeout`, or the attempt is a compensation (only a step's execution has that timer).
 */
export function heartbeatIntervalMs(definition: CompiledDefinition, stepId: string, phase: Phase): number | null {
  if (phase !== 'execute' || !Object.hasOwn(definition.steps, stepId)) return null;
  const timeout = definition.steps[stepId]?.heartbeatTimeoutMs ?? null;
  return timeout === null ? null : Math.max(1, Math.floor(timeout / HEARTBEATS_PER_TIMEOUT));
}

const HEARTBEATS_PER_TIMEOUT = 3;

export type JoinVerdict = 'wait' | 'ready' | 'unsatisfiable_failed' | 'unsatisfiable_skipped';

/**
 * Whether a step's needs satisfy its join. Operator-skipped steps count as successes (the operator supplied
 * their output); steps skipped by a condition count as neither, so `all_success` over a branch that was not
 * taken still proceeds.
 */
export function evaluateJoin(step: CompiledStep, s: RunData): JoinVerdict {
  if (step.needs.length === 0) return 'ready';
  let success = 0;
  let failed = 0;
  let open = 0;
  for (const need of step.needs) {
    const st = s.steps[need];
    if (!st) continue;
    if (st.status === 'completed' || (st.status === 'skipped' && st.skipKind === 'operator')) success++;
    else if (st.status === 'failed' || st.status === 'cancelled') failed++;
    else if (st.status !== 'skipped') open++;
  }
  const unsatisfiable: JoinVerdict = failed > 0 ? 'unsatisfiable_failed' : 'unsatisfiable_skipped';
  const atLeast = (threshold: number): JoinVerdict =>
    success >= threshold ? 'ready' : success + open >= threshold ? 'wait' : unsatisfiable;
  switch (step.join.kind) {
    case 'all_success':
      return failed > 0 ? 'unsatisfiable_failed' : open > 0 ? 'wait' : 'ready';
    case 'all_done':
      return open > 0 ? 'wait' : 'ready';
    case 'any_success':
      return atLeast(1);
    case 'majority':
      return atLeast(Math.floor(step.needs.length / 2) + 1);
    case 'quorum':
      return atLeast(step.join.n);
    default:
      return assertNever(step.join);
  }
}

/** A failure is absorbed only when every step that needs it tolerates failures; otherwise it fails the run. */
export function isFatalFailure(definition: CompiledDefinition, stepId: string): boolean {
  const dependents = dependentsOf(definition).get(stepId) ?? [];
  return dependents.length === 0 || dependents.some((d) => definition.steps[d]?.join.kind === 'all_success');
}

const dependentsCache = new WeakMap<CompiledDefinition, Map<string, string[]>>();
export function dependentsOf(definition: CompiledDefinition): Map<string, string[]> {
  let map = dependentsCache.get(definition);
  if (!map) {
    map = new Map(definition.order.map((id) => [id, [] as string[]]));
    for (const id of definition.order) for (const need of definition.steps[id]?.needs ?? []) map.get(need)?.push(id);
    dependentsCache.set(definition, map);
  }
  return map;
}

const downstreamCache = new WeakMap<CompiledDefinition, Map<string, Set<string>>>();
/** Every step that depends on `stepId`, directly or through others. */
export function downstreamOf(definition: CompiledDefinition, stepId: string): Set<string> {
  let map = downstreamCache.get(definition);
  if (!map) {
    map = new Map();
    const dependents = dependentsOf(definition);
    for (const id of [...definition.order].reverse()) {
      const set = new Set<string>();
      for (const d of dependents.get(id) ?? []) {
        set.add(d);
        for (const dd of map.get(d) ?? []) set.add(dd);
      }
      map.set(id, set);
    }
    downstreamCache.set(definition, map);
  }
  return map.get(stepId) ?? new Set();
}

/** Delay before attempt `failedAttempt + 1`; jitter comes from a hash of the attempt's identity, not a random source. */
export function backoffDelay(policy: RetryPolicy, failedAttempt: number, identity: string): number {
  const raw =
    policy.backoff === 'fixed' ? policy.initialDelayMs : policy.initialDelayMs * 2 ** Math.max(0, failedAttempt - 1);
  const capped = Math.min(raw, policy.maxDelayMs);
  const u = unitHash(identity);
  switch (policy.jitter) {
    case 'none':
      return Math.round(capped);
    case 'equal':
      return Math.round(capped / 2 + (capped / 2) * u);
    case 'full':
      return Math.round(capped * u);
    default:
      return assertNever(policy.jitter);
  }
}

/** FNV-1a over the string, mapped to [0, 1). */
export function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x1_0000_0000;
}

/** Runs pinned to a definition compiled before `governanceTimeout` existed get the default. */
export function governanceTimeoutOf(s: RunData, stepId: string): number {
  return s.definition.steps[stepId]?.governanceTimeoutMs ?? DEFAULT_GOVERNANCE_TIMEOUT_MS;
}
