import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@orchestron/event-store';
import { notificationOf } from './notification-types.ts';

const run = { tenant: 'acme', definitionId: 'onboarding', definitionVersion: 2 };
const at = (type: string, data: unknown): RecordedEvent => ({
  id: 'e-1',
  streamId: 'run-r1',
  revision: 7,
  position: 42,
  type,
  data,
  metadata: {},
  recordedAt: '2026-01-02T03:04:05.000Z',
});
const error = { code: 'SIMULATED.TERMINAL', message: 'boom', retryable: false };

describe('notifications of events', () => {
  it.each([
    [
      at('ApprovalRequested', {
        stepId: 'ok',
        cause: 'approval_step',
        assignees: ['role:hr'],
        message: 'please',
        at: 1,
      }),
      'approval.requested',
      null,
    ],
    [
      at('ApprovalEscalated', { stepId: 'ok', to: ['role:cfo'], message: 'escalated', at: 1 }),
      'approval.escalated',
      null,
    ],
    [
      at('RunNeedsOperator', { code: 'APPROVAL.TIMED_OUT', message: 'late', stepId: 'ok', at: 1 }),
      'approval.timed_out',
      'APPROVAL.TIMED_OUT',
    ],
    [
      at('RunNeedsOperator', { code: 'COMPENSATION.FAILED', message: 'stuck', stepId: 'a', at: 1 }),
      'compensation.failed',
      'COMPENSATION.FAILED',
    ],
    [
      at('RunNeedsOperator', { code: 'SIMULATED.TERMINAL', message: 'x', stepId: 'a', at: 1 }),
      'run.needs_operator',
      'SIMULATED.TERMINAL',
    ],
    [at('RunFailed', { stepId: 'a', error, at: 1 }), 'run.failed', 'SIMULATED.TERMINAL'],
  ])('names %#: %s', (event, type, code) => {
    const notification = notificationOf(event, 'r1', run);
    expect(notification).toMatchObject({
      type,
      timestamp: '2026-01-02T03:04:05.000Z',
      data: {
        runId: 'r1',
        tenant: 'acme',
        definitionId: 'onboarding',
        definitionVersion: 2,
        code,
        link: '/v1/runs/r1',
        eventId: 'e-1',
        eventType: event.type,
        position: 42,
        revision: 7,
      },
    });
  });

  it('names whom an approval was escalated to as its assignees', () => {
    const escalated = at('ApprovalEscalated', {
      stepId: 'budget',
      to: ['role:cfo', 'user:ann'],
      message: 'approval "budget" timed out and is escalated to role:cfo, user:ann',
      at: 1,
    });
    expect(notificationOf(escalated, 'r1', run)?.data).toMatchObject({
      stepId: 'budget',
      assignees: ['role:cfo', 'user:ann'],
      message: 'approval "budget" timed out and is escalated to role:cfo, user:ann',
    });
  });

  it('makes none for other events, CompensationFailed included (the RunNeedsOperator after it makes one)', () => {
    expect(
      notificationOf(at('CompensationFailed', { stepId: 'a', attempt: 3, error, at: 1 }), 'r1', run),
    ).toBeUndefined();
    expect(notificationOf(at('StepFailed', { stepId: 'a', attempt: 1, error, at: 1 }), 'r1', run)).toBeUndefined();
  });
});
