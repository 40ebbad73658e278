import { quoteForMessage, runInputIssues } from '@orchestron/definitions';
import { effectsOf } from './effects.ts';
import type { Decision } from './effects.ts';
import { DomainError, StepErrorCodes } from './errors.ts';
import { evolve, assertNever } from './evolve.ts';
import type { Command, Phase, StepError, Timer, WorkflowEvent } from './messages.ts';
import { backoffDelay, evaluateJoin } from './policies.ts';
import { hold, implicitRelease, release } from './holds.ts';
import { failStep, react, schedule, timerId } from './react.ts';
import {
  attemptIsOut,
  DEFAULT_TENANT,
  errorOf,
  isEscalated,
  isStarted,
  isTerminalRun,
  isTerminalStep,
  stepAt,
} from './state.ts';
import type { RunData, RunState } from './state.ts';

const MAX_REACTIONS = 10_000;

/**
 * The workflow decider: the events a command causes, including everything the run then does on its own, and the
 * effects those ask of the world (see effects.ts). Pure: same state and command, same decision. Worker reports that
 * do not apply (duplicates, stale attempts, finished runs) decide nothing; operator commands that do not apply
 * throw a DomainError with a stable code.
 */
export function decide(command: Command, state: RunState): Decision {
  const events = decideEvents(command, state);
  return { events, effects: events.flatMap(effectsOf) };
}

function decideEvents(command: Command, state: RunState): WorkflowEvent[] {
  const primary = handle(command, state);
  if (primary.length === 0) return primary;
  const events = [...primary];
  let s = primary.reduce(evolve, state);
  for (let i = 0; isStarted(s); i++) {
    if (i > MAX_REACTIONS) throw new Error('decider did not settle: a reaction loop is a bug in workflow-core');
    const next = react(s, command.metadata.now);
    if (next.length === 0) break;
    events.push(...next);
    s = next.reduce(evolve, s);
  }
  return events;
}

function handle(command: Command, state: RunState): WorkflowEvent[] {
  const now = command.metadata.now;
  if (command.type === 'StartRun') return start(command, state);
  if (!isStarted(state)) {
    if (isReport(command)) return [];
    throw new DomainError('RUN.NOT_FOUND', 'the run does not exist');
  }
  const s = state;
  const by = command.metadata.actor ?? 'operator';
  switch (command.type) {
    case 'RecordStepStarted':
    case 'RecordStepHeartbeat': {
      const { stepId, attempt, phase } = command.data;
      if (!attemptIsOut(s, stepId, attempt, phase)) return [];
      // A worker that reports an attempt has it, whatever flow control thought: the hold ends, and its clock runs.
      const released = implicitRelease(s, stepId, attempt, phase, now);
      if (phase !== 'execute') return released;
      const st = stepAt(s, stepId, 'running');
      const hb = s.definition.steps[stepId]?.heartbeatTimeoutMs ?? null;
      if (st?.startedAt === null) {
        const events: WorkflowEvent[] = [
          ...released,
          { type: 'StepStarted', data: { stepId, attempt, phase, at: now } },
        ];
        if (hb !== null) events.push(schedule(heartbeatTimer(stepId, attempt, now + hb)));
        return events;
      }
      // A redelivered heartbeat (no later than the last one) tells nothing new.
      const fresh = st?.lastHeartbeatAt === null || st?.lastHeartbeatAt === undefined || now > st.lastHeartbeatAt;
      return command.type === 'RecordStepHeartbeat' && fresh
        ? [{ type: 'StepHeartbeat', data: { stepId, attempt, phase, at: now } }]
        : [];
    }
    case 'RecordStepCompleted': {
      const { stepId, attempt, phase, output } = command.data;
      if (!attemptIsOut(s, stepId, attempt, phase)) return [];
      return phase === 'execute'
        ? [{ type: 'StepCompleted', data: { stepId, attempt, output: output ?? null, at: now } }]
        : [{ type: 'CompensationCompleted', data: { stepId, attempt, output: output ?? null, at: now } }];
    }
    case 'RecordStepFailed': {
      const { stepId, attempt, phase, error } = command.data;
      if (!attemptIsOut(s, stepId, attempt, phase)) return [];
      return attemptFailed(s, stepId, attempt, phase, normaliseError(error), now);
    }
    case 'RecordGovernanceDecision': {
      const { stepId, inputDigest } = command.data;
      const step = s.steps[stepId];
      if (isTerminalRun(s.status) || step?.status !== 'waiting_governance') return [];
      // About another input than the one governance was last asked about (an operator retried with a new one).
      if (step.askedDigest !== inputDigest) return [];
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
    case 'FireTimer':
      return fireTimer(s, command.data.timerId, now);
    case 'HoldStep':
      return hold(s, command.data, now);
    case 'ReleaseStep':
      return release(s, command.data, now);
    case 'Approve':
    case 'Reject':
      return decideGate(s, command, by, now);
    case 'Pause':
      requireActive(s);
      if (s.status !== 'running')
        throw new DomainError('RUN.NOT_RUNNING', `the run is ${s.status}; only a running run can be paused`, {
          status: s.status,
        });
      return [{ type: 'RunPaused', data: { by, reason: command.data.reason ?? null, at: now } }];
    case 'Resume':
      requireActive(s);
      if (s.status !== 'paused')
        throw new DomainError('RUN.NOT_PAUSED', `the run is ${s.status}, not paused`, { status: s.status });
      return [{ type: 'RunResumed', data: { by, reason: command.data.reason ?? null, at: now } }];
    case 'RetryStep':
      return retryStep(s, command.data.stepId, command.data.input, by, command.data.reason ?? null, now);
    case 'SkipStep':
      return skipStep(s, command.data.stepId, command.data.output, by, command.data.reason ?? null, now);
    case 'Compensate': {
      requireActive(s);
      if (s.phase === 'compensate')
        throw new DomainError('RUN.NOT_RUNNING', 'the run is already compensating', { status: s.status });
      // A held attempt never reached a worker, so it is dropped rather than undone.
      const undoable = s.definition.order.some(
        (id) =>
          (s.steps[id]?.status === 'completed' || (s.steps[id]?.status === 'running' && s.steps[id]?.held === null)) &&
          s.definition.steps[id]?.compensate,
      );
      if (!undoable)
        throw new DomainError('RUN.NOTHING_TO_COMPENSATE', 'no completed step of this run declares a compensation');
      return [
        { type: 'CompensationStarted', data: { cause: command.data.reason ?? `requested by ${by}`, by, at: now } },
      ];
    }
    case 'Cancel':
      requireActive(s);
      return [{ type: 'RunCancelled', data: { by, reason: command.data.reason ?? null, at: now } }];
    default:
      return assertNever(command);
  }
}

/** An operator's verdict on a gate: an approval step, a governance require_approval, or (reject only) a wait for governance. */
function decideGate(
  s: RunData,
  command: Extract<Command, { type: 'Approve' | 'Reject' }>,
  by: string,
  now: number,
): WorkflowEvent[] {
  const { stepId } = command.data;
  const reason = command.data.reason ?? null;
  const st = requireStep(s, stepId);
  requireActive(s);
  // Rejecting a side effect governance has not ruled on is fail-closed; approving it would bypass policy.
  const rejectable = command.type === 'Reject' && st.status === 'waiting_governance';
  if (st.status !== 'waiting_approval' && !rejectable) {
    if (isTerminalStep(st.status))
      throw new DomainError('STEP.ALREADY_TERMINAL', `step "${stepId}" is already ${st.status}`, {
        stepId,
        status: st.status,
      });
    if (st.status === 'waiting_governance') {
      throw new DomainError(
        'STEP.NOT_AWAITING_APPROVAL',
        `step "${stepId}" is waiting for governance, not for approval, and an operator cannot approve past policy: retry it to ask governance again, skip it with an output, or reject it`,
        { stepId, status: st.status },
      );
    }
    throw new DomainError('STEP.NOT_AWAITING_APPROVAL', `step "${stepId}" is ${st.status}, not waiting for approval`, {
      stepId,
      status: st.status,
    });
  }
  const events: WorkflowEvent[] = [];
  if (command.type === 'Approve') {
    events.push({ type: 'StepApproved', data: { stepId, by, reason, at: now } });
    if (st.status === 'waiting_approval' && st.approvalCause === 'approval_step')
      events.push({
        type: 'StepCompleted',
        data: { stepId, attempt: st.attempt, output: { approved: true, by, reason }, at: now },
      });
  } else {
    events.push({ type: 'StepRejected', data: { stepId, by, reason, at: now } });
    const context = rejectable ? ' while it waited for governance' : '';
    events.push(
      failStep(
        stepId,
        st.attempt,
        {
          code: StepErrorCodes.approvalRejected,
          message: `rejected by ${by}${context}${reason ? `: ${reason}` : ''}`,
          retryable: false,
        },
        now,
      ),
    );
  }
  return [...events, ...resumeIfWaitingFor(s, stepId, by, reason, now)];
}

function start(command: Extract<Command, { type: 'StartRun' }>, state: RunState): WorkflowEvent[] {
  const { runId, definition, input, idempotencyKey, tenant, governEveryStep } = command.data;
  if (isStarted(state)) {
    if (idempotencyKey !== undefined && state.idempotencyKey === idempotencyKey) return [];
    throw new DomainError('RUN.ALREADY_EXISTS', `run ${runId} already exists`, { runId });
  }
  const issues = runInputIssues(definition, input);
  if (issues.length > 0)
    throw new DomainError(
      'RUN.INPUT_INVALID',
      `input does not match the schema of ${definition.id} v${definition.version}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );
  return [
    {
      type: 'RunStarted',
      data: {
        runId,
        definition,
        input: input ?? null,
        idempotencyKey: idempotencyKey ?? null,
        startedBy: command.metadata.actor ?? 'anonymous',
        at: command.metadata.now,
        ...(tenant !== undefined && tenant !== DEFAULT_TENANT ? { tenant } : {}),
        ...(governEveryStep === true ? { governEveryStep } : {}),
      },
    },
  ];
}

function fireTimer(s: RunData, id: string, now: number): WorkflowEvent[] {
  const timer = s.timers[id];
  if (!timer) return [];
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
    case 'governance_timeout':
      // Folding it marks the wait overdue; the reactor tells an operator once the run is running (not while paused).
      return [fired];
    default:
      return assertNever(timer.kind);
  }
}

function governanceDecided(
  s: RunData,
  data: Extract<Command, { type: 'RecordGovernanceDecision' }>['data'],
  now: number,
): WorkflowEvent[] {
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
function attemptFailed(
  s: RunData,
  stepId: string,
  attempt: number,
  phase: Phase,
  error: StepError,
  now: number,
): WorkflowEvent[] {
  const events: WorkflowEvent[] = [{ type: 'StepAttemptFailed', data: { stepId, attempt, phase, error, at: now } }];
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
    events.push({ type: 'StepRetryScheduled', data: { stepId, phase, nextAttempt: attempt + 1, retryAt } });
    events.push(
      schedule({
        id: timerId(phase, stepId, attempt + 1, 'retry'),
        kind: 'retry',
        stepId,
        attempt: attempt + 1,
        phase,
        dueAt: retryAt,
      }),
    );
    return events;
  }
  events.push(
    phase === 'execute'
      ? failStep(stepId, attempt, error, now)
      : { type: 'CompensationFailed', data: { stepId, attempt, error, at: now } },
  );
  return events;
}

function retryStep(
  s: RunData,
  stepId: string,
  input: unknown,
  by: string,
  reason: string | null,
  now: number,
): WorkflowEvent[] {
  const st = requireStep(s, stepId);
  requireActive(s);
  const comp = s.compensations[stepId];
  const phase: Phase = s.phase === 'compensate' && comp !== undefined ? 'compensate' : 'execute';
  const status = phase === 'compensate' ? comp?.status : st.status;
  if (phase === 'execute' && st.status === 'waiting_governance')
    return askGovernanceAgain(s, stepId, input, by, reason, now);
  if (status !== 'failed') {
    if (status === 'completed' || status === 'skipped' || status === 'cancelled')
      throw new DomainError('STEP.ALREADY_TERMINAL', `step "${stepId}" is already ${status}`, { stepId, status });
    throw new DomainError('STEP.NOT_FAILED', `step "${stepId}" is ${status}; only a failed step can be retried`, {
      stepId,
      status,
    });
  }
  if (phase === 'execute' && s.phase === 'compensate')
    throw new DomainError('STEP.NOT_RETRYABLE_NOW', 'the run is compensating; its steps can no longer be retried', {
      stepId,
    });
  const def = s.definition.steps[stepId];
  if (phase === 'execute' && def && st.attempt === 0) {
    // A retry that is bound to fail the same way at once is refused, so the operator picks what can help.
    if (evaluateJoin(def, s).startsWith('unsatisfiable'))
      throw new DomainError(
        'STEP.NOT_RETRYABLE_NOW',
        `the needs of "${stepId}" can no longer satisfy its join ${def.join.kind}; skip it instead`,
        { stepId },
      );
    if (
      (errorOf(st)?.code === StepErrorCodes.expression ||
        errorOf(st)?.code === StepErrorCodes.expressionBudgetExceeded) &&
      input === undefined
    )
      throw new DomainError(
        'STEP.NOT_RETRYABLE_NOW',
        `the input or condition of "${stepId}" failed to evaluate; retry with an edited input, or skip it`,
        { stepId },
      );
  }
  return [
    { type: 'OperatorRetried', data: { stepId, phase, input, by, reason, at: now } },
    ...resumeIfNeeded(s, by, reason, now),
  ];
}

/** Governance missed its deadline: the operator asks it again (the step still waits; nothing is dispatched). */
function askGovernanceAgain(
  s: RunData,
  stepId: string,
  input: unknown,
  by: string,
  reason: string | null,
  now: number,
): WorkflowEvent[] {
  const deadline = Object.values(s.timers).find((t) => t.kind === 'governance_timeout' && t.stepId === stepId);
  if (!isEscalated(s.steps[stepId])) {
    const until = deadline ? ` until ${new Date(deadline.dueAt).toISOString()}` : '';
    throw new DomainError(
      'STEP.NOT_RETRYABLE_NOW',
      `step "${stepId}" is waiting for governance${until}; it can be retried once governance has missed its deadline`,
      { stepId, status: 'waiting_governance', ...(deadline ? { deadline: deadline.dueAt } : {}) },
    );
  }
  // Governance may still rule on the request it has; with an edited input that ruling would be about other data.
  if (input !== undefined)
    throw new DomainError(
      'STEP.NOT_RETRYABLE_NOW',
      `step "${stepId}" is waiting for governance, which may still rule on the input it was sent: retry without an input to ask again, or reject or skip the step`,
      { stepId, field: 'input' },
    );
  return [
    { type: 'OperatorRetried', data: { stepId, phase: 'execute', input, by, reason, at: now } },
    ...resumeIfNeeded(s, by, reason, now),
  ];
}

function skipStep(
  s: RunData,
  stepId: string,
  output: unknown,
  by: string,
  reason: string | null,
  now: number,
): WorkflowEvent[] {
  const st = requireStep(s, stepId);
  requireActive(s);
  const comp = s.compensations[stepId];
  if (s.phase === 'compensate' && comp !== undefined) {
    if (comp.status === 'completed' || comp.status === 'skipped')
      throw new DomainError('STEP.ALREADY_TERMINAL', `the compensation of "${stepId}" is already ${comp.status}`, {
        stepId,
        status: comp.status,
      });
    return [
      { type: 'CompensationSkipped', data: { stepId, by, reason, at: now } },
      ...resumeIfNeeded(s, by, reason, now),
    ];
  }
  if (st.status === 'completed' || st.status === 'skipped' || st.status === 'cancelled')
    throw new DomainError('STEP.ALREADY_TERMINAL', `step "${stepId}" is already ${st.status}`, {
      stepId,
      status: st.status,
    });
  if (output === undefined)
    throw new DomainError('COMMAND.INVALID', 'skip needs the output the step would have produced (use null for none)', {
      field: 'output',
    });
  return [
    { type: 'StepSkipped', data: { stepId, kind: 'operator', output, by, reason, at: now } },
    ...resumeIfNeeded(s, by, reason, now),
  ];
}

function resumeIfNeeded(s: RunData, by: string, reason: string | null, now: number): WorkflowEvent[] {
  return s.status === 'needs_operator' ? [{ type: 'RunResumed', data: { by, reason, at: now } }] : [];
}

/** Resumes a run that waits for an operator only because this step's gate (approval or governance) is overdue. */
function resumeIfWaitingFor(
  s: RunData,
  stepId: string,
  by: string,
  reason: string | null,
  now: number,
): WorkflowEvent[] {
  const code = s.attention?.code;
  const escalated =
    (code === StepErrorCodes.approvalTimedOut || code === StepErrorCodes.governanceUnavailable) &&
    s.attention?.stepId === stepId;
  return s.status === 'needs_operator' && escalated ? resumeIfNeeded(s, by, reason, now) : [];
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

function requireStep(s: RunData, stepId: string) {
  const st = s.steps[stepId];
  if (!st)
    throw new DomainError(
      'STEP.NOT_FOUND',
      `step ${quoteForMessage(stepId)} is not in ${s.definition.id} v${s.definition.version}`,
      { stepId },
    );
  return st;
}

function requireActive(s: RunData): void {
  if (isTerminalRun(s.status))
    throw new DomainError('RUN.ALREADY_TERMINAL', `the run is already ${s.status}`, { status: s.status });
}

function isReport(command: Command): boolean {
  return (
    command.type.startsWith('Record') ||
    command.type === 'FireTimer' ||
    command.type === 'HoldStep' ||
    command.type === 'ReleaseStep'
  );
}

function normaliseError(error: StepError | undefined): StepError {
  return {
    code: typeof error?.code === 'string' && error.code ? error.code : 'STEP.FAILED',
    message: typeof error?.message === 'string' ? error.message : 'the step failed',
    retryable: error?.retryable !== false,
    ...(error?.details ? { details: error.details } : {}),
  };
}
