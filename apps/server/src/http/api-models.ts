import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import type { ApiPropertyOptions } from '@nestjs/swagger';
import { decorateProperty } from './decorate.ts';
import type { Type } from './decorate.ts';
import { anyJson } from './openapi.ts';
import { RUN_STATUSES } from './runs.dto.ts';

/*
 * The response shapes, for the OpenAPI document only: handlers build plain objects (RunView, RunSummary, …)
 * and these classes describe them. Keep them in step with libs/runtime's views and agent-contract.ts.
 */

export function model(
  target: Type,
  properties: Record<string, ApiPropertyOptions>,
  optional: readonly string[] = [],
): void {
  for (const [name, options] of Object.entries(properties))
    decorateProperty(target, name, [optional.includes(name) ? ApiPropertyOptional(options) : ApiProperty(options)]);
}

const ANY = anyJson();
const OBJECT = { type: 'object', additionalProperties: true } as const;
const NULLABLE_OBJECT = { ...OBJECT, nullable: true } as const;
const TIME = { type: String, format: 'date-time' } as const;

export class NextActionModel {}
model(
  NextActionModel,
  {
    action: { type: String, example: 'approve' },
    method: { enum: ['GET', 'POST'] },
    endpoint: { type: String, example: '/v1/runs/{id}/actions/approve' },
    description: { type: String },
    body: { ...OBJECT, description: 'a body to send, with <placeholders> to fill' },
  },
  ['body'],
);

export class AgentContractModel {}
model(AgentContractModel, {
  retryable: { type: Boolean, description: 'whether repeating the same call can succeed' },
  next_actions: { type: NextActionModel, isArray: true },
});

export class ApiErrorModel {}
model(
  ApiErrorModel,
  {
    code: {
      type: String,
      description: 'stable error code, e.g. REQUEST.INVALID, RUN.NOT_FOUND, STEP.ALREADY_TERMINAL',
    },
    message: { type: String },
    retryable: { type: Boolean },
    details: {
      ...OBJECT,
      description: '`field` for a bad request field; `issues` ([{ path, message }]) for invalid definitions and inputs',
    },
  },
  ['details'],
);

export class ErrorEnvelope {}
model(ErrorEnvelope, { error: { type: ApiErrorModel }, agent_contract: { type: AgentContractModel } });

export class StepModel {}
model(
  StepModel,
  {
    id: { type: String },
    type: { enum: ['task', 'approval', 'event'] },
    worker: { type: String, nullable: true },
    needs: { type: String, isArray: true },
    status: { type: String, example: 'completed' },
    attempt: { type: 'integer' },
    input: ANY,
    output: ANY,
    error: { ...NULLABLE_OBJECT, description: '{ code, message, retryable }' },
    governance: { ...NULLABLE_OBJECT, description: '{ outcome, policyId, reason }' },
    skipKind: { type: String, nullable: true },
    startedAt: { ...TIME, nullable: true },
    finishedAt: { ...TIME, nullable: true },
    compensation: { ...NULLABLE_OBJECT, description: '{ status, attempt, error }' },
    assignees: {
      type: String,
      isArray: true,
      description:
        'Approval steps only: who may decide the gate now (empty: any operator), escalateTo included once escalated',
    },
    escalatedTo: {
      type: String,
      isArray: true,
      nullable: true,
      description: "Approval steps only: whom the waiting gate's timeout escalated it to; null before",
    },
    waitsFor: {
      ...NULLABLE_OBJECT,
      description:
        'Event steps only: { event, key, since, timeoutAt } while it waits for its event (key: its match, evaluated); null otherwise',
    },
  },
  ['assignees', 'escalatedTo', 'waitsFor'],
);

export class RunModel {}
model(RunModel, {
  id: { type: String },
  definition: { ...OBJECT, description: '{ id, version, name }: the exact version the run is pinned to' },
  status: { enum: RUN_STATUSES },
  input: ANY,
  startedBy: { type: String },
  createdAt: TIME,
  updatedAt: TIME,
  attention: { ...NULLABLE_OBJECT, description: '{ code, message, stepId }: why the run needs an operator' },
  failure: { ...NULLABLE_OBJECT, description: '{ stepId, error }' },
  steps: { type: StepModel, isArray: true },
  version: { type: 'integer', description: "the revision of the run's stream" },
});

export class RunSummaryModel {}
model(RunSummaryModel, {
  id: { type: String },
  definitionId: { type: String },
  definitionVersion: { type: 'integer' },
  status: { enum: RUN_STATUSES },
  createdAt: TIME,
  updatedAt: TIME,
  attention: NULLABLE_OBJECT,
  waitingApproval: { type: String, isArray: true, description: 'steps waiting at an approval gate' },
  position: { type: 'integer', description: 'global position of the last event folded in' },
});

export class EventModel {}
model(EventModel, {
  revision: { type: 'integer' },
  position: { type: 'integer' },
  type: { type: String, example: 'RunStarted' },
  data: OBJECT,
  metadata: OBJECT,
  recordedAt: TIME,
});

export class DefinitionSummaryModel {}
model(DefinitionSummaryModel, {
  id: { type: String },
  versions: { type: 'integer', isArray: true },
  name: { type: String, nullable: true },
  description: { type: String, nullable: true },
});

export class IssueModel {}
model(IssueModel, { path: { type: String, example: '/steps/a/needs' }, message: { type: String } });

export const envelope = (name: string, properties: Record<string, ApiPropertyOptions>): Type => {
  const target = { [name]: class {} }[name] as Type;
  model(target, { ...properties, agent_contract: { type: AgentContractModel } });
  return target;
};

export class PastPointModel {}
model(PastPointModel, {
  revision: { type: 'integer', description: 'the revision of the last event folded in (0 is the first)' },
  recordedAt: { type: String, format: 'date-time' },
  eventType: { type: String, description: 'the type of that event' },
  latestRevision: { type: 'integer', description: "the revision of the run's newest event" },
});
export const RunEnvelope = envelope('RunEnvelope', {
  run: { type: RunModel },
  at: { type: PastPointModel, required: false, description: 'only with `?at=`: the point the run is shown at' },
});
export class AcceptedStartModel {}
model(AcceptedStartModel, {
  runId: { type: String },
  idempotencyKey: { type: String, description: 'the key to POST again with (generated when the start had none)' },
  definitionId: { type: String },
  definitionVersion: { type: 'integer' },
});
export class AcceptedRunModel {}
model(AcceptedRunModel, { id: { type: String }, status: { enum: ['accepted'] } });
export const AcceptedEnvelope = envelope('AcceptedEnvelope', {
  run: { type: AcceptedRunModel },
  accepted: { type: AcceptedStartModel },
});
export class RunWaitModel {}
model(RunWaitModel, {
  ended: { type: Boolean, description: 'the run has ended (completed, failed, compensated or cancelled)' },
  timedOut: { type: Boolean, description: 'timeoutMs ran out first' },
  position: { type: 'integer', description: 'pass as `after` to wait for the next change' },
});
export const RunWaitEnvelope = envelope('RunWaitEnvelope', { run: { type: RunModel }, wait: { type: RunWaitModel } });
export const RunListEnvelope = envelope('RunListEnvelope', {
  runs: { type: RunSummaryModel, isArray: true },
  nextCursor: { type: String, nullable: true, description: 'pass as ?cursor= for the next page; null at the end' },
});
export const EventsEnvelope = envelope('EventsEnvelope', { events: { type: EventModel, isArray: true } });
export const DefinitionEnvelope = envelope('DefinitionEnvelope', {
  definition: { ...OBJECT, description: 'the compiled definition' },
});
export const DefinitionListEnvelope = envelope('DefinitionListEnvelope', {
  definitions: { type: DefinitionSummaryModel, isArray: true },
});
export const ValidationEnvelope = envelope('ValidationEnvelope', {
  valid: { type: Boolean },
  issues: { type: IssueModel, isArray: true },
});
export const HealthEnvelope = envelope('HealthEnvelope', { status: { type: String, example: 'ok' } });

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'invalid request: REQUEST.INVALID (details.field names the field), DEFINITION.INVALID, RUN.INPUT_INVALID (details.issues), COMMAND.INVALID',
  401: 'AUTH.UNAUTHENTICATED: no valid "Authorization: Bearer <key>"',
  403: "AUTH.FORBIDDEN: the key's role may not call this",
  404: 'RUN.NOT_FOUND, STEP.NOT_FOUND or DEFINITION.NOT_FOUND',
  409: 'the call conflicts with the current state (see docs/semantics.md)',
  429: 'STREAM.TOO_MANY: this key holds as many open event streams as it may; close one first',
  503: 'retryable: a dependency is away or the server is busy (STORE.UNAVAILABLE, BUS.UNAVAILABLE, SERVER.BUSY, ORCHESTRATOR.PENDING); try again after Retry-After seconds',
};

/** The error responses a route can give, all `{ error, agent_contract }`. */
export function errorResponses(...statuses: number[]): (MethodDecorator & ClassDecorator)[] {
  return statuses.map((status) =>
    ApiResponse({ status, description: ERROR_DESCRIPTIONS[status] ?? 'error', type: ErrorEnvelope }),
  );
}

export class SendEventModel {}
model(
  SendEventModel,
  {
    status: { enum: ['delivered', 'buffered', 'duplicate'] },
    eventId: { type: String },
    deliveredTo: {
      type: 'array',
      items: { type: 'object', properties: { runId: { type: 'string' }, stepId: { type: 'string' } } },
      description: 'the steps it was delivered to (for a duplicate: where the first one went); empty when buffered',
    },
    expiresAt: { ...TIME, description: 'buffered only: until when it waits for a step to wait for it' },
  },
  ['expiresAt'],
);
export const SendEventEnvelope = envelope('SendEventEnvelope', { event: { type: SendEventModel } });
