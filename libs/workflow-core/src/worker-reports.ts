/**
 * Worker reports, governance's rulings and timers: what the world tells a run. A report that does not apply decides
 * nothing and says why (see unapplied.ts): a duplicate, a stale attempt or a finished run is ignored; an unknown
 * step or attempt is rejected. None of them throws.
 */
import { quoteForMessage } from '@orchestron/definitions';
import { escalateApproval } from './approval-escalation.ts';
import { StepErrorCodes } from './errors.ts';
import { eventTimedOut } from './event-waits.ts';
import { assertNever } from './evolve.ts';
import { implicitRelease } from './holds.ts';
import type { Command, Phase, StepError, Timer, Usage, WorkflowEvent } from './messages.ts';
import { resumeIfWaitingFor } from './operator-commands.ts';
import { backoffDelay } from './policies.ts';
import { failStep, schedule, timerId } from './event-builders.ts';
import { attemptIsOut, isGoverned, isTerminalRun, stepAt } from './state.ts';
import type { RunData } from './state.ts';
import { checkReport, checkRulingTarget, ignore } from './unapplied.ts';
import type { Unapplied } from './unapplied.ts';

type Report<T extends Command['type']> = Extract<Command, { type: T }>;

/** A worker has the attempt: the first report starts its clock (and its heartbeat deadline), later ones refresh it. */
export function recordStartedOrHeartbeat(
  s: RunData,
  command: Report<'RecordStepStarted' | 'RecordStepHeartbeat'>,
  now: number,
): WorkflowEvent[] | Unapplied {
  const { stepId, attempt, phase } = command.data;
  const off = checkReport(s, stepId, attempt, phase);
  if (off !== null) return off;
  // A worker that reports an attempt has it, whatever flow control thought: the hold ends, and its clock runs.
  const released = implicitRelease(s, stepId, attempt, phase, now);
  if (phase !== 'execute') return released.length > 0 ? released : nothingNew(command);
  const st = stepAt(s, stepId, 'running');
  const hb = s.definition.steps[stepId]?.heartbeatTimeoutMs ?? null;
  if (st?.startedAt === null) {
    const events: WorkflowEvent[] = [...released, { type: 'StepStarted', data: { stepId, attempt, phase, at: now } }];
    if (hb !== null) events.push(schedule(heartbeatTimer(stepId, attempt, now + hb)));
    return events;
  }
  // A redelivered heartbeat (no later than the last one) tells nothing new.
  const fresh = st?.lastHeartbeatAt === null || st?.lastHeartbeatAt === undefined || now > st.lastHeartbeatAt;
  return command.type === 'RecordStepHeartbeat' && fresh
    ? [{ type: 'StepHeartbeat', data: { stepId, attempt, phase, at: now } }]
    : nothingNew(command);
}

function nothingNew(command: Report<'RecordStepStarted' | 'RecordStepHeartbeat'>): Unapplied {
  const { stepId, attempt } = command.data;
  return ignore(
    'nothing_new',
    command.type === 'RecordStepStarted'
      ? `attempt ${attempt} of ${quoteForMessage(stepId)} had started already`
      : `a heartbeat of attempt ${attempt} of ${quoteForMessage(stepId)} no later than the last one`,
  );
}

export function recordCompleted(
  s: RunData,
  command: Report<'RecordStepCompleted'>,
  now: number,
): WorkflowEvent[] | Unapplied {
  const { stepId, attempt, phase, output, usage } = command.data;
  const off = checkReport(s, stepId, attempt, phase);
  if (off !== null) return off;
  const data = { stepId, attempt, output: output ?? null, ...(usage !== undefined ? { usage } : {}), at: now };
  return phase === 'execute' ? [{ type: 'StepCompleted', data }] : [{ type: 'CompensationCompleted', data }];
}

export function recordFailed(
  s: RunData,
  command: Report<'RecordStepFailed'>,
  now: number,
): WorkflowEvent[] | Unapplied {
  const { stepId, attempt, phase, error, usage } = command.data;
  const off = checkReport(s, stepId, attempt, phase);
  if (off !== null) return off;
  return attemptFailed(s, stepId, attempt, phase, normaliseError(error), now, usage);
}

/** Governance's ruling on the input it was last asked about; any other ruling is stale. */
export function recordGovernanceDecision(
  s: RunData,
  command: Report<'RecordGovernanceDecision'>,
  now: number,
): WorkflowEvent[] | Unapplied {
  const { stepId, inputDigest } = command.data;
  const off = checkRulingTarget(s, stepId, isGoverned(s, stepId));
  if (off !== null) return off;
  const step = s.steps[stepId];
  const what = `governance's ruling on ${quoteForMessage(stepId)}`;
  if (isTerminalRun(s.status)) return ignore('run_ended', `${what}: the run ended (${s.status})`);
  if (step?.status !== 'waiting_governance')
    return ignore('ruling_not_awaited', `${what}: the step no longer waits for it (${step?.status ?? 'unknown'})`);
  // About another input than the one governance was last asked about (an operator retried with a new one).
  if (step.askedDigest !== inputDigest)
    return ignore('ruling_stale', `${what} is about another input than the one it was last asked about`);
  // A ruling after the deadline still applies, and ends the wait the operator was told about.
  return [
    ...governanceDecided(s, command.data, now),
    ...resumeIfWaitingFor(
      s,
      stepId,
      command.metadata.actor ?? 'governance',
      `governance ruled ${command.data.outcome}`,
      now,
    ),
  ];
}

export function fireTimer(s: RunData, id: string, now: number): WorkflowEvent[] | Unapplied {
  const timer = Object.hasOwn(s.timers, id) ? s.timers[id] : undefined;
  if (!timer) return ignore('timer_gone', `timer ${quoteForMessage(id)} is no longer armed`);
  const fired: WorkflowEvent = { type: 'TimerFired', data: { timerId: id, at: now } };
  switch (timer.kind) {
    case 'retry':
      return [fired];
    case 'attempt_timeout':
      if (!attemptIsOut(s, timer.stepId, timer.attempt, timer.phase)) return [fired];
      return [
        fired,
        ...attemptFailed(
          s,
          timer.stepId,
          timer.attempt,
          timer.phase,
          { code: StepErrorCodes.timedOut, message: 'the attempt outlived its timeout', retryable: true },
          now,
        ),
      ];
    case 'heartbeat_timeout': {
      if (!attemptIsOut(s, timer.stepId, timer.attempt, timer.phase)) return [fired];
      const last = stepAt(s, timer.stepId, 'running')?.lastHeartbeatAt ?? 0;
      const hb = s.definition.steps[timer.stepId]?.heartbeatTimeoutMs ?? 0;
      if (last + hb > now) return [fired, schedule(heartbeatTimer(timer.stepId, timer.attempt, last + hb))];
      return [
        fired,
        ...attemptFailed(
          s,
          timer.stepId,
          timer.attempt,
          timer.phase,
          { code: StepErrorCodes.heartbeatTimedOut, message: `no heartbeat for ${hb}ms`, retryable: true },
          now,
        ),
      ];
    }
    case 'approval_timeout': {
      if (s.steps[timer.stepId]?.status !== 'waiting_approval') return [fired];
      const escalation = escalateApproval(s, timer, now);
      if (escalation.length > 0) return [fired, ...escalation];
      const def = s.definition.steps[timer.stepId];
      if (def?.onTimeout === 'fail')
        return [
          fired,
          failStep(
            timer.stepId,
            timer.attempt,
            { code: StepErrorCodes.approvalTimedOut, message: 'nobody approved in time', retryable: false },
            now,
          ),
        ];
      return [
        fired,
        {
          type: 'RunNeedsOperator',
          data: {
            code: StepErrorCodes.approvalTimedOut,
            message: `approval "${timer.stepId}" timed out`,
            stepId: timer.stepId,
            at: now,
          },
        },
      ];
    }
    case 'event_timeout':
      return eventTimedOut(s, timer, fired, now);
    case 'governance_timeout':
      // Folding it marks the wait overdue; the reactor tells an operator once the run is running (not while paused).
      return [fired];
    default:
      return assertNever(timer.kind);
  }
}

function governanceDecided(s: RunData, data: Report<'RecordGovernanceDecision'>['data'], now: number): WorkflowEvent[] {
  const { stepId, outcome, policyId, reason } = data;
  // A code means something only on a deny: an allow or a gate that says "unevaluable" is not one, and is not trusted as one.
  const code = outcome === 'deny' ? data.code : undefined;
  const decided: WorkflowEvent = {
    type: 'GovernanceDecided',
    data: { stepId, outcome, policyId, reason, ...(code === undefined ? {} : { code }), at: now },
  };
  switch (outcome) {
    case 'allow':
      return [decided];
    case 'deny':
      if (code === StepErrorCodes.governanceUnevaluable) {
        return [
          decided,
          failStep(
            stepId,
            s.steps[stepId]?.attempt ?? 0,
            {
              code,
              message: `governance could not evaluate the request, so the step did not run: ${reason}`,
              retryable: false,
              details: { reason },
            },
            now,
          ),
        ];
      }
      return [
        decided,
        failStep(
          stepId,
          s.steps[stepId]?.attempt ?? 0,
          {
            code: StepErrorCodes.governanceDenied,
            message: `denied by policy ${policyId ?? '(default)'}: ${reason}`,
            retryable: false,
            details: { policyId, reason },
          },
          now,
        ),
      ];
    case 'require_approval':
      return [
        decided,
        {
          type: 'ApprovalRequested',
          data: {
            stepId,
            cause: 'governance',
            assignees: [],
            message: `policy ${policyId ?? '(default)'} requires approval: ${reason}`,
            at: now,
          },
        },
      ];
    default:
      return assertNever(outcome);
  }
}

/** A failed attempt retries after backoff while its budget lasts and the error allows; otherwise the step or compensation fails. */
export function attemptFailed(
  s: RunData,
  stepId: string,
  attempt: number,
  phase: Phase,
  error: StepError,
  now: number,
  usage?: Usage,
): WorkflowEvent[] {
  const used = usage !== undefined ? { usage } : {};
  const events: WorkflowEvent[] = [
    { type: 'StepAttemptFailed', data: { stepId, attempt, phase, error, ...used, at: now } },
  ];
  const def = s.definition.steps[stepId];
  const policy = phase === 'execute' ? def?.retry : def?.compensate?.retry;
  const base = phase === 'execute' ? (s.steps[stepId]?.attemptBase ?? 0) : (s.compensations[stepId]?.attemptBase ?? 0);
  const draining = phase === 'execute' && s.phase === 'compensate';
  const retryable =
    error.retryable &&
    policy !== undefined &&
    !policy.nonRetryable.includes(error.code) &&
    attempt - base < policy.maxAttempts &&
    !draining;
  if (retryable && policy) {
    const retryAt = now + backoffDelay(policy, attempt - base, `${s.runId}/${stepId}/${phase}/${attempt}`);
    // Folding it arms the retry timer (timerArmedBy): no TimerScheduled of its own.
    events.push({ type: 'StepRetryScheduled', data: { stepId, phase, nextAttempt: attempt + 1, retryAt } });
    return events;
  }
  events.push(
    phase === 'execute'
      ? failStep(stepId, attempt, error, now)
      : { type: 'CompensationFailed', data: { stepId, attempt, error, at: now } },
  );
  return events;
}

function heartbeatTimer(stepId: string, attempt: number, dueAt: number): Timer {
  return {
    id: timerId('execute', stepId, attempt, `heartbeat@${dueAt}`),
    kind: 'heartbeat_timeout',
    stepId,
    attempt,
    phase: 'execute',
    dueAt,
  };
}

function normaliseError(error: StepError | undefined): StepError {
  return {
    code: typeof error?.code === 'string' && error.code ? error.code : 'STEP.FAILED',
    message: typeof error?.message === 'string' ? error.message : 'the step failed',
    retryable: error?.retryable !== false,
    ...(error?.details ? { details: error.details } : {}),
  };
}
