/**
 * Why a command decided nothing. A message from the world that changes nothing is never dropped unexplained: it is
 * either a known no-op (`Ignore`: a duplicate, a late or stale report, which at-least-once delivery makes normal)
 * or about something the run does not have (`Reject`: an unknown run, step or attempt, which no delivery order
 * explains: the sender is wrong). The runtime logs the first at debug and dead-letters the second with its reason.
 */
import { quoteForMessage } from '@orchestron/definitions';
import type { DomainErrorCode } from './errors.ts';
import type { Phase } from './messages.ts';
import { attemptIsOut, isTerminalRun } from './state.ts';
import type { RunData } from './state.ts';

export type IgnoreReason =
  /** A start with the idempotency key of the run it already started. */
  | 'duplicate_start'
  /** A report or ruling that came after the run ended. */
  | 'run_ended'
  /** A report about an earlier attempt than the last one dispatched. */
  | 'attempt_superseded'
  /** A report about the last attempt after it ended (completed, failed, timed out, cancelled). */
  | 'attempt_settled'
  /** A repeated `step.started`, or a heartbeat no later than the last one. */
  | 'nothing_new'
  /** Governance ruled on another input than the one it was last asked about (an operator retried in between). */
  | 'ruling_stale'
  /** Governance ruled on a step that no longer waits for it. */
  | 'ruling_not_awaited'
  /** An event no step of the run waits for (it came late, twice, or for another key). */
  | 'no_waiter'
  /** A child run's outcome for a step that no longer waits for that child (or its compensation). */
  | 'child_moot'
  /** A timer that is no longer armed. */
  | 'timer_gone'
  /** A flow-control hold or release for an attempt that is not out, already held, or not held. */
  | 'hold_moot';

export type Unapplied =
  | { readonly type: 'Ignore'; readonly data: { readonly reason: IgnoreReason; readonly message: string } }
  | { readonly type: 'Reject'; readonly data: { readonly code: DomainErrorCode; readonly message: string } };

export const ignore = (reason: IgnoreReason, message: string): Unapplied => ({
  type: 'Ignore',
  data: { reason, message },
});

export const reject = (code: DomainErrorCode, message: string): Unapplied => ({
  type: 'Reject',
  data: { code, message },
});

export function isUnapplied<T>(handled: T[] | Unapplied): handled is Unapplied {
  return !Array.isArray(handled);
}

export const RUN_UNKNOWN = reject('RUN.NOT_FOUND', 'the run does not exist');

/**
 * Whether a worker's report about this attempt can change the run: null when the attempt is the one out, else
 * why not. A step the definition lacks, a step no worker runs, or an attempt never dispatched is rejected; an
 * attempt that is over (or a run that ended) is a late report, ignored.
 */
export function checkReport(s: RunData, stepId: string, attempt: number, phase: Phase): Unapplied | null {
  const unknown = checkTarget(s, stepId, attempt, phase);
  if (unknown !== null) return unknown;
  const what = `attempt ${attempt} of ${phaseName(phase)} ${quoteForMessage(stepId)}`;
  if (isTerminalRun(s.status)) return ignore('run_ended', `${what}: the run ended (${s.status})`);
  const last = lastAttempt(s, stepId, phase);
  if (attempt < last) return ignore('attempt_superseded', `${what} was superseded by attempt ${last}`);
  if (!attemptIsOut(s, stepId, attempt, phase))
    return ignore('attempt_settled', `${what} is over: it is ${statusOf(s, stepId, phase)}`);
  return null;
}

function checkTarget(s: RunData, stepId: string, attempt: number, phase: Phase): Unapplied | null {
  const step = Object.hasOwn(s.definition.steps, stepId) ? s.definition.steps[stepId] : undefined;
  const definition = `${quoteForMessage(s.definition.id)} v${s.definition.version}`;
  if (step === undefined)
    return reject('STEP.NOT_FOUND', `the run has no step ${quoteForMessage(stepId)} (definition ${definition})`);
  if (step.type !== 'task')
    return reject(
      'COMMAND.INVALID',
      `step ${quoteForMessage(stepId)} is ${step.type === 'workflow' ? 'a' : 'an'} ${step.type} step: no worker runs it`,
    );
  if (phase === 'compensate' && step.compensate === null)
    return reject('COMMAND.INVALID', `step ${quoteForMessage(stepId)} has no compensation (definition ${definition})`);
  const last = lastAttempt(s, stepId, phase);
  if (attempt > last)
    return reject(
      'COMMAND.INVALID',
      `attempt ${attempt} of ${phaseName(phase)} ${quoteForMessage(stepId)} was never dispatched (the last was ${last})`,
    );
  return null;
}

/** Whether governance's ruling is about a step it rules on at all; null when it is. */
export function checkRulingTarget(s: RunData, stepId: string, governed: boolean): Unapplied | null {
  if (!Object.hasOwn(s.definition.steps, stepId))
    return reject('STEP.NOT_FOUND', `the run has no step ${quoteForMessage(stepId)}`);
  if (!governed) return reject('COMMAND.INVALID', `governance does not rule on step ${quoteForMessage(stepId)}`);
  return null;
}

function lastAttempt(s: RunData, stepId: string, phase: Phase): number {
  const own = phase === 'execute' ? s.steps : s.compensations;
  return Object.hasOwn(own, stepId) ? (own[stepId]?.attempt ?? 0) : 0;
}

function statusOf(s: RunData, stepId: string, phase: Phase): string {
  const own = phase === 'execute' ? s.steps : s.compensations;
  return (Object.hasOwn(own, stepId) ? own[stepId]?.status : undefined) ?? 'not started';
}

const phaseName = (phase: Phase): string => (phase === 'execute' ? 'step' : 'the compensation of step');
