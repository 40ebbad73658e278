export { decide } from './decide.ts';
export type { DecideOptions } from './decide.ts';
export type { StandingLookup, StandingVerdict } from './standing.ts';
export { inputDigest } from './digest.ts';
export { childOutcomeOf, effectsOf } from './effects.ts';
export { outstanding } from './recovery.ts';
export type { Outstanding } from './recovery.ts';
export type { Decision, Effect, EffectType, Notice, SendData, StartChildData } from './effects.ts';
export type { IgnoreReason, Unapplied } from './unapplied.ts';
export { evolve } from './evolve.ts';
export { gateAssignees } from './approval-escalation.ts';
export { forkOf } from './fork.ts';
export { MAX_EVENT_KEY } from './event-waits.ts';
export { childRunIdOf, childRunOf, MAX_CHILD_DEPTH } from './child-runs.ts';
export {
  attemptIsOut,
  DEFAULT_TENANT,
  errorOf,
  escalatedToOf,
  finishedAtOf,
  heldOf,
  initialState,
  inputOverrideOf,
  isEscalated,
  isGoverned,
  isStarted,
  isTerminalRun,
  isTerminalStep,
  outputOf,
  stepAt,
  stepIs,
  RUN_STATUSES,
  TERMINAL_RUN_STATUSES,
  TERMINAL_STEP_STATUSES,
} from './state.ts';
export type {
  CancelledStep,
  CompensationState,
  CompensationStatus,
  CompletedStep,
  FailedStep,
  ForkOrigin,
  GovernanceRuling,
  Hold,
  PendingStep,
  RetryScheduledStep,
  RunData,
  RunningStep,
  RunState,
  RunStatus,
  SkippedStep,
  StepIn,
  StepState,
  StepStatus,
  UsageTotals,
  WaitingApprovalStep,
  WaitingChildStep,
  WaitingEventStep,
  WaitingGovernanceStep,
} from './state.ts';
export { addUsage, BUDGET_EXCEEDED, NO_USAGE, overBudget, usageOf } from './usage.ts';
export type {
  Usage,
  Command,
  CommandMetadata,
  CommandType,
  ChildOutcome,
  ChildOutcomeStatus,
  ExternalEventData,
  ParentLink,
  ForkedStep,
  GovernanceDecisionCode,
  GovernanceOutcome,
  StandingRulingApplied,
  DispatchRuling,
  HoldReason,
  LockClaim,
  OperatorCommandType,
  Phase,
  RunFork,
  SkipKind,
  StepError,
  Timer,
  TimerKind,
  WorkflowEvent,
  WorkflowEventType,
} from './messages.ts';
export { DomainError, StepErrorCodes } from './errors.ts';
export type { DomainErrorCode } from './errors.ts';
export { backoffDelay, evaluateJoin, heartbeatIntervalMs } from './policies.ts';
export {
  admit,
  DEFAULT_FLOW_GATE,
  flowGateConfig,
  flowStateAt,
  initialFlowState,
  nextTokenAt,
  onAbandoned,
  onDispatched,
  onOutcome,
  tokensAt,
} from './flow-gate.ts';
export type { Admission, AttemptOutcome, BreakerState, FlowGateConfig, WorkerFlowState } from './flow-gate.ts';

import { decide } from './decide.ts';
import { evolve } from './evolve.ts';
import { initialState } from './state.ts';
import type { Command, WorkflowEvent } from './messages.ts';
import type { Decision } from './effects.ts';
import type { RunState } from './state.ts';

export interface Decider<S, C, E, D> {
  decide(command: C, state: S): D;
  evolve(state: S, event: E): S;
  initialState(): S;
}

export const workflowDecider: Decider<RunState, Command, WorkflowEvent, Decision> = { decide, evolve, initialState };

/** The state after folding `events` from the start: guarantee 9 (replay) is exactly this. */
export function fold(events: readonly WorkflowEvent[], from: RunState = initialState()): RunState {
  return events.reduce(evolve, from);
}
export {
  CATCH_UP_POLICIES,
  DEFAULT_MAX_CATCH_UP,
  evolveSchedule,
  fireKey,
  foldSchedule,
  initialScheduleState,
  LATE_AFTER_MS,
  MAX_CATCH_UP,
  OVERLAP_POLICIES,
} from './schedule.ts';
export type {
  CatchUpPolicy,
  LiveSchedule,
  OverlapPolicy,
  ScheduleCommand,
  ScheduleEvent,
  ScheduleEventType,
  ScheduleFire,
  ScheduleSpec,
  ScheduleState,
} from './schedule.ts';
export { decideSchedule, isDue, nextFireOf, specProblem } from './schedule-decide.ts';
export {
  compatible,
  evolveLockTable,
  holdsAll,
  initialLockTable,
  lockKey,
  ownerKey,
  releaseLocks,
  requestLocks,
} from './lock-table.ts';
export type { LockEntry, LockMode, LockOwner, LockTableEvent, LockTableState, OwnerEntry } from './lock-table.ts';
export { blockersOf, describeCycle, findCycle } from './lock-cycles.ts';
export type { CycleLink } from './lock-cycles.ts';
export { holdsLocks, renderLocks } from './step-locks.ts';
