import type { AcceptedStart, RunView } from '@orchestron/runtime';

export interface NextAction {
  readonly action: string;
  readonly method: 'GET' | 'POST';
  readonly endpoint: string;
  readonly description: string;
  readonly body?: Readonly<Record<string, unknown>>;
}

/** Machine-readable guidance on every response: whether to retry, and what can be done next. */
export interface AgentContract {
  readonly retryable: boolean;
  readonly next_actions: readonly NextAction[];
}

/** What an agent writes in place of a placeholder: every `<…>` string in a body is one. */
export const REASON_PLACEHOLDER = '<why>';

const action = (runId: string, name: string, description: string, body?: Record<string, unknown>): NextAction => ({
  action: name,
  method: 'POST',
  endpoint: `/v1/runs/${runId}/actions/${name}`,
  description,
  body: { ...body, reason: REASON_PLACEHOLDER },
});

const ENDED_WITHOUT_COMPLETING: ReadonlySet<string> = new Set(['failed', 'compensated', 'cancelled']);

/**
 * What may be done with the run now, from its state. A body is a template: `<…>` strings are for the caller to fill
 * (a reason is always worth giving; it goes into the history); optional fields are named in the description.
 * `position` is the run's last known position in the log, so `wait_for_run` holds until the next change.
 */
export function runContract(run: RunView, position?: number): AgentContract {
  const id = run.id;
  const next: NextAction[] = [
    { action: 'get_run', method: 'GET', endpoint: `/v1/runs/${id}`, description: 'poll the run' },
    {
      action: 'get_history',
      method: 'GET',
      endpoint: `/v1/runs/${id}/events`,
      description: 'read every event of the run',
    },
  ];
  if (!isEnded(run)) next.push(waitAction(id, position));
  for (const step of run.steps) {
    if (step.status === 'waiting_approval') {
      next.push(action(id, 'approve', `approve "${step.id}"`, { stepId: step.id }));
      next.push(action(id, 'reject', `reject "${step.id}"`, { stepId: step.id }));
    }
    if (step.status === 'waiting_event' && step.waitsFor)
      next.push({
        action: 'send_event',
        method: 'POST',
        endpoint: '/v1/events',
        description: `send the event "${step.id}" waits for (producer, operator or admin)`,
        body: { name: step.waitsFor.event, key: step.waitsFor.key, id: '<your event id>', payload: '<json>' },
      });
    if (step.status === 'waiting_child' && step.childRunId)
      next.push({
        action: 'get_child_run',
        method: 'GET',
        endpoint: `/v1/runs/${step.childRunId}`,
        description: `poll the child run "${step.id}" waits for (its gates and failures are acted on there)`,
      });
  }
  if (run.parent)
    next.push({
      action: 'get_parent_run',
      method: 'GET',
      endpoint: `/v1/runs/${run.parent.runId}`,
      description: `poll the parent run whose step "${run.parent.stepId}" started this one`,
    });
  next.push(...statusActions(run));
  return { retryable: false, next_actions: next };
}

function statusActions(run: RunView): NextAction[] {
  const id = run.id;
  const cancel = action(id, 'cancel', 'stop the run for good');
  switch (run.status) {
    case 'running':
      return [action(id, 'pause', 'stop dispatching new steps'), cancel];
    case 'paused':
      return [action(id, 'resume', 'dispatch again'), cancel];
    case 'needs_operator': {
      if (run.attention?.code === 'BUDGET.EXCEEDED')
        return [
          action(id, 'raise-budget', `${run.attention.message}; a new budget lets it go on`, {
            budget: { tokens: '<tokens>', cost: { amount: '<amount>', currency: run.budget?.cost?.currency ?? 'USD' } },
          }),
          cancel,
        ];
      const stepId = run.attention?.stepId;
      const repairs = stepId
        ? [
            action(id, 'retry', `run "${stepId}" again; add "input" to replace its input`, { stepId }),
            action(id, 'skip', `mark "${stepId}" done with the output you supply`, { stepId, output: '<output>' }),
          ]
        : [];
      return [...repairs, action(id, 'compensate', 'undo the completed steps'), cancel];
    }
    case 'compensating':
      return [cancel];
    default: {
      const from = redriveFrom(run);
      return from === undefined
        ? []
        : [
            action(id, 'redrive', `re-open the run at "${from}" (add "input" to replace its input)`, {
              stepId: from,
            }),
          ];
    }
  }
}

const isEnded = (run: RunView): boolean => run.status === 'completed' || ENDED_WITHOUT_COMPLETING.has(run.status);

/** The step a re-drive would start from: the failed one, else the first that did not complete. */
function redriveFrom(run: RunView): string | undefined {
  if (!ENDED_WITHOUT_COMPLETING.has(run.status)) return undefined;
  return run.failure?.stepId ?? run.steps.find((step) => step.status !== 'completed')?.id;
}

function waitAction(id: string, position: number | undefined): NextAction {
  // Without the run's position, after=0 answers at once with it (wait.position): the next wait then holds.
  return {
    action: 'wait_for_run',
    method: 'GET',
    endpoint: `/v1/runs/${id}/wait?timeoutMs=30000&after=${position ?? 0}`,
    description:
      'wait for the run to change or end (30 s at most); follow wait_for_run of the answer for the next change',
  };
}

export function errorContract(retryable: boolean, hint?: NextAction): AgentContract {
  return {
    retryable,
    next_actions: hint
      ? [hint]
      : [
          {
            action: 'discover',
            method: 'GET',
            endpoint: '/.well-known/agent.json',
            description: 'what this API offers',
          },
        ],
  };
}

/** A start accepted but not started yet: ask again with the same key until the run is there. */
export function acceptedContract(accepted: AcceptedStart): AgentContract {
  return {
    retryable: false,
    next_actions: [
      {
        action: 'start_run',
        method: 'POST',
        endpoint: '/v1/runs',
        description:
          'the start is recorded and will run once; POST the same body with this idempotencyKey to follow it: 202 until the run has started, then 200 with the run',
        body: { idempotencyKey: accepted.idempotencyKey, definitionId: accepted.definitionId },
      },
      {
        action: 'get_run',
        method: 'GET',
        endpoint: `/v1/runs/${accepted.runId}`,
        description: 'the run, once an orchestrator has started it (404 until then)',
      },
    ],
  };
}
