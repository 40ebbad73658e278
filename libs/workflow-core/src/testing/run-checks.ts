/** The oracles of the decider's property tests, written from DESIGN.md rather than from the decider's code. */
import type { CompiledDefinition, CompiledStep } from '@orchestron/definitions';
import { fold, heldOf, isEscalated, isStarted, isTerminalRun, stepAt } from '../index.ts';
import type { Command, Phase, RunData, RunState, WorkflowEvent } from '../index.ts';

/**
 * A heartbeat timer fired before it is due puts itself back, unchanged: the runtime forgets a timer once it
 * has fired it and re-arms only from new events, so answering nothing would lose the deadline. Firing it
 * again then does the same, and leaves the state as it was. Nothing else may repeat.
 */
export function rearmsItself(command: Command, events: readonly WorkflowEvent[], s: RunState): boolean {
  if (command.type !== 'FireTimer' || events.length !== 2 || !isStarted(s)) return false;
  const [fired, scheduled] = events;
  const timer = s.timers[command.data.timerId];
  if (fired?.type !== 'TimerFired' || scheduled?.type !== 'TimerScheduled' || !timer) return false;
  if (!deepEqual(scheduled.data.timer, timer)) return false;
  const after = fold(events, s);
  return deepEqual({ ...after, version: 0, updatedAt: 0 }, { ...s, version: 0, updatedAt: 0 });
}

export const ENDINGS = new Set<WorkflowEvent['type']>(['RunCompleted', 'RunFailed', 'RunCompensated', 'RunCancelled']);

/** Whether a worker report or timer could matter: anything else must produce no events (guarantee 2). */
export function applies(command: Command, s: RunData): boolean {
  switch (command.type) {
    case 'RecordStepStarted':
    case 'RecordStepHeartbeat':
    case 'RecordStepCompleted':
    case 'RecordStepFailed': {
      const { stepId: id, attempt, phase } = command.data;
      const current = phase === 'execute' ? s.steps[id] : s.compensations[id];
      return current?.status === 'running' && current.attempt === attempt;
    }
    case 'RecordGovernanceDecision':
      return s.steps[command.data.stepId]?.status === 'waiting_governance';
    case 'FireTimer':
      return command.data.timerId in s.timers;
    case 'HoldStep':
    case 'ReleaseStep': {
      // The runtime holds an attempt it has not sent; a worker that started one has it already.
      const { stepId: id, attempt, phase } = command.data;
      const current = phase === 'execute' ? s.steps[id] : s.compensations[id];
      if (current?.status !== 'running' || current.attempt !== attempt) return false;
      if (command.type === 'ReleaseStep') return current.held !== null;
      return current.held === null && (phase === 'compensate' || stepAt(s, id, 'running')?.startedAt === null);
    }
    default:
      return true;
  }
}

/** A held attempt has no clock running (it would time out for the runtime's reasons, not the worker's). */
export function holdProblems(s: RunData): string[] {
  const problems: string[] = [];
  const held = [
    ...Object.values(s.steps)
      .filter((st) => heldOf(st) !== null)
      .map((st) => ({ id: st.id, status: st.status, attempt: st.attempt, phase: 'execute' as Phase })),
    ...Object.values(s.compensations)
      .filter((c) => c.held !== null)
      .map((c) => ({ id: c.stepId, status: c.status, attempt: c.attempt, phase: 'compensate' as Phase })),
  ];
  for (const h of held) {
    if (h.status !== 'running') problems.push(`${h.phase} ${h.id} is held although it is ${h.status}`);
    const armed = Object.values(s.timers).filter(
      (t) =>
        t.stepId === h.id &&
        t.phase === h.phase &&
        t.attempt === h.attempt &&
        (t.kind === 'attempt_timeout' || t.kind === 'heartbeat_timeout'),
    );
    if (armed.length > 0)
      problems.push(
        `held ${h.phase} attempt ${h.id}@${h.attempt} still has ${armed.map((t) => t.kind).join(',')} armed`,
      );
  }
  return problems;
}

export function assertNever(value: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(value)}`);
}

/** The join policies as DESIGN.md states them, written independently of `evaluateJoin`. */
export function joinSatisfied(def: CompiledStep, s: RunData): boolean {
  const statuses = def.needs.map((n) => s.steps[n]);
  const successes = statuses.filter(
    (st) => st?.status === 'completed' || (st?.status === 'skipped' && st.skipKind === 'operator'),
  ).length;
  const finished = statuses.every(
    (st) => st !== undefined && ['completed', 'failed', 'skipped', 'cancelled'].includes(st.status),
  );
  const failures = statuses.filter((st) => st?.status === 'failed' || st?.status === 'cancelled').length;
  switch (def.join.kind) {
    case 'all_success':
      return finished && failures === 0;
    case 'all_done':
      return finished;
    case 'any_success':
      return successes >= 1 || def.needs.length === 0;
    case 'majority':
      return successes > def.needs.length / 2;
    case 'quorum':
      return successes >= def.join.n;
    default:
      return assertNever(def.join);
  }
}

/** Every step that depends on each step, directly or through others. */
export function downstreamSets(def: CompiledDefinition): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const id of [...def.order].reverse()) {
    const set = new Set<string>();
    for (const other of def.order) {
      if (!def.steps[other]?.needs.includes(id)) continue;
      set.add(other);
      for (const further of result.get(other) ?? []) set.add(further);
    }
    result.set(id, set);
  }
  return result;
}

/** Structural equality that, like JSON, treats an undefined property as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Whatever the run waits for has a timer, or an operator has been told (guarantee 4: nothing is left stuck). */
export function missingDeadlines(s: RunData): string[] {
  if (isTerminalRun(s.status)) return [];
  const problems: string[] = [];
  const timers = Object.values(s.timers);
  const has = (stepId: string, phase: Phase, kind: string, attempt?: number) =>
    timers.some(
      (t) =>
        t.stepId === stepId && t.phase === phase && t.kind === kind && (attempt === undefined || t.attempt === attempt),
    );
  for (const st of Object.values(s.steps)) {
    // A held attempt waits for the runtime's release instead (the finisher plays the runtime and releases it).
    if (st.status === 'running' && st.held === null && !has(st.id, 'execute', 'attempt_timeout', st.attempt))
      problems.push(`${st.id} attempt ${st.attempt} runs without a timeout`);
    if (st.status === 'waiting_governance' && !st.escalated && !has(st.id, 'execute', 'governance_timeout'))
      problems.push(`${st.id} waits for governance without a deadline, and no operator was told`);
    if (st.status === 'retry_scheduled' && !st.retryDue && !has(st.id, 'execute', 'retry'))
      problems.push(`${st.id} waits for a retry that no timer will trigger`);
    const def = s.definition.steps[st.id];
    const escalated = s.attention?.stepId === st.id || isEscalated(st);
    if (
      st.status === 'waiting_approval' &&
      st.approvalCause === 'approval_step' &&
      def?.timeoutMs != null &&
      !escalated &&
      !has(st.id, 'execute', 'approval_timeout')
    ) {
      problems.push(`approval ${st.id} waits without its deadline, and no operator was told`);
    }
  }
  for (const c of Object.values(s.compensations)) {
    // A workflow step's compensation is its child run compensating, whose own steps have their timeouts.
    const child = s.definition.steps[c.stepId]?.type === 'workflow';
    if (
      c.status === 'running' &&
      c.held === null &&
      !child &&
      !has(c.stepId, 'compensate', 'attempt_timeout', c.attempt)
    )
      problems.push(`the compensation of ${c.stepId} runs without a timeout`);
    if (c.status === 'retry_scheduled' && !c.retryDue && !has(c.stepId, 'compensate', 'retry'))
      problems.push(`the compensation of ${c.stepId} waits for a retry that no timer will trigger`);
  }
  return problems;
}

/** The run ended exactly once, or waits for an operator; it is not stuck anywhere else. */
export function endingProblems(events: readonly WorkflowEvent[], final: RunState): string[] {
  const problems: string[] = [];
  const endings = events.filter((e) => ENDINGS.has(e.type));
  if (endings.length > 1)
    problems.push(`the run ended ${endings.length} times: ${endings.map((e) => e.type).join(',')}`);
  if (!isTerminalRun(final.status) && final.status !== 'needs_operator')
    problems.push(`the run is stuck in ${final.status}`);
  if (isTerminalRun(final.status) && endings.length !== 1)
    problems.push(`the run is ${final.status} without one ending event`);
  if (final.status === 'needs_operator' && endings.length !== 0)
    problems.push('the run waits for an operator after it ended');
  return problems;
}

/**
 * Compensations undo steps a worker (or a child run) completed and that declare one (or are workflow steps); a
 * compensated run undid all of them.
 */
export function compensationProblems(
  events: readonly WorkflowEvent[],
  final: RunState,
  definition: CompiledDefinition,
): string[] {
  const problems: string[] = [];
  const completedByWorker = new Set(events.flatMap((e) => (e.type === 'StepCompleted' ? [e.data.stepId] : [])));
  // A workflow step is undone by its child run compensating (ADR 32), whether or not it declares anything.
  const undoable = [...completedByWorker]
    .filter((id) => definition.steps[id]?.compensate || definition.steps[id]?.type === 'workflow')
    .sort();
  const undone = [
    ...new Set(
      events.flatMap((e) =>
        (e.type === 'StepDispatched' && e.data.phase === 'compensate') || e.type === 'ChildCompensationRequested'
          ? [e.data.stepId]
          : [],
      ),
    ),
  ].sort();
  for (const id of undone)
    if (!undoable.includes(id))
      problems.push(`${id} was compensated but never completed by a worker, or declares no compensation`);
  if (
    isStarted(final) &&
    final.phase === 'compensate' &&
    (final.status === 'compensated' || final.status === 'failed') &&
    undone.join() !== undoable.join()
  ) {
    problems.push(`the run ended ${final.status} having undone [${undone.join()}] of [${undoable.join()}]`);
  }
  const compensated = events.find((e) => e.type === 'RunCompensated');
  if (compensated?.type === 'RunCompensated') {
    const completed = [
      ...new Set(events.flatMap((e) => (e.type === 'CompensationCompleted' ? [e.data.stepId] : []))),
    ].sort();
    if ([...compensated.data.compensated].sort().join() !== completed.join())
      problems.push(
        `RunCompensated lists [${compensated.data.compensated.join()}], but [${completed.join()}] were undone`,
      );
  }
  return problems;
}

/** Replay (guarantee 9): the fold of the stream is deterministic and is the state the decider built. */
export function replayProblems(events: readonly WorkflowEvent[], built: RunState): string[] {
  const problems: string[] = [];
  const once = fold(events);
  if (!deepEqual(once, fold(events))) problems.push('folding the same events twice gave different states');
  if (!deepEqual(once, built)) problems.push('the fold of the stream differs from the state built command by command');
  if (once.version !== events.length) problems.push(`version ${once.version} after ${events.length} events`);
  return problems;
}
