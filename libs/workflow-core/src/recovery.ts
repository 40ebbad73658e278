import { effectsOf } from './effects.ts';
import type { Effect, SendData } from './effects.ts';
import { evolve } from './evolve.ts';
import type { WorkflowEvent } from './messages.ts';
import { attemptIsOut, heldOf, initialState, isStarted, isTerminalRun } from './state.ts';
import type { RunState } from './state.ts';
import type { Hold } from './step-state.ts';

/** What a runtime taking a run over must do again: attempts still out, and governance checks still unanswered. */
export interface Outstanding {
  readonly state: RunState;
  /** Attempts still out, each with the hold flow control put on it, if any (then it waits for a release, not a send). */
  readonly sends: readonly { readonly data: SendData; readonly held: Hold | null }[];
  /** Governance checks a step still waits for. */
  readonly asks: readonly Effect[];
  /** Event waits still open: the event may have been handed over by a process that died before the run took it. */
  readonly awaits: readonly Effect[];
  /**
   * Child runs still waited for (to end, or to compensate): the start or the request may not have happened, or the
   * child's report may have been lost; the runtime repeats them, and hands over the outcome of a child that ended.
   */
  readonly children: readonly Effect[];
}

/**
 * From a run's events alone: the attempts and checks whose effects may not have happened (the process that decided
 * them died, or the run moved to another instance). Doing them again is safe: workers drop what they have done,
 * by idempotency key, and a second ruling about the same input changes nothing.
 */
export function outstanding(events: readonly WorkflowEvent[]): Outstanding {
  let state: RunState = initialState();
  const lastSend = new Map<string, SendData>();
  const lastAsk = new Map<string, Effect>();
  const lastAwait = new Map<string, Effect>();
  const lastChild = new Map<string, Extract<Effect, { type: 'StartChild' | 'CompensateChild' }>>();
  for (const event of events) {
    state = evolve(state, event);
    for (const effect of effectsOf(event)) {
      if (effect.type === 'SendStep') lastSend.set(`${effect.data.phase}/${effect.data.stepId}`, effect.data);
      if (effect.type === 'AskGovernance') lastAsk.set(effect.data.stepId, effect);
      if (effect.type === 'AwaitEvent') lastAwait.set(effect.data.stepId, effect);
      if (effect.type === 'StartChild' || effect.type === 'CompensateChild') lastChild.set(effect.data.stepId, effect);
    }
  }
  if (!isStarted(state) || isTerminalRun(state.status)) return { state, sends: [], asks: [], awaits: [], children: [] };
  const run = state;
  const sends = [...lastSend.values()]
    .filter((data) => attemptIsOut(run, data.stepId, data.attempt, data.phase))
    .map((data) => {
      const held = data.phase === 'execute' ? heldOf(run.steps[data.stepId]) : run.compensations[data.stepId]?.held;
      return { data, held: held ?? null };
    });
  const asks = [...lastAsk.entries()]
    .filter(([stepId]) => run.steps[stepId]?.status === 'waiting_governance')
    .map(([, ask]) => ask);
  const awaits = [...lastAwait.entries()]
    .filter(([stepId]) => run.steps[stepId]?.status === 'waiting_event')
    .map(([, wait]) => wait);
  const children = [...lastChild.values()].filter((effect) =>
    effect.type === 'StartChild'
      ? run.steps[effect.data.stepId]?.status === 'waiting_child'
      : run.compensations[effect.data.stepId]?.status === 'running',
  );
  return { state, sends, asks, awaits, children };
}
