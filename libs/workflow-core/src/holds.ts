/**
 * Flow-control holds. The runtime keeps a circuit breaker and a concurrency limit per worker name; when it cannot
 * send a dispatched attempt it holds it, and releases it when it can. The decider records both, so a held attempt
 * does not time out while it waits, and so a restart knows what is held. Like worker reports, hold and release
 * commands that do not apply (an attempt not out, already held, not held) produce no events.
 */
import type { Command, LockClaim, Phase, WorkflowEvent } from './messages.ts';
import { locksField, renderLocks } from './step-locks.ts';
import { idempotencyKeyOf } from './event-builders.ts';
import { attemptIsOut, heldOf, stepAt } from './state.ts';
import type { Hold, RunData } from './state.ts';

type HoldData = Extract<Command, { type: 'HoldStep' }>['data'];
type ReleaseData = Extract<Command, { type: 'ReleaseStep' }>['data'];

export function hold(s: RunData, data: HoldData, now: number): WorkflowEvent[] {
  const { stepId, attempt, phase, reason, worker, locks } = data;
  if (!attemptIsOut(s, stepId, attempt, phase) || holdOf(s, stepId, phase) !== null) return [];
  // A worker that reported the attempt started has it: there is nothing left to hold back.
  if (phase === 'execute' && stepAt(s, stepId, 'running')?.startedAt !== null) return [];
  const waits = locks !== undefined && locks.length > 0 ? { locks } : {};
  return [{ type: 'StepHeld', data: { stepId, attempt, phase, reason, worker, ...waits, at: now } }];
}

export function release(s: RunData, data: ReleaseData, now: number): WorkflowEvent[] {
  const { stepId, attempt, phase } = data;
  if (!attemptIsOut(s, stepId, attempt, phase) || holdOf(s, stepId, phase) === null) return [];
  return released(s, stepId, attempt, phase, true, now);
}

/** A report from a held attempt shows a worker has it: the hold ends without the runtime sending it again. */
export function implicitRelease(
  s: RunData,
  stepId: string,
  attempt: number,
  phase: Phase,
  now: number,
): WorkflowEvent[] {
  return holdOf(s, stepId, phase) === null ? [] : released(s, stepId, attempt, phase, false, now);
}

/** The locks a released attempt takes (rendered as when it was dispatched: they read only settled steps). */
function locksOf(s: RunData, stepId: string): { locks?: readonly LockClaim[] } {
  const rendered = renderLocks(s, stepId);
  return rendered.ok ? locksField(rendered.value) : {};
}

function holdOf(s: RunData, stepId: string, phase: Phase): Hold | null {
  return phase === 'execute' ? heldOf(s.steps[stepId]) : (s.compensations[stepId]?.held ?? null);
}

/** The attempt's clock starts again from the release: the time it waited held was not the worker's. */
function released(
  s: RunData,
  stepId: string,
  attempt: number,
  phase: Phase,
  send: boolean,
  now: number,
): WorkflowEvent[] {
  const def = s.definition.steps[stepId];
  const target =
    phase === 'execute'
      ? {
          worker: def?.worker ?? '',
          action: def?.action ?? null,
          input: s.steps[stepId]?.input ?? null,
          timeoutMs: def?.timeoutMs ?? null,
        }
      : {
          worker: def?.compensate?.worker ?? '',
          action: def?.compensate?.action ?? null,
          input: s.compensations[stepId]?.input ?? null,
          timeoutMs: def?.compensate?.timeoutMs ?? null,
        };
  const timeoutAt = target.timeoutMs === null ? null : now + target.timeoutMs;
  // Folding it arms the attempt's fresh timeout (timerArmedBy): no TimerScheduled of its own.
  return [
    {
      type: 'StepReleased',
      data: {
        stepId,
        attempt,
        phase,
        worker: target.worker,
        action: target.action,
        input: target.input,
        idempotencyKey: idempotencyKeyOf(s.runId, stepId, phase, attempt),
        timeoutAt,
        ...locksOf(s, stepId),
        send,
        at: now,
      },
    },
  ];
}
