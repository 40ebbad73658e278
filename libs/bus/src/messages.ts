import { budgetSchema, TENANT_PATTERN } from '@orchestron/definitions';
import type { Budget } from '@orchestron/definitions';
import { wireParser } from './wire.ts';

/**
 * `workflow.start` on `orchestron.workflow.starts`, keyed by the run id when the producer knows it (else by the
 * idempotency key). The run id is derived from `definitionId` and `idempotencyKey`, so a redelivered or re-sent
 * start names the same run and starts it once.
 */
export interface WorkflowStartMessage {
  readonly type: 'workflow.start';
  readonly definitionId: string;
  readonly definitionVersion?: number;
  readonly input?: unknown;
  readonly idempotencyKey: string;
  /** Who asked; recorded on RunStarted. Default `producer:kafka`. */
  readonly actor?: string;
  /** Whose run it is, and where its definition is registered. Default `default`. */
  readonly tenant?: string;
  /** The id of the API key that asked (never its secret), recorded with RunStarted. */
  readonly keyId?: string;
  /**
   * A fork of the run `runId` of the same tenant, from its state at `revision`: the orchestrator reads that run's
   * history and starts this one with the steps done by then (its definition is that run's, named above too).
   */
  readonly fork?: { readonly runId: string; readonly revision: number; readonly reason?: string };
  /** Caps what the run's agents may spend (overrides the definition's); see the definition schema's `budget`. */
  readonly budget?: Budget;
}

/** `governance.request` on `orchestron.governance.requests`, keyed by run id: one side-effecting step to rule on. */
export interface GovernanceRequestMessage {
  readonly type: 'governance.request';
  /** `<runId>/<stepId>/<inputDigest>`: the decision echoes it. */
  readonly requestId: string;
  readonly runId: string;
  readonly definitionId: string;
  readonly definitionVersion: number;
  readonly stepId: string;
  readonly worker: string;
  readonly action: string | null;
  readonly input: unknown;
  /** sha256 (hex) of the step input's canonical JSON; a decision for other input is not applied. */
  readonly inputDigest: string;
  readonly runInput: unknown;
  readonly actor: string | null;
  /** Epoch ms when the orchestrator asked. */
  readonly requestedAt: number;
}

/** `governance.decision` on `orchestron.governance.decisions`, keyed by run id. */
export interface GovernanceDecisionMessage {
  readonly type: 'governance.decision';
  readonly requestId: string;
  readonly runId: string;
  readonly stepId: string;
  readonly inputDigest: string;
  readonly outcome: 'allow' | 'deny' | 'require_approval';
  readonly policyId: string | null;
  readonly reason: string;
  /**
   * Only on a deny no policy took: `GOVERNANCE.UNEVALUABLE` when the request could not be evaluated at all (a lone
   * surrogate, a value nested too deep). Optional, so a consumer that predates it still fails closed on the deny.
   */
  readonly code?: 'GOVERNANCE.UNEVALUABLE';
  /**
   * Only on an allow that holds for every run of the same definition's step, whatever the inputs, who started the
   * run and the time (ADR 40): the orchestrator that asked may apply it to that step's requests for `forMs` without
   * asking again, recording the permit and reason given here.
   */
  readonly standing?: { readonly policyId: string | null; readonly reason: string; readonly forMs: number };
  /** Epoch ms. */
  readonly decidedAt: number;
  /** Which governance instance decided. */
  readonly decidedBy: string;
}

/** `operator.command` on `orchestron.operator.commands`, keyed by run id: an operator action for the run's owner to apply. */
export interface OperatorCommandMessage {
  readonly type: 'operator.command';
  /** Echoed in the metadata of the events the command produced, so the sender can see it applied. */
  readonly commandId: string;
  readonly runId: string;
  readonly actor: string;
  /** The id of the API key that asked (never its secret), recorded with the command's events. */
  readonly keyId?: string;
  /** A run command without metadata: `{ type: 'Approve', data: { stepId, reason } }` and so on. */
  readonly command: { readonly type: string; readonly data: Readonly<Record<string, unknown>> };
}

const str = { type: 'string', minLength: 1 } as const;

export const workflowStartSchema = {
  type: 'object',
  required: ['type', 'definitionId', 'idempotencyKey'],
  properties: {
    type: { const: 'workflow.start' },
    definitionId: str,
    definitionVersion: { type: 'integer', minimum: 1 },
    input: {},
    idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 },
    actor: str,
    tenant: { type: 'string', pattern: TENANT_PATTERN },
    keyId: str,
    fork: {
      type: 'object',
      required: ['runId', 'revision'],
      properties: { runId: str, revision: { type: 'integer', minimum: 0 }, reason: { type: 'string' } },
    },
    budget: budgetSchema,
  },
} as const;

export const governanceRequestSchema = {
  type: 'object',
  required: [
    'type',
    'requestId',
    'runId',
    'definitionId',
    'definitionVersion',
    'stepId',
    'worker',
    'action',
    'input',
    'inputDigest',
    'runInput',
    'actor',
    'requestedAt',
  ],
  properties: {
    type: { const: 'governance.request' },
    requestId: str,
    runId: str,
    definitionId: str,
    definitionVersion: { type: 'integer', minimum: 1 },
    stepId: str,
    worker: { type: 'string' },
    action: { type: ['string', 'null'] },
    input: {},
    inputDigest: str,
    runInput: {},
    actor: { type: ['string', 'null'] },
    requestedAt: { type: 'integer' },
  },
} as const;

export const governanceDecisionSchema = {
  type: 'object',
  required: [
    'type',
    'requestId',
    'runId',
    'stepId',
    'inputDigest',
    'outcome',
    'policyId',
    'reason',
    'decidedAt',
    'decidedBy',
  ],
  properties: {
    type: { const: 'governance.decision' },
    requestId: str,
    runId: str,
    stepId: str,
    inputDigest: str,
    outcome: { enum: ['allow', 'deny', 'require_approval'] },
    policyId: { type: ['string', 'null'] },
    reason: { type: 'string' },
    code: { enum: ['GOVERNANCE.UNEVALUABLE'] },
    standing: {
      type: 'object',
      required: ['policyId', 'reason', 'forMs'],
      additionalProperties: false,
      properties: {
        policyId: { type: ['string', 'null'] },
        reason: { type: 'string' },
        forMs: { type: 'integer', minimum: 1, maximum: 60_000 },
      },
    },
    decidedAt: { type: 'integer' },
    decidedBy: str,
  },
} as const;

export const operatorCommandSchema = {
  type: 'object',
  required: ['type', 'commandId', 'runId', 'actor', 'command'],
  properties: {
    type: { const: 'operator.command' },
    commandId: str,
    runId: str,
    actor: str,
    keyId: str,
    command: { type: 'object', required: ['type', 'data'], properties: { type: str, data: { type: 'object' } } },
  },
} as const;

const parser = wireParser;

export const parseWorkflowStartMessage = parser<WorkflowStartMessage>(workflowStartSchema, 'workflow.start message');
export const parseGovernanceRequestMessage = parser<GovernanceRequestMessage>(
  governanceRequestSchema,
  'governance.request message',
);
export const parseGovernanceDecisionMessage = parser<GovernanceDecisionMessage>(
  governanceDecisionSchema,
  'governance.decision message',
);
export const parseOperatorCommandMessage = parser<OperatorCommandMessage>(
  operatorCommandSchema,
  'operator.command message',
);
