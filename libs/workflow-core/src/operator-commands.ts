/**
 * Operator commands: approve or reject a gate, pause, resume, retry, skip, compensate, cancel. One that does not
 * apply throws a DomainError with a stable code, saying why and what would.
 */
import { quoteForMessage, stepInputIssues } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import { DomainError, StepErrorCodes } from './errors.ts';
import type { Command, Phase, WorkflowEvent } from './messages.ts';
import { evaluateJoin } from './policies.ts';
import { failStep } from './event-builders.ts';
import { errorOf, isEscalated, isTerminalRun, isTerminalStep } from './state.ts';
import type { RunData } from './state.ts';

type Operator<T extends Command['type']> = Extract<Command, { type: T }>;

export function pause(s: RunData, command: Operator<'Pause'>, by: string, now: number): WorkflowEvent[] {
  requireActive(s);
  if (s.status !== 'running')
    throw new DomainError('RUN.NOT_RUNNING', `the run is ${s.status}; only a running run can be paused`, {
      status: s.status,
    });
  return [{ type: 'RunPaused', data: { by, reason: command.data.reason ?? null, at: now } }];
}

export function resume(s: RunData, command: Operator<'Resume'>, by: string, now: number): WorkflowEvent[] {
  requireActive(s);
  if (s.status !== 'paused')
    throw new DomainError('RUN.NOT_PAUSED', `the run is ${s.status}, not paused`, { status: s.status });
  return [{ type: 'RunResumed', data: { by, reason: command.data.reason ?? null, at: now } }];
}

export function compensate(s: RunData, command: Operator<'Compensate'>, by: string, now: number): WorkflowEvent[] {
  requireActive(s);
  if (s.phase === 'compensate')
    throw new DomainError('RUN.NOT_RUNNING', 'the run is already compensating', { status: s.status });
  // A held attempt never reached a worker, so it is dropped rather than undone.
  const undoable = s.definition.order.some(
    (id) =>
      (s.steps[id]?.status === 'completed' || (s.steps[id]?.status === 'running' && s.steps[id]?.held === null)) &&
      (s.definition.steps[id]?.compensate || s.definition.steps[id]?.type === 'workflow'),
  );
  if (!undoable)
    throw new DomainError('RUN.NOTHING_TO_COMPENSATE', 'no completed step of this run declares a compensation');
  return [{ type: 'CompensationStarted', data: { cause: command.data.reason ?? `requested by ${by}`, by, at: now } }];
}

export function cancel(s: RunData, command: Operator<'Cancel'>, by: string, now: number): WorkflowEvent[] {
  requireActive(s);
  return [{ type: 'RunCancelled', data: { by, reason: command.data.reason ?? null, at: now } }];
}

/** An operator's verdict on a gate: an approval step, a governance require_approval, or (reject only) a wait for governance. */
export function decideGate(
  s: RunData,
  command: Operator<'Approve' | 'Reject'>,
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

export function retryStep(
  s: RunData,
  stepId: string,
  input: unknown,
  by: string,
  reason: string | null,
  now: number,
): WorkflowEvent[] {
  const st = requireStep(s, stepId);
  requireActive(s);
  if (input !== undefined) requireStepInput(s.definition, stepId, input);
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
  const replaced = phase === 'compensate' ? s.compensations[stepId]?.input : st.input;
  return [
    {
      type: 'OperatorRetried',
      data: { stepId, phase, input, by, reason, at: now, ...(input !== undefined ? { replacedInput: replaced } : {}) },
    },
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

export function skipStep(
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
  const replaced = { status: st.status, error: errorOf(st) };
  return [
    { type: 'StepSkipped', data: { stepId, kind: 'operator', output, by, reason, at: now, replaced } },
    ...resumeIfNeeded(s, by, reason, now),
  ];
}

function resumeIfNeeded(s: RunData, by: string, reason: string | null, now: number): WorkflowEvent[] {
  return s.status === 'needs_operator' ? [{ type: 'RunResumed', data: { by, reason, at: now } }] : [];
}

/** Resumes a run that waits for an operator only because this step's gate (approval, governance, event) is overdue. */
export function resumeIfWaitingFor(
  s: RunData,
  stepId: string,
  by: string,
  reason: string | null,
  now: number,
): WorkflowEvent[] {
  const code = s.attention?.code;
  const escalated =
    (code === StepErrorCodes.approvalTimedOut ||
      code === StepErrorCodes.governanceUnavailable ||
      code === StepErrorCodes.eventTimedOut) &&
    s.attention?.stepId === stepId;
  return s.status === 'needs_operator' && escalated ? resumeIfNeeded(s, by, reason, now) : [];
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

/** An operator's edited input must fit the step's inputSchema, when it has one: refused with every problem otherwise. */
export function requireStepInput(definition: CompiledDefinition, stepId: string, input: unknown): void {
  const issues = stepInputIssues(definition, stepId, input);
  if (issues.length > 0)
    throw new DomainError(
      'RUN.INPUT_INVALID',
      `the input for step "${stepId}" does not match its inputSchema: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues, stepId },
    );
}
