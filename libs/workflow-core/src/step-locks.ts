/**
 * Resource locks, on the run's side. A task step may declare `locks`; the names are templates, rendered from the
 * run when an attempt is sent (and when its compensation is), and carried on the attempt (`StepDispatched.locks`)
 * so the runtime takes them before it sends it. The step holds them from its first attempt until it ends (or its
 * compensation does): `lockEffects` tells the runtime when, by comparing the state before and after a decision, so
 * every way a step ends (a report, a timeout, a skip, a cancel, the run ending) releases the same way. The lock
 * table itself is lock-table.ts; a cycle of waits fails the youngest waiter's attempt (lock-waits.ts).
 */
import { MAX_LOCK_NAME, renderTemplate } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import type { Effect } from './effects.ts';
import { context, expressionError } from './event-builders.ts';
import type { LockClaim, Phase, StepError } from './messages.ts';
import { isStarted, isTerminalRun, TERMINAL_STEP_STATUSES } from './state.ts';
import type { RunData, RunState } from './state.ts';

export type RenderedLocks = { ok: true; value: readonly LockClaim[] } | { ok: false; error: StepError };

const NONE: RenderedLocks = { ok: true, value: [] };

/**
 * The step's locks with their names rendered, in declaration order; a name twice (two templates that render alike)
 * is taken once, exclusively if either asks so. Validation keeps the expressions to steps settled before the step
 * runs, so the names come out the same for every attempt and for the compensation.
 */
export function renderLocks(s: RunData, stepId: string): RenderedLocks {
  const declared = s.definition.steps[stepId]?.locks;
  if (declared === undefined || declared.length === 0) return NONE;
  const out: LockClaim[] = [];
  try {
    for (const [i, lock] of declared.entries()) {
      const name = renderTemplate(lock.name, context(s));
      const problem = nameProblem(name);
      if (problem !== null) throw new Error(`locks[${i}].name ${problem}`);
      const same = out.findIndex((l) => l.name === name);
      if (same < 0) out.push({ name: name as string, mode: lock.mode });
      else if (lock.mode === 'exclusive') out[same] = { name: name as string, mode: 'exclusive' };
    }
  } catch (error) {
    return { ok: false, error: expressionError(error, 'locks') };
  }
  return { ok: true, value: out };
}

function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `must render to a string, not ${kindOf(name)}`;
  if (name.length === 0) return 'rendered to an empty name';
  if (name.length > MAX_LOCK_NAME)
    return `rendered to a name of ${name.length} characters; the limit is ${MAX_LOCK_NAME}`;
  return null;
}

/**
 * A value that is not a name, as the step's error describes it. A list or map is named by its size, never echoed:
 * `${{ input.items }}` returns the run's input untouched (outside the expression budget), and a megabyte of it
 * would land in the run's stream with the failure.
 */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return `a list of length ${value.length}`;
  if (value !== null && typeof value === 'object') return `a map of size ${Object.keys(value).length}`;
  return String(value);
}

/** The `locks` field of an attempt's events and send: present only when there are some. */
export function locksField(locks: readonly LockClaim[]): { locks?: readonly LockClaim[] } {
  return locks.length > 0 ? { locks } : {};
}

/** Whether the step (in this phase) holds, or may hold, its locks: it has sent an attempt and has not ended. */
export function holdsLocks(s: RunState, stepId: string, phase: Phase): boolean {
  if (!isStarted(s) || isTerminalRun(s.status)) return false;
  if (phase === 'compensate') {
    const c = s.compensations[stepId];
    return c?.status === 'running' || c?.status === 'retry_scheduled';
  }
  const st = s.steps[stepId];
  return st !== undefined && st.attempt > 0 && !TERMINAL_STEP_STATUSES.includes(st.status);
}

/** Every step with locks that held them before the decision and no longer does: the runtime releases its locks. */
export function lockEffects(before: RunState, after: RunState): Effect[] {
  if (!isStarted(before) || !isStarted(after)) return [];
  // Called on every decision: a run whose definition takes no locks pays one cache lookup.
  const locked = stepsWithLocks(after.definition);
  if (locked.length === 0) return [];
  const effects: Effect[] = [];
  for (const stepId of locked)
    for (const phase of ['execute', 'compensate'] as const)
      if (holdsLocks(before, stepId, phase) && !holdsLocks(after, stepId, phase))
        effects.push({ type: 'ReleaseLocks', data: { stepId, phase } });
  return effects;
}

const lockedStepsCache = new WeakMap<CompiledDefinition, readonly string[]>();
/** The steps that declare locks, in the definition's key order (the order their releases come out in). */
function stepsWithLocks(definition: CompiledDefinition): readonly string[] {
  let ids = lockedStepsCache.get(definition);
  if (ids === undefined) {
    ids = Object.entries(definition.steps)
      .filter(([, def]) => def.locks !== undefined)
      .map(([id]) => id);
    lockedStepsCache.set(definition, ids);
  }
  return ids;
}
