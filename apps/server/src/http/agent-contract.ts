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

const action = (runId: string, name: string, description: string, body?: Record<string, unknown>): NextAction => ({
  action: name,
  method: 'POST',
  endpoint: `/v1/runs/${runId}/actions/${name}`,
  description,
  ...(body ? { body } : {}),
});

export function runContract(run: RunView): AgentContract {
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
  for (const step of run.steps) {
    if (step.status === 'waiting_approval') {
      next.push(action(id, 'approve', `approve "${step.id}"`, { stepId: step.id, reason: '<why>' }));
      next.push(action(id, 'reject', `reject "${step.id}"`, { stepId: step.id, reason: '<why>' }));
    }
    if (step.status === 'waiting_event' && step.waitsFor)
      next.push({
        action: 'send_event',
        method: 'POST',
        endpoint: '/v1/events',
        description: `send the event "${step.id}" waits for (producer, operator or admin)`,
        body: { name: step.waitsFor.event, key: step.waitsFor.key, id: '<your event id>', payload: '<json>' },
      });
  }
  switch (run.status) {
    case 'running':
      next.push(action(id, 'pause', 'stop dispatching new steps'), action(id, 'cancel', 'stop the run for good'));
      break;
    case 'paused':
      next.push(action(id, 'resume', 'dispatch again'), action(id, 'cancel', 'stop the run for good'));
      break;
    case 'needs_operator': {
      const stepId = run.attention?.stepId;
      if (stepId) {
        next.push(
          action(id, 'retry', `run "${stepId}" again, optionally with edited input`, { stepId, input: '<optional>' }),
        );
        next.push(action(id, 'skip', `mark "${stepId}" done with the output you supply`, { stepId, output: '<json>' }));
      }
      next.push(action(id, 'compensate', 'undo the completed steps'), action(id, 'cancel', 'stop the run for good'));
      break;
    }
    case 'compensating':
      next.push(action(id, 'cancel', 'stop the run for good'));
      break;
    default:
      break;
  }
  return { retryable: false, next_actions: next };
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
