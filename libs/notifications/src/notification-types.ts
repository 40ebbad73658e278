import type { RecordedEvent } from '@orchestron/event-store';
import { StepErrorCodes } from '@orchestron/workflow-core';
import type { WorkflowEvent } from '@orchestron/workflow-core';

/** What a webhook can be about. The names are part of the webhook contract: receivers dispatch on them. */
export const NOTIFICATION_TYPES = [
  'approval.requested',
  'approval.escalated',
  'approval.timed_out',
  'run.needs_operator',
  'compensation.failed',
  'run.failed',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The code RunNeedsOperator carries when a compensation failed for good (workflow-core's react-compensating). */
export const COMPENSATION_FAILED = 'COMPENSATION.FAILED';

/** What the run's first event says about it: every notification names its tenant and definition. */
export interface RunFacts {
  readonly tenant: string;
  readonly definitionId: string;
  readonly definitionVersion: number;
}

export interface NotificationData {
  readonly runId: string;
  readonly tenant: string;
  readonly definitionId: string;
  readonly definitionVersion: number;
  readonly stepId: string | null;
  readonly code: string | null;
  readonly message: string;
  /** Who may decide the approval (approval.requested), or whom it was escalated to (approval.escalated). */
  readonly assignees?: readonly string[];
  /** The API path of the run: prefix it with the server's URL. */
  readonly link: string;
  readonly eventId: string;
  readonly eventType: string;
  /** Global position of the event in the log, and its revision in the run's stream. */
  readonly position: number;
  readonly revision: number;
}

/** The body of a webhook, in the Standard Webhooks payload shape: `{ type, timestamp, data }`. */
export interface Notification {
  readonly type: NotificationType;
  /** When the event was recorded (ISO-8601), not when the webhook was sent. */
  readonly timestamp: string;
  readonly data: NotificationData;
}

type Subject = Pick<NotificationData, 'stepId' | 'code' | 'message' | 'assignees'>;

/**
 * Which notification an event makes, or undefined for an event nobody needs to hear about. CompensationFailed
 * makes none of its own: the run then stops with RunNeedsOperator `COMPENSATION.FAILED`, which makes one.
 */
export function notificationTypeOf(recorded: RecordedEvent): NotificationType | undefined {
  const event = asWorkflowEvent(recorded);
  switch (event.type) {
    case 'ApprovalRequested':
      return 'approval.requested';
    case 'ApprovalEscalated':
      return 'approval.escalated';
    case 'RunFailed':
      return 'run.failed';
    case 'RunNeedsOperator':
      if (event.data.code === StepErrorCodes.approvalTimedOut) return 'approval.timed_out';
      if (event.data.code === COMPENSATION_FAILED) return 'compensation.failed';
      return 'run.needs_operator';
    default:
      return undefined;
  }
}

/** The notification of a notifiable event of run `runId`; undefined for any other event. */
export function notificationOf(recorded: RecordedEvent, runId: string, run: RunFacts): Notification | undefined {
  const type = notificationTypeOf(recorded);
  const subject = subjectOf(asWorkflowEvent(recorded));
  if (type === undefined || subject === undefined) return undefined;
  return {
    type,
    timestamp: recorded.recordedAt,
    data: {
      runId,
      tenant: run.tenant,
      definitionId: run.definitionId,
      definitionVersion: run.definitionVersion,
      ...subject,
      link: `/v1/runs/${encodeURIComponent(runId)}`,
      eventId: recorded.id,
      eventType: recorded.type,
      position: recorded.position,
      revision: recorded.revision,
    },
  };
}

function subjectOf(event: WorkflowEvent): Subject | undefined {
  switch (event.type) {
    case 'ApprovalRequested':
      return { stepId: event.data.stepId, code: null, message: event.data.message, assignees: event.data.assignees };
    case 'ApprovalEscalated':
      return { stepId: event.data.stepId, code: null, message: event.data.message, assignees: event.data.to };
    case 'RunNeedsOperator':
      return { stepId: event.data.stepId, code: event.data.code, message: event.data.message };
    case 'RunFailed':
      return { stepId: event.data.stepId, code: event.data.error.code, message: event.data.error.message };
    default:
      return undefined;
  }
}

function asWorkflowEvent(recorded: RecordedEvent): WorkflowEvent {
  return { type: recorded.type, data: recorded.data } as WorkflowEvent;
}
