import { checkJsonLimits, JsonLimitError, MAX_MESSAGE_DEPTH, schemaValidator } from '@orchestron/definitions';
import { OrchestronError } from '@orchestron/errors';

/** `step.execute` / `step.compensate`, sent to `orchestron.commands.<worker>`. */
export interface StepCommandMessage {
  readonly type: 'step.execute' | 'step.compensate';
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly worker: string;
  readonly action: string | null;
  readonly input: unknown;
  /** `runId/stepId/attempt`: a worker that has seen it must not do the work again. */
  readonly idempotencyKey: string;
  /** Epoch ms (an integer) after which the orchestrator has given up on this attempt. */
  readonly deadline: number | null;
  /**
   * How often (ms, an integer) to send `step.heartbeat` while the attempt runs; null when nothing watches for them.
   * A third of the step's `heartbeatTimeout`: two may be lost before the attempt times out.
   */
  readonly heartbeatIntervalMs: number | null;
  readonly definitionId: string;
}

/** What an attempt used, reported with its outcome (`step.completed` or `step.failed`): an LLM call's tokens and cost. */
export interface StepUsage {
  readonly model?: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cost?: { readonly amount: number; readonly currency: string };
}

/** What workers send back on `orchestron.step.events`. */
export type StepEventMessage =
  | {
      readonly type: 'step.started' | 'step.heartbeat';
      readonly runId: string;
      readonly stepId: string;
      readonly attempt: number;
      readonly phase: 'execute' | 'compensate';
    }
  | {
      readonly type: 'step.completed';
      readonly runId: string;
      readonly stepId: string;
      readonly attempt: number;
      readonly phase: 'execute' | 'compensate';
      readonly output?: unknown;
      readonly usage?: StepUsage;
    }
  | {
      readonly type: 'step.failed';
      readonly runId: string;
      readonly stepId: string;
      readonly attempt: number;
      readonly phase: 'execute' | 'compensate';
      readonly error: { readonly code?: string; readonly message: string; readonly retryable?: boolean };
      readonly usage?: StepUsage;
    };

/** The JSON Schema of StepCommandMessage: what a worker in any language may rely on in a command. */
export const stepCommandSchema = {
  type: 'object',
  required: [
    'type',
    'runId',
    'stepId',
    'attempt',
    'worker',
    'action',
    'idempotencyKey',
    'deadline',
    'heartbeatIntervalMs',
    'definitionId',
  ],
  properties: {
    type: { enum: ['step.execute', 'step.compensate'] },
    runId: { type: 'string', minLength: 1 },
    stepId: { type: 'string', minLength: 1 },
    attempt: { type: 'integer', minimum: 1 },
    worker: { type: 'string', minLength: 1 },
    action: { type: ['string', 'null'] },
    input: {},
    idempotencyKey: { type: 'string', minLength: 1 },
    deadline: { type: ['integer', 'null'] },
    heartbeatIntervalMs: { type: ['integer', 'null'], minimum: 1 },
    definitionId: { type: 'string', minLength: 1 },
  },
} as const;

/** The most tokens one report may claim: far past any model's window, short of a number that breaks a sum. */
export const MAX_REPORTED_TOKENS = 1_000_000_000;

export const stepUsageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['inputTokens', 'outputTokens'],
  description:
    "step.completed and step.failed only, optional: what the attempt used, e.g. the LLM calls it made (summed). Counted once per attempt against the run's budget; a run past its budget dispatches nothing more and waits for an operator (BUDGET.EXCEEDED). A report with a bad usage is dead-lettered with the reason.",
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 200 },
    inputTokens: { type: 'integer', minimum: 0, maximum: MAX_REPORTED_TOKENS },
    outputTokens: { type: 'integer', minimum: 0, maximum: MAX_REPORTED_TOKENS },
    cost: {
      type: 'object',
      additionalProperties: false,
      required: ['amount', 'currency'],
      properties: {
        amount: { type: 'number', minimum: 0, maximum: 1_000_000 },
        currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217, e.g. USD' },
      },
    },
  },
} as const;

export const stepEventSchema = {
  type: 'object',
  required: ['type', 'runId', 'stepId', 'attempt', 'phase'],
  properties: {
    type: { enum: ['step.started', 'step.heartbeat', 'step.completed', 'step.failed'] },
    runId: { type: 'string', minLength: 1 },
    stepId: { type: 'string', minLength: 1 },
    attempt: { type: 'integer', minimum: 1 },
    phase: { enum: ['execute', 'compensate'] },
    output: {},
    error: {
      type: 'object',
      required: ['message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } },
    },
    usage: stepUsageSchema,
  },
  if: { properties: { type: { const: 'step.failed' } } },
  then: { required: ['error'] },
} as const;

export class WireFormatError extends OrchestronError<'WIRE.INVALID'> {
  constructor(message: string) {
    super('WIRE.INVALID', message);
    this.name = 'WireFormatError';
  }
}

export interface WireLimits {
  /** How deep a message may nest; default MAX_MESSAGE_DEPTH (128). */
  readonly maxDepth?: number;
}

/**
 * A parser for one message schema: the value, or a WireFormatError naming every bad field. A message nested
 * deeper than the limit or holding a non-finite number is refused first, naming the limit or the path: the
 * consumer dead-letters it with that reason, instead of a later recursive walk overflowing the stack, or an
 * Infinity being stored as null.
 */
export function wireParser<T>(schema: object, what: string, limits: WireLimits = {}): (value: unknown) => T {
  const validate = schemaValidator(schema);
  const maxDepth = limits.maxDepth ?? MAX_MESSAGE_DEPTH;
  return (value) => {
    try {
      checkJsonLimits(value, { maxDepth, subject: 'the message' });
    } catch (error) {
      if (error instanceof JsonLimitError) throw new WireFormatError(`not a valid ${what}: ${error.message}`);
      throw error;
    }
    if (validate(value)) return value as T;
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
    throw new WireFormatError(`not a valid ${what}: ${problems.join('; ')}`);
  };
}

/** Checks a step event against its schema; throws WireFormatError naming every bad field. */
export const parseStepEventMessage = wireParser<StepEventMessage>(stepEventSchema, 'step event');

/** Checks a step.execute / step.compensate command against its schema; throws WireFormatError naming every bad field. */
export const parseStepCommandMessage = wireParser<StepCommandMessage>(
  stepCommandSchema,
  'step.execute / step.compensate command',
);
