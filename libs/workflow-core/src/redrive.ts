/**
 * Re-drive: an operator re-opens an ended run at a step, in the same stream (like Temporal's reset, but nothing is
 * discarded). That step, everything downstream of it, and every step the ending cut short run again; the outputs
 * upstream are kept. See docs/semantics.md#re-drive.
 */
import { quoteForMessage } from '@orchestron/definitions';
import { DomainError } from './errors.ts';
import { requireStepInput } from './operator-commands.ts';
import type { RunResetData, WorkflowEvent } from './messages.ts';
import { downstreamOf, isFatalFailure } from './policies.ts';
import type { RunData } from './state.ts';

export interface RedriveRequest {
  readonly stepId: string;
  /** The first step's input this time; undefined to render it from the definition again. */
  readonly input: unknown;
  readonly by: string;
  readonly reason: string | null;
}

type Redrivable = RunResetData['replaced']['status'];
const REDRIVABLE: readonly Redrivable[] = ['failed', 'compensated', 'cancelled'];

export function redrive(s: RunData, request: RedriveRequest, now: number): WorkflowEvent[] {
  const { stepId } = request;
  const def = s.definition.steps[stepId];
  if (def === undefined)
    throw new DomainError(
      'STEP.NOT_FOUND',
      `step ${quoteForMessage(stepId)} is not in ${s.definition.id} v${s.definition.version}`,
      { stepId },
    );
  if (request.input !== undefined && def.type !== 'task')
    throw new DomainError('COMMAND.INVALID', `step "${stepId}" is an approval gate; it takes no input`, {
      field: 'input',
    });
  if (request.input !== undefined) requireStepInput(s.definition, stepId, request.input);
  const status = redrivableStatus(s);
  const steps = stepsToRunAgain(s, stepId);
  refuseFailuresKept(s, stepId, steps);
  const first = s.steps[stepId];
  const reset: RunResetData = {
    fromStepId: stepId,
    steps,
    ...(request.input !== undefined ? { input: request.input } : {}),
    replaced: { status, failure: s.failure, input: first?.input ?? null },
    stillUndone: s.definition.order.filter((id) => !steps.includes(id) && s.compensations[id]?.status === 'completed'),
    by: request.by,
    reason: request.reason,
    at: now,
  };
  return [{ type: 'RunReset', data: reset }];
}

/** Only a run that has ended without completing; a completed one is forked, a moving one is acted on in place. */
function redrivableStatus(s: RunData): Redrivable {
  const status = REDRIVABLE.find((r) => r === s.status);
  if (status !== undefined) return status;
  if (s.status === 'completed')
    throw new DomainError(
      'RUN.NOT_REDRIVABLE',
      'the run completed; re-drive re-opens a failed, compensated or cancelled run (fork it to try another path)',
      { status: s.status },
    );
  throw new DomainError(
    'RUN.NOT_ENDED',
    `the run is ${s.status}; re-drive re-opens an ended run: retry, skip, resume or cancel this one instead`,
    { status: s.status },
  );
}

/** The step, everything downstream of it, and every step the ending cut short (cancelled), in definition order. */
function stepsToRunAgain(s: RunData, stepId: string): string[] {
  const downstream = downstreamOf(s.definition, stepId);
  return s.definition.order.filter((id) => id === stepId || downstream.has(id) || s.steps[id]?.status === 'cancelled');
}

/** A failure kept outside the re-driven steps would end the run again at once: name it, and what would help. */
function refuseFailuresKept(s: RunData, stepId: string, steps: readonly string[]): void {
  const kept = s.definition.order.filter(
    (id) => !steps.includes(id) && s.steps[id]?.status === 'failed' && isFatalFailure(s.definition, id),
  );
  if (kept.length === 0) return;
  throw new DomainError(
    'RUN.NOT_REDRIVABLE',
    `re-driving from "${stepId}" keeps the failure of ${kept.map((id) => `"${id}"`).join(', ')}, which would end the run again at once: re-drive from ${kept.length === 1 ? 'it' : 'the first of them'}`,
    { stepId, failed: kept },
  );
}
