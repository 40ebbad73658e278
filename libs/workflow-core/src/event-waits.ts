/**
 * Event steps: a step that waits for a named event from outside, correlated by a key its `match` evaluates to
 * when it starts waiting. The payload of the event becomes its output; a timeout fails it, skips it, or tells an
 * operator. Correlation across runs (buffering an early event, dropping a duplicate) is the runtime's (see the
 * `AwaitEvent` effect); here a run only takes an event that its waiting steps match.
 */
import { evaluateExpression, formatDuration, quoteForMessage } from '@orchestron/definitions';
import type { CompiledStep } from '@orchestron/definitions';
import { StepErrorCodes } from './errors.ts';
import { context, expressionError, failStep, schedule, timerId } from './event-builders.ts';
import type { ExternalEventData, StepError, Timer, WorkflowEvent } from './messages.ts';
import { resumeIfWaitingFor } from './operator-commands.ts';
import { stepAt } from './state.ts';
import type { PendingStep, RunData, WaitingEventStep } from './state.ts';
import { ignore } from './unapplied.ts';
import type { Unapplied } from './unapplied.ts';

/** Longest key a `match` may evaluate to; the edge refuses longer keys on events too. */
export const MAX_EVENT_KEY = 512;

/** A pending event step whose join and condition hold: it evaluates its key and starts waiting. */
export function startWaiting(s: RunData, def: CompiledStep, st: PendingStep, now: number): WorkflowEvent[] {
  const wait = def.wait;
  if (wait === undefined) return [failStep(def.id, st.attempt, badKey('the step declares no event'), now)];
  let key: string;
  try {
    key = keyOf(evaluateExpression(wait.match, context(s)));
  } catch (error) {
    return [failStep(def.id, st.attempt, expressionError(error, 'match'), now)];
  }
  const timeoutAt = def.timeoutMs === null ? null : now + def.timeoutMs;
  const events: WorkflowEvent[] = [
    { type: 'EventWaitStarted', data: { stepId: def.id, event: wait.event, key, timeoutAt, at: now } },
  ];
  // The due time is in the id: an operator's retry waits afresh, and the timer of the wait before cannot end it.
  if (timeoutAt !== null)
    events.push(
      schedule({
        id: timerId('execute', def.id, st.attempt, `event@${timeoutAt}`),
        kind: 'event_timeout',
        stepId: def.id,
        attempt: st.attempt,
        phase: 'execute',
        dueAt: timeoutAt,
      }),
    );
  return events;
}

/** A key is text: a number or a boolean is taken as its text; anything else is a mistake in the definition. */
function keyOf(value: unknown): string {
  const key =
    typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : value;
  if (typeof key !== 'string')
    throw new Error(`must evaluate to a string, not ${JSON.stringify(value) ?? 'undefined'}`);
  if (key.length === 0) throw new Error('evaluated to an empty key');
  if (key.length > MAX_EVENT_KEY) throw new Error(`evaluated to a key longer than ${MAX_EVENT_KEY} characters`);
  return key;
}

function badKey(message: string): StepError {
  return { code: StepErrorCodes.expression, message: `match: ${message}`, retryable: false };
}

/** The steps of the run waiting for this event's name and key take it: its payload is their output. */
export function deliverEvent(s: RunData, event: ExternalEventData, now: number): WorkflowEvent[] | Unapplied {
  const { name, key, eventId, payload } = event;
  const waiting = s.definition.order
    .map((id) => stepAt(s, id, 'waiting_event'))
    .filter((st): st is WaitingEventStep => st !== undefined && st.event === name && st.key === key);
  if (waiting.length === 0)
    return ignore(
      'no_waiter',
      `no step of run ${quoteForMessage(s.runId)} waits for event ${quoteForMessage(name)} with key ${quoteForMessage(key)}`,
    );
  const received = waiting.flatMap((st): WorkflowEvent[] => [
    { type: 'ExternalEventReceived', data: { stepId: st.id, event: name, key, eventId, payload, at: now } },
    { type: 'StepCompleted', data: { stepId: st.id, attempt: st.attempt, output: payload, at: now } },
  ]);
  // A run an operator was told about because this wait timed out (onTimeout: escalate) goes on by itself.
  const resumed = waiting.flatMap((st) => resumeIfWaitingFor(s, st.id, 'system:events', 'its event came', now));
  return [...received, ...resumed.slice(0, 1)];
}

/** An event step's timeout fired: if it still waits for that wait's event, `onTimeout` says what follows. */
export function eventTimedOut(s: RunData, timer: Timer, fired: WorkflowEvent, now: number): WorkflowEvent[] {
  const st = stepAt(s, timer.stepId, 'waiting_event');
  const def = s.definition.steps[timer.stepId];
  if (st === undefined || def === undefined || st.timeoutAt !== timer.dueAt) return [fired];
  const after = def.timeoutMs === null ? '' : ` within ${formatDuration(def.timeoutMs)}`;
  const message = `event ${quoteForMessage(st.event)} with key ${quoteForMessage(st.key)} did not come${after}`;
  const timedOut: WorkflowEvent = {
    type: 'EventWaitTimedOut',
    data: { stepId: st.id, event: st.event, key: st.key, at: now },
  };
  switch (def.onTimeout) {
    case 'skip':
      return [
        fired,
        timedOut,
        {
          type: 'StepSkipped',
          data: { stepId: st.id, kind: 'timeout', output: null, by: null, reason: message, at: now },
        },
      ];
    case 'escalate':
      // The step goes on waiting: the event may still come, or an operator skips it with an output or retries it.
      return [
        fired,
        timedOut,
        { type: 'RunNeedsOperator', data: { code: StepErrorCodes.eventTimedOut, message, stepId: st.id, at: now } },
      ];
    case 'fail':
      return [
        fired,
        timedOut,
        failStep(st.id, st.attempt, { code: StepErrorCodes.eventTimedOut, message, retryable: false }, now),
      ];
    default:
      return assertNever(def.onTimeout);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled onTimeout: ${JSON.stringify(value)}`);
}
