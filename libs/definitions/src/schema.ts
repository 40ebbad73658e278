/**
 * The published JSON Schema of a workflow definition (docs/definition.schema.json is generated from it
 * by `npm run schema:write`, and a test keeps the two equal).
 */
import { schedulesSchema } from './schedule-schema.ts';

const duration = {
  type: 'string',
  pattern: '^(?:\\d+(?:ms|s|m|h|d))+$',
  description: 'A duration such as 500ms, 30s, 1m, 48h or 1h30m.',
};
const expression = { type: 'string', description: 'A CEL expression, written bare or wrapped in ${{ }}.' };
const governanceTimeout = {
  ...duration,
  description:
    'How long a step waits for governance before the run asks an operator (default 60s). The step keeps waiting: fail closed.',
};
/** Definition ids, step ids and workers: what identifier.ts states in words as IDENTIFIER_RULE. */
export const IDENTIFIER_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';
const identifier = { type: 'string', pattern: IDENTIFIER_PATTERN };
/** How long an event name may be; the keys events carry are bounded at the edge. */
export const MAX_EVENT_NAME = 200;
/** At most this many assignees an approval escalates to. */
export const MAX_ESCALATE_TO = 32;
/** At most this many locks one step takes, and how long a lock's name may be once rendered. */
export const MAX_STEP_LOCKS = 8;
export const MAX_LOCK_NAME = 200;

const retry = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
    backoff: { enum: ['exponential', 'fixed'] },
    initialDelay: duration,
    maxDelay: duration,
    jitter: { enum: ['full', 'equal', 'none'] },
    nonRetryable: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description: 'Error codes that never retry.',
    },
  },
};

const compensation = {
  type: 'object',
  additionalProperties: false,
  description:
    "How to undo the step: name an action (and a worker when another worker undoes it; it defaults to the step's own worker).",
  properties: {
    worker: identifier,
    action: { type: 'string', minLength: 1 },
    input: {
      description: "Input mapping; ${{ }} strings are CEL expressions. Defaults to the step's input and output.",
    },
    retry,
    timeout: duration,
    heartbeatTimeout: duration,
  },
};

const step = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { enum: ['task', 'approval', 'event', 'workflow'], default: 'task' },
    worker: identifier,
    action: { type: 'string', minLength: 1 },
    needs: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    join: { type: 'string', pattern: '^(all_success|any_success|majority|all_done|quorum\\([1-9][0-9]*\\))$' },
    when: expression,
    input: { description: "Input mapping; ${{ }} strings are CEL expressions. Defaults to the run's input." },
    inputSchema: {
      type: 'object',
      description:
        "JSON Schema an operator's edited input for this step must satisfy (retry, redrive): the API refuses one that does not.",
    },
    sideEffect: {
      type: 'boolean',
      description:
        'Checked by governance before every dispatch. With governance configured every task step is checked anyway: this flag can add a check, never remove one.',
    },
    compensate: compensation,
    retry,
    timeout: duration,
    heartbeatTimeout: duration,
    governanceTimeout,
    assignees: { type: 'array', items: { type: 'string', minLength: 1 } },
    onTimeout: { enum: ['escalate', 'fail', 'skip'] },
    event: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_EVENT_NAME,
      description: 'An event step: the name of the event it waits for, e.g. contract.signed.',
    },
    match: {
      ...expression,
      description:
        'An event step: the key an event must carry to be delivered to this run, e.g. ${{ input.contractId }}; evaluated when the step starts waiting.',
    },
    workflow: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      description:
        "A workflow step: the definition it starts as a child run, in the parent's tenant; without version, the latest when the child starts.",
      properties: {
        id: identifier,
        version: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
      },
    },
    parentClosePolicy: {
      enum: ['cancel', 'abandon'],
      description:
        'A workflow step: what happens to its child run still going when the parent ends first (cancelled, failed, compensating): cancel it (the default) or let it run on.',
    },
    locks: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_STEP_LOCKS,
      description:
        'A task step: resource locks it takes, in this order, before it is sent to its worker, and holds until the step (or its compensation) ends. Granted across runs of the tenant in FIFO order; a cycle of waits fails the youngest waiter with LOCK.DEADLOCK.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: {
            type: 'string',
            minLength: 1,
            maxLength: MAX_LOCK_NAME,
            description: 'The lock, e.g. account-${{ input.accountId }}; ${{ }} parts are CEL expressions.',
          },
          mode: { enum: ['exclusive', 'shared'], default: 'exclusive' },
        },
      },
    },
    escalateTo: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      maxItems: MAX_ESCALATE_TO,
      description:
        "An approval step's second level: when its timeout passes, the gate is assigned to these as well (same syntax as assignees), and onTimeout applies only when escalateAfter passes too.",
    },
    escalateAfter: {
      ...duration,
      description:
        "How long the escalated gate waits for escalateTo before onTimeout applies (default: the step's timeout).",
    },
    description: { type: 'string' },
  },
};

/** A run's spending cap; also accepted by a start (`budget`), which overrides the definition's. */
export const budgetSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'What the agents of a run may spend; past it nothing more is dispatched (BUDGET.EXCEEDED).',
  properties: {
    tokens: { type: 'integer', minimum: 1, maximum: 1e12, description: 'input and output tokens together' },
    cost: {
      type: 'object',
      additionalProperties: false,
      required: ['amount', 'currency'],
      properties: {
        amount: { type: 'number', exclusiveMinimum: 0, maximum: 1e9 },
        currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217, e.g. USD' },
      },
    },
  },
} as const;

export const definitionSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://orchestron.dev/schemas/definition.json',
  title: 'Orchestron workflow definition',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'version', 'steps'],
  properties: {
    id: identifier,
    version: {
      type: 'integer',
      minimum: 1,
      maximum: 2_147_483_647,
      description: 'A version, once registered, never changes; 1 to 2147483647.',
    },
    name: { type: 'string' },
    description: { type: 'string' },
    input: {
      type: 'object',
      additionalProperties: false,
      properties: { schema: { type: 'object', description: 'JSON Schema the run input must satisfy.' } },
    },
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: { retry, timeout: duration, heartbeatTimeout: duration, governanceTimeout },
    },
    onFailure: { enum: ['compensate', 'escalate', 'fail'], default: 'compensate' },
    budget: budgetSchema,
    schedules: schedulesSchema,
    steps: {
      type: 'object',
      minProperties: 1,
      propertyNames: identifier,
      additionalProperties: step,
    },
  },
} as const;
