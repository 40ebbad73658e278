import { inputDigest } from './digest.ts';
import { timerArmedBy } from './event-builders.ts';
import type { Timer, WorkflowEvent } from './messages.ts';
import { originOf, startingSteps } from './fork.ts';
import { DEFAULT_TENANT, inputOverrideOf, isStarted, isTerminalStep } from './state.ts';
import type { CompensationState, RunData, RunState, StepState } from './state.ts';
import { reopen } from './run-reset.ts';
import { arm, dropKinds, dropTimers } from './timer-folds.ts';
import { countUsage, NO_USAGE } from './usage.ts';
import {
  escalated,
  gatedAgain,
  moveStep,
  moveStepIn,
  toCancelled,
  toCompleted,
  toFailed,
  toPending,
  toRetryScheduled,
  toRunning,
  toSkipped,
  toWaitingApproval,
  toWaitingChild,
  toWaitingEvent,
  toWaitingGovernance,
  unescalated,
  withHold,
} from './step-transitions.ts';

/** Folds one event into the state. Pure and total: an event that does not apply leaves the state as it was. */
export function evolve(state: RunState, event: WorkflowEvent): RunState {
  if (event.type === 'RunStarted') {
    if (isStarted(state)) return state;
    const d = event.data;
    return {
      status: 'running',
      phase: 'execute',
      runId: d.runId,
      definition: d.definition,
      input: d.input,
      idempotencyKey: d.idempotencyKey,
      startedBy: d.startedBy,
      tenant: d.tenant ?? DEFAULT_TENANT,
      governEveryStep: d.governEveryStep === true,
      startedAt: d.at,
      updatedAt: d.at,
      steps: startingSteps(d.definition, d.forkedFrom, d.at),
      compensations: {},
      timers: {},
      pausedFrom: null,
      attention: null,
      failure: null,
      forkedFrom: originOf(d.forkedFrom),
      parent: d.parent ?? null,
      usage: NO_USAGE,
      stepUsage: {},
      budget: d.budget ?? d.definition.budget ?? null,
      version: 1,
    };
  }
  if (!isStarted(state)) return state;
  const next = countUsage(arm(apply(state, event), timerArmedBy(event)), event);
  return { ...next, version: state.version + 1, updatedAt: 'at' in event.data ? event.data.at : next.updatedAt };
}

function apply(s: RunData, event: WorkflowEvent): RunData {
  switch (event.type) {
    case 'RunStarted':
      return s;
    case 'GovernanceCheckRequested': {
      const asked = event.data.inputDigest ?? inputDigest(event.data.input);
      return moveStep(dropKinds(s, event.data.stepId, 'execute', ['governance_timeout']), event.data.stepId, (st) =>
        toWaitingGovernance(st, asked),
      );
    }
    case 'GovernanceDecided': {
      const { stepId, outcome, policyId, reason } = event.data;
      const governance = { outcome, policyId, reason };
      const cleared = dropKinds(s, stepId, 'execute', ['governance_timeout']);
      return moveStep(cleared, stepId, (st) =>
        outcome === 'allow'
          ? toPending(st, { governance, inputOverride: inputOverrideOf(st) })
          : unescalated({ ...st, governance }),
      );
    }
    case 'ApprovalRequested':
      return moveStep(s, event.data.stepId, (st) => toWaitingApproval(st, event.data.cause));
    case 'ApprovalEscalated': {
      const to = event.data.to;
      return moveStepIn(s, event.data.stepId, ['waiting_approval'], (st) => ({ ...st, escalatedTo: to }));
    }
    case 'EventWaitStarted': {
      const { stepId, event: name, key, timeoutAt, at } = event.data;
      return moveStep(s, stepId, (st) => toWaitingEvent(st, { event: name, key, since: at, timeoutAt }));
    }
    // What changes the step (a completion, a failure, a skip, an operator told) is the event that follows these.
    case 'ExternalEventReceived':
    case 'EventWaitTimedOut':
    case 'ChildRunEnded':
    case 'ChildRunClosed':
      return s;
    case 'ChildRunRequested': {
      const { stepId, attempt, input, childRunId, at } = event.data;
      return moveStep(s, stepId, (st) => toWaitingChild(st, { attempt, input, childRunId, at }));
    }
    case 'ChildCompensationRequested': {
      const { stepId, attempt } = event.data;
      const prior = s.compensations[stepId];
      return compensation(s, stepId, {
        status: 'running',
        attempt,
        attemptBase: prior?.attemptBase ?? 0,
        inputOverride: undefined,
        input: null,
        retryDue: false,
        error: null,
        held: null,
      });
    }
    case 'StepApproved': {
      const { stepId, by, reason } = event.data;
      const cleared = dropTimers(s, stepId, 'execute', true);
      return moveStep(cleared, stepId, (st) =>
        // An approved governance gate goes back to pending; the reactor dispatches it.
        st.status === 'waiting_approval' && st.approvalCause === 'governance'
          ? toPending(st, {
              governance: {
                outcome: 'approved',
                policyId: st.governance?.policyId ?? null,
                reason: reason ?? `approved by ${by}`,
              },
              inputOverride: st.inputOverride,
            })
          : unescalated(st),
      );
    }
    case 'StepRejected':
      return moveStep(dropTimers(s, event.data.stepId, 'execute', true), event.data.stepId, unescalated);
    case 'StepDispatched': {
      const d = event.data;
      if (d.phase === 'compensate') {
        const prior = s.compensations[d.stepId];
        return compensation(s, d.stepId, {
          status: 'running',
          attempt: d.attempt,
          attemptBase: prior?.attemptBase ?? 0,
          inputOverride: undefined,
          input: d.input,
          retryDue: false,
          error: null,
          held: null,
        });
      }
      // A standing allow on the dispatch (ADR 43) is the step's governance, as its GovernanceDecided would have been.
      const ruling =
        d.ruling === undefined
          ? null
          : { outcome: 'allow' as const, policyId: d.ruling.policyId, reason: d.ruling.reason };
      return moveStep(s, d.stepId, (st) =>
        toRunning(ruling === null ? st : { ...st, governance: ruling }, d.attempt, d.input, d.at),
      );
    }
    case 'StepHeld': {
      const { stepId, attempt, phase, reason, worker, at, locks } = event.data;
      // Disarmed, not paused: a release starts the attempt's clock again from the moment it can really go out.
      const disarmed = dropKinds(s, stepId, phase, ['attempt_timeout', 'heartbeat_timeout'], attempt);
      const held = { reason, worker, since: at, ...(locks !== undefined ? { locks } : {}) };
      if (phase === 'compensate') return compensation(disarmed, stepId, { held });
      // As at CompensationStarted: an attempt that never reached a worker is dropped, not sent only to be undone.
      return s.phase === 'compensate'
        ? moveStep(disarmed, stepId, toCancelled)
        : moveStep(disarmed, stepId, (st) => withHold(st, held));
    }
    case 'StepReleased':
      return event.data.phase === 'execute'
        ? moveStep(s, event.data.stepId, (st) => withHold(st, null))
        : compensation(s, event.data.stepId, { held: null });
    case 'StepStarted': {
      const at = event.data.at;
      return event.data.phase === 'execute'
        ? moveStepIn(s, event.data.stepId, ['running'], (st) => ({ ...st, startedAt: at, lastHeartbeatAt: at }))
        : s;
    }
    case 'StepHeartbeat': {
      const at = event.data.at;
      return event.data.phase === 'execute'
        ? moveStepIn(s, event.data.stepId, ['running'], (st) => ({ ...st, lastHeartbeatAt: at }))
        : s;
    }
    case 'StepAttemptFailed': {
      const { stepId, phase, error } = event.data;
      const cleared = dropTimers(s, stepId, phase);
      return phase === 'execute'
        ? moveStepIn(cleared, stepId, ['running'], (st) => ({ ...st, error, held: null }))
        : compensation(cleared, stepId, { error, held: null });
    }
    case 'StepRetryScheduled': {
      const { stepId, retryAt } = event.data;
      return event.data.phase === 'execute'
        ? moveStep(s, stepId, (st) => toRetryScheduled(st, { by: 'timer', retryAt }))
        : compensation(s, stepId, { status: 'retry_scheduled', retryDue: false });
    }
    case 'StepCompleted': {
      const { stepId, output, at } = event.data;
      return moveStep(dropTimers(s, stepId, 'execute', true), stepId, (st) => toCompleted(st, output, at));
    }
    case 'StepFailed': {
      const { stepId, error, at } = event.data;
      return moveStep(dropTimers(s, stepId, 'execute', true), stepId, (st) => toFailed(st, error, at));
    }
    case 'StepSkipped': {
      const { stepId, kind, output, at } = event.data;
      return moveStep(dropTimers(s, stepId, 'execute', true), stepId, (st) => toSkipped(st, kind, output, at));
    }
    case 'CompensationCompleted':
      return compensation(dropTimers(s, event.data.stepId, 'compensate'), event.data.stepId, {
        status: 'completed',
        error: null,
        held: null,
      });
    case 'CompensationFailed':
      return compensation(dropTimers(s, event.data.stepId, 'compensate'), event.data.stepId, {
        status: 'failed',
        error: event.data.error,
        held: null,
      });
    case 'CompensationSkipped':
      return compensation(dropTimers(s, event.data.stepId, 'compensate'), event.data.stepId, {
        status: 'skipped',
        held: null,
      });
    // Its timer is armed by `arm` (see evolve), as the events that set a due time arm theirs.
    case 'TimerScheduled':
      return s;
    case 'TimerFired':
      return fired(s, event.data.timerId);
    case 'OperatorRetried': {
      const d = event.data;
      if (d.phase === 'compensate') {
        const prior = s.compensations[d.stepId];
        return compensation(s, d.stepId, {
          status: 'retry_scheduled',
          retryDue: true,
          attemptBase: prior?.attempt ?? 0,
          inputOverride: d.input,
          error: null,
        });
      }
      const prior = s.steps[d.stepId];
      if (!prior) return s;
      // A step that never ran, a gate, or a governance refusal goes through its join, condition and checks again.
      if (gatedAgain(s, prior, d.input)) {
        // Asking governance again must not lose the input an earlier operator retry edited, which it has not ruled on yet.
        const askingAgain = d.input === undefined && prior.status === 'waiting_governance';
        const inputOverride = askingAgain ? prior.inputOverride : d.input;
        return moveStep(dropKinds(s, d.stepId, 'execute', ['governance_timeout', 'event_timeout']), d.stepId, (st) =>
          toPending(st, { governance: null, inputOverride, attemptBase: prior.attempt }),
        );
      }
      return moveStep(s, d.stepId, (st) =>
        toRetryScheduled(st, { by: 'operator', inputOverride: d.input, attemptBase: prior.attempt }),
      );
    }
    case 'RunPaused':
      return { ...s, status: 'paused', pausedFrom: s.status };
    case 'RunResumed':
      return { ...s, status: s.phase === 'compensate' ? 'compensating' : 'running', pausedFrom: null, attention: null };
    case 'RunNeedsOperator': {
      const told =
        event.data.stepId !== null && event.data.code === 'APPROVAL.TIMED_OUT'
          ? moveStep(s, event.data.stepId, escalated)
          : s;
      return {
        ...told,
        status: 'needs_operator',
        attention: { code: event.data.code, message: event.data.message, stepId: event.data.stepId },
      };
    }
    case 'CompensationStarted':
      // A held attempt never reached a worker (the runtime holds only what it has not sent): nothing to wait for or undo.
      return cancelWaiting(
        { ...s, status: 'compensating', phase: 'compensate', attention: null },
        ['pending', 'waiting_governance', 'waiting_approval', 'waiting_event', 'waiting_child', 'retry_scheduled'],
        true,
      );
    case 'RunCompleted':
      return { ...s, status: 'completed', timers: {} };
    case 'RunFailed':
      return {
        ...cancelWaiting(s, STILL_OPEN),
        status: 'failed',
        failure: { stepId: event.data.stepId, error: event.data.error },
        timers: {},
      };
    case 'RunCompensated':
      return { ...s, status: 'compensated', timers: {} };
    case 'RunCancelled':
      return {
        ...cancelWaiting(s, STILL_OPEN),
        status: 'cancelled',
        timers: {},
      };
    case 'RunReset':
      return reopen(s, event.data);
    case 'BudgetRaised':
      return { ...s, budget: event.data.budget };
    default:
      return assertNever(event);
  }
}

function fired(s: RunData, timerId: string): RunData {
  const timer = s.timers[timerId];
  if (!timer) return s;
  const { [timerId]: _gone, ...timers } = s.timers;
  const without = { ...s, timers };
  switch (timer.kind) {
    case 'retry':
      return timer.phase === 'execute'
        ? moveStepIn(without, timer.stepId, ['retry_scheduled'], (st) => ({ ...st, retryDue: true }))
        : compensation(without, timer.stepId, { retryDue: true });
    case 'governance_timeout':
      return moveStepIn(without, timer.stepId, ['waiting_governance'], (st) => ({ ...st, escalated: true }));
    case 'attempt_timeout':
    case 'heartbeat_timeout':
    case 'approval_timeout':
    case 'event_timeout':
      return without;
    default:
      return assertNever(timer.kind);
  }
}

/** Every step not done when a run fails or is cancelled: it is cancelled with it. */
const STILL_OPEN: readonly StepState['status'][] = [
  'pending',
  'waiting_governance',
  'waiting_approval',
  'waiting_event',
  'waiting_child',
  'retry_scheduled',
  'running',
];

function compensation(s: RunData, id: string, patch: Partial<CompensationState>): RunData {
  const current: CompensationState = s.compensations[id] ?? {
    stepId: id,
    status: 'running',
    attempt: 0,
    attemptBase: 0,
    inputOverride: undefined,
    input: null,
    error: null,
    retryDue: false,
    held: null,
  };
  return { ...s, compensations: { ...s.compensations, [id]: { ...current, ...patch } } };
}

function cancelWaiting(s: RunData, statuses: readonly StepState['status'][], held = false): RunData {
  const steps: Record<string, StepState> = {};
  const timers: Record<string, Timer> = {};
  for (const [id, st] of Object.entries(s.steps)) {
    const cancel = statuses.includes(st.status) || (held && st.status === 'running' && st.held !== null);
    steps[id] = cancel ? toCancelled(st) : st;
  }
  for (const [id, timer] of Object.entries(s.timers))
    if (timer.phase === 'compensate' || steps[timer.stepId]?.status === 'running') timers[id] = timer;
  return { ...s, steps, timers };
}

export function assertNever(value: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(value)}`);
}

export function stepIsTerminal(s: RunData, id: string): boolean {
  const st = s.steps[id];
  return st !== undefined && isTerminalStep(st.status);
}
