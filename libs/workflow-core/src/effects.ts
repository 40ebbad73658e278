import { assertNever } from './evolve.ts';
import { runOutput } from './child-runs.ts';
import type { ChildOutcome, Phase, WorkflowEvent } from './messages.ts';
import type { RunState, RunStatus } from './state.ts';
import { errorOf } from './step-state.ts';
import type { Unapplied } from './unapplied.ts';

type Dispatched = Extract<WorkflowEvent, { type: 'StepDispatched' }>['data'];

/** What a step command to a worker is made from. */
export type SendData = Pick<
  Dispatched,
  'stepId' | 'attempt' | 'phase' | 'worker' | 'action' | 'input' | 'idempotencyKey' | 'timeoutAt' | 'locks'
>;

/**
 * What a decision asks of the world, beside the events it records. A closed union: the runtime carries each out
 * and never looks at events to find work. Timers are not here: they are state (`RunData.timers`), and the runtime
 * arms exactly what the state holds, which is also all that recovery needs.
 */
export type Effect =
  /** Send a step command to its worker (flow control may hold it first). */
  | { readonly type: 'SendStep'; readonly data: SendData }
  /** Ask governance about a step's input before it runs. */
  | {
      readonly type: 'AskGovernance';
      readonly data: {
        readonly stepId: string;
        readonly worker: string;
        readonly action: string | null;
        readonly input: unknown;
        readonly inputDigest: string;
      };
    }
  /**
   * An event step began waiting: the runtime registers the wait where events are correlated, and hands it an event
   * that came early (buffered) or was already given to this wait. Safe to repeat: recovery repeats it. `since`
   * tells this wait from an earlier one of the same step (an operator's retry, a re-drive), which had its own event.
   */
  | {
      readonly type: 'AwaitEvent';
      readonly data: { readonly stepId: string; readonly event: string; readonly key: string; readonly since: number };
    }
  /**
   * A workflow step starts its child run, in this run's tenant, linked to this run and step. Idempotent by the
   * child's run id: recovery repeats it while the step waits, and then it hands over the outcome of a child that
   * has already ended.
   */
  | { readonly type: 'StartChild'; readonly data: StartChildData }
  /** The parent stopped waiting for a child still going, whose policy is `cancel`: cancel it. */
  | { readonly type: 'CancelChild'; readonly data: { readonly stepId: string; readonly childRunId: string } }
  /** The parent compensates a completed workflow step: the child run compensates (and reports back when it has). */
  | { readonly type: 'CompensateChild'; readonly data: { readonly stepId: string; readonly childRunId: string } }
  /** A child run ended: tell its parent's step (the parent ignores an outcome it no longer waits for). */
  | {
      readonly type: 'ReportToParent';
      readonly data: { readonly parentRunId: string } & ChildOutcome;
    }
  /** Tell people: an approval waits, or was escalated, or the run needs an operator. */
  | { readonly type: 'Notify'; readonly data: Notice }
  /** An attempt is no longer out: its flow-control slot is free, and whether it counts as the worker failing. */
  | {
      readonly type: 'AttemptSettled';
      readonly data: {
        readonly phase: Phase;
        readonly stepId: string;
        readonly attempt: number;
        readonly workerFailed: boolean;
      };
    }
  /**
   * A step with locks ended (or its compensation did, or the run): the lock table lets them go, and grants them to
   * the next waiters. Decided from the state before and after (step-locks.ts), so every way a step ends says so.
   */
  | { readonly type: 'ReleaseLocks'; readonly data: { readonly stepId: string; readonly phase: Phase } }
  /** The run is over: nothing of it may stay armed or held. */
  | { readonly type: 'RunEnded'; readonly data: { readonly status: RunStatus } };

type ChildRequested = Extract<WorkflowEvent, { type: 'ChildRunRequested' }>['data'];
export type StartChildData = Pick<
  ChildRequested,
  'stepId' | 'childRunId' | 'definitionId' | 'version' | 'input' | 'parentClosePolicy' | 'depth'
>;

export type Notice =
  | {
      readonly kind: 'approval_requested';
      readonly stepId: string;
      readonly assignees: readonly string[];
      readonly message: string;
    }
  /** `assignees`: whom the gate was escalated to. */
  | {
      readonly kind: 'approval_escalated';
      readonly stepId: string;
      readonly assignees: readonly string[];
      readonly message: string;
    }
  | {
      readonly kind: 'needs_operator';
      readonly stepId: string | null;
      readonly code: string;
      readonly message: string;
    };

export type EffectType = Effect['type'];

/**
 * A decision: the events to record, and then what to do. `unapplied` says why nothing was decided (exactly when
 * `events` is empty): a no-op to ignore, or a message about something the run does not have, to reject.
 */
export interface Decision {
  readonly events: WorkflowEvent[];
  readonly effects: Effect[];
  readonly unapplied: Unapplied | null;
  /** The state with `events` folded in, in their order (`fold(events, state)`), so a caller need not fold again. */
  readonly state: RunState;
}

/**
 * What each event of a decision asks of the world, stated once per event type (the switch is exhaustive: a new
 * event must say). Only the decider calls it, on the events it has just decided.
 */
export function effectsOf(event: WorkflowEvent): Effect[] {
  switch (event.type) {
    case 'StepDispatched':
      return [sendStep(event.data)];
    case 'StepReleased':
      return event.data.send ? [sendStep(event.data)] : [];
    case 'GovernanceCheckRequested': {
      const { stepId, worker, action, input } = event.data;
      return [
        { type: 'AskGovernance', data: { stepId, worker, action, input, inputDigest: event.data.inputDigest ?? '' } },
      ];
    }
    case 'EventWaitStarted': {
      const { stepId, event: name, key, at } = event.data;
      return [{ type: 'AwaitEvent', data: { stepId, event: name, key, since: at } }];
    }
    case 'ChildRunRequested': {
      const { stepId, childRunId, definitionId, version, input, parentClosePolicy, depth } = event.data;
      return [
        {
          type: 'StartChild',
          data: { stepId, childRunId, definitionId, version, input, parentClosePolicy, depth },
        },
      ];
    }
    case 'ChildRunClosed': {
      const { stepId, childRunId } = event.data;
      return event.data.policy === 'cancel' ? [{ type: 'CancelChild', data: { stepId, childRunId } }] : [];
    }
    case 'ChildCompensationRequested': {
      const { stepId, childRunId } = event.data;
      return [{ type: 'CompensateChild', data: { stepId, childRunId } }];
    }
    case 'ApprovalRequested':
      return [
        {
          type: 'Notify',
          data: {
            kind: 'approval_requested',
            stepId: event.data.stepId,
            assignees: event.data.assignees,
            message: event.data.message,
          },
        },
      ];
    case 'ApprovalEscalated':
      return [
        {
          type: 'Notify',
          data: {
            kind: 'approval_escalated',
            stepId: event.data.stepId,
            assignees: event.data.to,
            message: event.data.message,
          },
        },
      ];
    case 'RunNeedsOperator':
      return [
        {
          type: 'Notify',
          data: {
            kind: 'needs_operator',
            stepId: event.data.stepId,
            code: event.data.code,
            message: event.data.message,
          },
        },
      ];
    case 'StepCompleted':
      return [settled('execute', event.data.stepId, event.data.attempt, false)];
    case 'CompensationCompleted':
      return [settled('compensate', event.data.stepId, event.data.attempt, false)];
    // A business error comes from a worker that works: only retryable failures and timeouts count against it.
    case 'StepAttemptFailed':
      return [settled(event.data.phase, event.data.stepId, event.data.attempt, event.data.error.retryable)];
    case 'StepFailed':
      return [settled('execute', event.data.stepId, event.data.attempt, event.data.error.retryable)];
    case 'CompensationFailed':
      return [settled('compensate', event.data.stepId, event.data.attempt, event.data.error.retryable)];
    case 'RunCompleted':
      return [{ type: 'RunEnded', data: { status: 'completed' } }];
    case 'RunFailed':
      return [{ type: 'RunEnded', data: { status: 'failed' } }];
    case 'RunCompensated':
      return [{ type: 'RunEnded', data: { status: 'compensated' } }];
    case 'RunCancelled':
      return [{ type: 'RunEnded', data: { status: 'cancelled' } }];
    case 'RunStarted':
    case 'RunReset':
    case 'ChildRunEnded':
    case 'ExternalEventReceived':
    case 'EventWaitTimedOut':
    case 'GovernanceDecided':
    case 'StepApproved':
    case 'StepRejected':
    case 'StepHeld':
    case 'StepStarted':
    case 'StepHeartbeat':
    case 'StepRetryScheduled':
    case 'StepSkipped':
    case 'CompensationSkipped':
    case 'TimerScheduled':
    case 'TimerFired':
    case 'OperatorRetried':
    case 'RunPaused':
    case 'RunResumed':
    case 'CompensationStarted':
    case 'BudgetRaised':
      return [];
    default:
      return assertNever(event);
  }
}

function sendStep(d: SendData): Effect {
  const { stepId, attempt, phase, worker, action, input, idempotencyKey, timeoutAt, locks } = d;
  const data = { stepId, attempt, phase, worker, action, input, idempotencyKey, timeoutAt };
  return { type: 'SendStep', data: locks !== undefined ? { ...data, locks } : data };
}

function settled(phase: Phase, stepId: string, attempt: number, workerFailed: boolean): Effect {
  return { type: 'AttemptSettled', data: { phase, stepId, attempt, workerFailed } };
}

/**
 * A child run that ended in this decision tells its parent (from the state the decision leaves: the event that ends
 * a run does not carry its parent or its output). Recovery of the parent asks again, so a crash in between is safe.
 */
export function parentEffects(after: RunState, events: readonly WorkflowEvent[]): Effect[] {
  if (after.status === 'none' || after.parent === null || after.parent === undefined) return [];
  const end = events.find(
    (e) =>
      e.type === 'RunCompleted' || e.type === 'RunFailed' || e.type === 'RunCompensated' || e.type === 'RunCancelled',
  );
  if (end === undefined) return [];
  return [{ type: 'ReportToParent', data: { parentRunId: after.parent.runId, ...childOutcomeOf(after) } }];
}

/** What a child run that has ended tells its parent step (`stepId` and `childRunId` from its own link and id). */
export function childOutcomeOf(run: Exclude<RunState, { status: 'none' }>): ChildOutcome {
  const base = { stepId: run.parent?.stepId ?? '', childRunId: run.runId };
  switch (run.status) {
    case 'completed':
      return { ...base, status: 'completed', output: runOutput(run) };
    case 'failed':
    case 'compensated':
    case 'cancelled': {
      const culprit = run.definition.order.find((id) => run.steps[id]?.status === 'failed');
      const failure =
        run.failure?.error ?? errorOf(culprit === undefined ? undefined : run.steps[culprit]) ?? undefined;
      return { ...base, status: run.status, ...(failure ? { error: failure } : {}) };
    }
    default:
      throw new Error(`run ${run.runId} is ${run.status}, not ended`);
  }
}
