import { inputDigest } from './digest.ts';
import type { Phase, Timer, TimerKind, WorkflowEvent } from './messages.ts';
import { DEFAULT_TENANT, isGoverned, isStarted, isTerminalStep, newStepState } from './state.ts';
import type { CompensationState, RunData, RunState, StepState } from './state.ts';

/** Folds one event into the state. Pure and total: an event that does not apply leaves the state as it was. */
export function evolve(state: RunState, event: WorkflowEvent): RunState {
  if (event.type === 'RunStarted') {
    if (isStarted(state)) return state;
    const d = event.data;
    const steps: Record<string, StepState> = {};
    for (const id of d.definition.order) steps[id] = newStepState(id);
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
      steps,
      compensations: {},
      timers: {},
      pausedFrom: null,
      attention: null,
      failure: null,
      version: 1,
    };
  }
  if (!isStarted(state)) return state;
  const next = apply(state, event);
  return { ...next, version: state.version + 1, updatedAt: 'at' in event.data ? event.data.at : next.updatedAt };
}

function apply(s: RunData, event: WorkflowEvent): RunData {
  switch (event.type) {
    case 'RunStarted':
      return s;
    case 'GovernanceCheckRequested':
      return step(dropKinds(s, event.data.stepId, 'execute', ['governance_timeout']), event.data.stepId, {
        status: 'waiting_governance',
        escalated: false,
        askedDigest: event.data.inputDigest ?? inputDigest(event.data.input),
      });
    case 'GovernanceDecided': {
      const { stepId, outcome, policyId, reason } = event.data;
      const cleared = dropKinds(s, stepId, 'execute', ['governance_timeout']);
      return step(cleared, stepId, {
        governance: { outcome, policyId, reason },
        escalated: false,
        status: outcome === 'allow' ? 'pending' : (s.steps[stepId]?.status ?? 'pending'),
      });
    }
    case 'ApprovalRequested':
      return step(s, event.data.stepId, { status: 'waiting_approval', approvalCause: event.data.cause });
    case 'StepApproved': {
      const current = s.steps[event.data.stepId];
      const cleared = step(dropTimers(s, event.data.stepId, 'execute', true), event.data.stepId, { escalated: false });
      if (current?.approvalCause !== 'governance') return cleared;
      // An approved governance gate goes back to pending; the reactor dispatches it.
      return step(cleared, event.data.stepId, {
        status: 'pending',
        governance: {
          outcome: 'approved',
          policyId: current.governance?.policyId ?? null,
          reason: event.data.reason ?? `approved by ${event.data.by}`,
        },
      });
    }
    case 'StepRejected':
      return step(dropTimers(s, event.data.stepId, 'execute', true), event.data.stepId, { escalated: false });
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
      return step(s, d.stepId, {
        status: 'running',
        attempt: d.attempt,
        input: d.input,
        inputOverride: undefined,
        dispatchedAt: d.at,
        startedAt: null,
        lastHeartbeatAt: null,
        retryAt: null,
        retryDue: false,
        error: null,
        held: null,
      });
    }
    case 'StepHeld': {
      const { stepId, attempt, phase, reason, worker, at } = event.data;
      // Disarmed, not paused: a release starts the attempt's clock again from the moment it can really go out.
      const disarmed = dropKinds(s, stepId, phase, ['attempt_timeout', 'heartbeat_timeout'], attempt);
      const held = { reason, worker, since: at };
      if (phase === 'compensate') return compensation(disarmed, stepId, { held });
      // As at CompensationStarted: an attempt that never reached a worker is dropped, not sent only to be undone.
      return s.phase === 'compensate'
        ? step(disarmed, stepId, { status: 'cancelled', held: null })
        : step(disarmed, stepId, { held });
    }
    case 'StepReleased':
      return event.data.phase === 'execute'
        ? step(s, event.data.stepId, { held: null })
        : compensation(s, event.data.stepId, { held: null });
    case 'StepStarted':
      return event.data.phase === 'execute'
        ? step(s, event.data.stepId, { startedAt: event.data.at, lastHeartbeatAt: event.data.at })
        : s;
    case 'StepHeartbeat':
      return event.data.phase === 'execute' ? step(s, event.data.stepId, { lastHeartbeatAt: event.data.at }) : s;
    case 'StepAttemptFailed': {
      const cleared = dropTimers(s, event.data.stepId, event.data.phase);
      return event.data.phase === 'execute'
        ? step(cleared, event.data.stepId, { error: event.data.error, held: null })
        : compensation(cleared, event.data.stepId, { error: event.data.error, held: null });
    }
    case 'StepRetryScheduled':
      return event.data.phase === 'execute'
        ? step(s, event.data.stepId, { status: 'retry_scheduled', retryAt: event.data.retryAt, retryDue: false })
        : compensation(s, event.data.stepId, { status: 'retry_scheduled', retryDue: false });
    case 'StepCompleted':
      return step(dropTimers(s, event.data.stepId, 'execute', true), event.data.stepId, {
        status: 'completed',
        output: event.data.output,
        finishedAt: event.data.at,
        error: null,
        held: null,
      });
    case 'StepFailed':
      return step(dropTimers(s, event.data.stepId, 'execute', true), event.data.stepId, {
        status: 'failed',
        error: event.data.error,
        finishedAt: event.data.at,
        held: null,
      });
    case 'StepSkipped':
      return step(dropTimers(s, event.data.stepId, 'execute', true), event.data.stepId, {
        status: 'skipped',
        skipKind: event.data.kind,
        output: event.data.output,
        finishedAt: event.data.at,
        held: null,
      });
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
    case 'TimerScheduled':
      return { ...s, timers: { ...s.timers, [event.data.timer.id]: event.data.timer } };
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
      const neverRan = (prior?.attempt ?? 0) === 0;
      // Governance allowed the input it saw: an operator's edited input for a side effect is checked again.
      const edited = d.input !== undefined && isGoverned(s, d.stepId);
      const askingAgain = prior?.status === 'waiting_governance';
      const gated =
        neverRan ||
        edited ||
        askingAgain ||
        s.definition.steps[d.stepId]?.type === 'approval' ||
        (prior?.governance !== null &&
          prior?.governance?.outcome !== 'allow' &&
          prior?.governance?.outcome !== 'approved');
      // Asking governance again must not lose the input an earlier operator retry edited, which it has not ruled on yet.
      const inputOverride = d.input === undefined && askingAgain ? prior.inputOverride : d.input;
      // A step that never ran, a gate, or a governance refusal goes through its join, condition and checks again.
      if (gated)
        return step(dropKinds(s, d.stepId, 'execute', ['governance_timeout']), d.stepId, {
          status: 'pending',
          governance: null,
          approvalCause: null,
          attemptBase: prior?.attempt ?? 0,
          inputOverride,
          error: null,
          finishedAt: null,
          escalated: false,
        });
      return step(s, d.stepId, {
        status: 'retry_scheduled',
        retryDue: true,
        attemptBase: prior?.attempt ?? 0,
        inputOverride: d.input,
        error: null,
        finishedAt: null,
      });
    }
    case 'RunPaused':
      return { ...s, status: 'paused', pausedFrom: s.status };
    case 'RunResumed':
      return { ...s, status: s.phase === 'compensate' ? 'compensating' : 'running', pausedFrom: null, attention: null };
    case 'RunNeedsOperator': {
      const told =
        event.data.stepId !== null && event.data.code === 'APPROVAL.TIMED_OUT'
          ? step(s, event.data.stepId, { escalated: true })
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
        ['pending', 'waiting_governance', 'waiting_approval', 'retry_scheduled'],
        true,
      );
    case 'RunCompleted':
      return { ...s, status: 'completed', timers: {} };
    case 'RunFailed':
      return {
        ...cancelWaiting(s, ['pending', 'waiting_governance', 'waiting_approval', 'retry_scheduled', 'running']),
        status: 'failed',
        failure: { stepId: event.data.stepId, error: event.data.error },
        timers: {},
      };
    case 'RunCompensated':
      return { ...s, status: 'compensated', timers: {} };
    case 'RunCancelled':
      return {
        ...cancelWaiting(s, ['pending', 'waiting_governance', 'waiting_approval', 'retry_scheduled', 'running']),
        status: 'cancelled',
        timers: {},
      };
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
        ? step(without, timer.stepId, { retryDue: true })
        : compensation(without, timer.stepId, { retryDue: true });
    case 'governance_timeout':
      return without.steps[timer.stepId]?.status === 'waiting_governance'
        ? step(without, timer.stepId, { escalated: true })
        : without;
    case 'attempt_timeout':
    case 'heartbeat_timeout':
    case 'approval_timeout':
      return without;
    default:
      return assertNever(timer.kind);
  }
}

function step(s: RunData, id: string, patch: Partial<StepState>): RunData {
  const current = s.steps[id];
  if (!current) return s;
  return { ...s, steps: { ...s.steps, [id]: { ...current, ...patch } } };
}

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

function dropTimers(s: RunData, stepId: string, phase: Phase, includeApproval = false): RunData {
  const timers: Record<string, Timer> = {};
  let dropped = false;
  for (const [id, timer] of Object.entries(s.timers)) {
    if (timer.stepId === stepId && timer.phase === phase && (includeApproval || timer.kind !== 'approval_timeout'))
      dropped = true;
    else timers[id] = timer;
  }
  return dropped ? { ...s, timers } : s;
}

/** Drops a step's timers of the given kinds in one phase (of one attempt, when given). */
function dropKinds(s: RunData, stepId: string, phase: Phase, kinds: readonly TimerKind[], attempt?: number): RunData {
  const timers: Record<string, Timer> = {};
  let dropped = false;
  for (const [id, timer] of Object.entries(s.timers)) {
    if (
      timer.stepId === stepId &&
      timer.phase === phase &&
      kinds.includes(timer.kind) &&
      (attempt === undefined || timer.attempt === attempt)
    )
      dropped = true;
    else timers[id] = timer;
  }
  return dropped ? { ...s, timers } : s;
}

function cancelWaiting(s: RunData, statuses: readonly StepState['status'][], held = false): RunData {
  const steps: Record<string, StepState> = {};
  const timers: Record<string, Timer> = {};
  for (const [id, st] of Object.entries(s.steps)) {
    const cancel = statuses.includes(st.status) || (held && st.status === 'running' && st.held !== null);
    steps[id] = cancel ? { ...st, status: 'cancelled', held: null } : st;
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
