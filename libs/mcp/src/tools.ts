import { budgetSchema } from '@orchestron/definitions';
import { RUN_STATUSES } from '@orchestron/workflow-core';
import { apiPath } from './api-caller.ts';
import type { ApiRequest } from './api-caller.ts';
import { ANY_JSON, envelope, objectOf, REASON, RUN_ENVELOPE, RUN_ID, STEP_ID } from './schemas.ts';

type Schema = Record<string, unknown>;
type Args = Readonly<Record<string, unknown>>;

export interface ToolSpec {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: Schema;
  readonly outputSchema: Schema;
  /** The HTTP API call the tool is: its roles and errors are that route's. */
  readonly request: (args: Args) => ApiRequest;
  /** The route, for the descriptions and the discovery document. */
  readonly route: string;
}

/** The longest wait one tool call may hold, in ms (the API's own bound is higher). */
export const MAX_TOOL_WAIT_MS = 60_000;

const str = (args: Args, name: string): string => String(args[name]);
const pick = (args: Args, names: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(names.filter((name) => args[name] !== undefined).map((name) => [name, args[name]]));

const read: ToolSpec[] = [
  {
    name: 'list_definitions',
    title: 'List definitions',
    description: 'The workflow definitions this key may start, newest version of each.',
    route: 'GET /v1/definitions',
    inputSchema: objectOf({}),
    outputSchema: envelope({ definitions: { type: 'array', items: { type: 'object' } } }),
    request: () => ({ method: 'GET', path: '/v1/definitions' }),
  },
  {
    name: 'describe_definition',
    title: 'Describe a definition',
    description: 'One definition: its steps, their dependencies, workers, compensation and gates.',
    route: 'GET /v1/definitions/{id}',
    inputSchema: objectOf(
      {
        definitionId: { type: 'string', minLength: 1, maxLength: 128 },
        version: { type: 'integer', minimum: 1, description: 'default: the latest' },
      },
      ['definitionId'],
    ),
    outputSchema: envelope({ definition: { type: 'object' } }),
    request: (a) => ({
      method: 'GET',
      path: apiPath(['v1', 'definitions', str(a, 'definitionId')], pick(a, ['version'])),
    }),
  },
  {
    name: 'validate_definition',
    title: 'Validate a definition',
    description: 'Checks a definition (the JSON form of the YAML) without registering it; errors name their paths.',
    route: 'POST /v1/definitions/validate',
    inputSchema: objectOf({ definition: { type: 'object', description: 'the definition, as JSON' } }, ['definition']),
    outputSchema: envelope({ valid: { type: 'boolean' }, issues: { type: 'array', items: { type: 'object' } } }),
    request: (a) => ({ method: 'POST', path: '/v1/definitions/validate', body: a['definition'] }),
  },
  {
    name: 'list_runs',
    title: 'List runs',
    description: 'Runs of this key’s tenant, newest first, by status and definition.',
    route: 'GET /v1/runs',
    inputSchema: objectOf({
      status: { type: 'string', enum: [...RUN_STATUSES] },
      definition: { type: 'string', maxLength: 128, description: 'a definition id' },
      limit: { type: 'integer', minimum: 1, maximum: 500 },
    }),
    outputSchema: envelope({ runs: { type: 'array', items: { type: 'object' } } }),
    request: (a) => ({ method: 'GET', path: apiPath(['v1', 'runs'], pick(a, ['status', 'definition', 'limit'])) }),
  },
  {
    name: 'get_run',
    title: 'Run status',
    description: 'A run with its steps; agent_contract lists what can be done next.',
    route: 'GET /v1/runs/{id}',
    inputSchema: objectOf({ runId: RUN_ID }, ['runId']),
    outputSchema: RUN_ENVELOPE,
    request: (a) => ({ method: 'GET', path: apiPath(['v1', 'runs', str(a, 'runId')]) }),
  },
  {
    name: 'get_history',
    title: 'Run history',
    description: 'Every event of a run, in order, with actors and reasons (operator, auditor and admin keys).',
    route: 'GET /v1/runs/{id}/events',
    inputSchema: objectOf({ runId: RUN_ID }, ['runId']),
    outputSchema: envelope({ events: { type: 'array', items: { type: 'object' } } }),
    request: (a) => ({ method: 'GET', path: apiPath(['v1', 'runs', str(a, 'runId'), 'events']) }),
  },
  {
    name: 'wait_for_run',
    title: 'Wait for a change',
    description: `Waits until the run ends, or with "after" (a position from an earlier answer) until it changes past it, or until timeoutMs (at most ${MAX_TOOL_WAIT_MS}) is up.`,
    route: 'GET /v1/runs/{id}/wait',
    inputSchema: objectOf(
      {
        runId: RUN_ID,
        timeoutMs: { type: 'integer', minimum: 0, maximum: MAX_TOOL_WAIT_MS },
        after: { type: 'integer', minimum: 0, description: 'wait.position of an earlier answer' },
      },
      ['runId'],
    ),
    outputSchema: envelope({
      run: { type: 'object' },
      wait: {
        type: 'object',
        properties: { ended: { type: 'boolean' }, timedOut: { type: 'boolean' }, position: { type: 'integer' } },
      },
    }),
    request: (a) => ({
      method: 'GET',
      path: apiPath(['v1', 'runs', str(a, 'runId'), 'wait'], pick(a, ['timeoutMs', 'after'])),
    }),
  },
  {
    name: 'query_audit',
    title: 'Search the audit index',
    description: 'Events across runs by run, definition, actor, type, step, policy and time (auditor and admin keys).',
    route: 'GET /v1/audit/events',
    inputSchema: objectOf({
      run: { type: 'string', maxLength: 128 },
      definition: { type: 'string', maxLength: 128 },
      actor: { type: 'string', maxLength: 256 },
      type: { type: 'string', maxLength: 128 },
      step: { type: 'string', maxLength: 128 },
      policy: { type: 'string', maxLength: 256 },
      since: { type: 'string', maxLength: 64, description: 'ISO time' },
      until: { type: 'string', maxLength: 64, description: 'ISO time' },
      cursor: { type: 'string', maxLength: 512 },
      limit: { type: 'integer', minimum: 1, maximum: 1000 },
    }),
    outputSchema: envelope({ events: { type: 'array', items: { type: 'object' } }, nextCursor: {} }),
    request: (a) => ({ method: 'GET', path: apiPath(['v1', 'audit', 'events'], a) }),
  },
];

const start: ToolSpec = {
  name: 'start_run',
  title: 'Start a run',
  description:
    'Starts a registered definition. The same idempotencyKey with the same input answers the run it started before, so a retried call runs once.',
  route: 'POST /v1/runs',
  inputSchema: objectOf(
    {
      definitionId: { type: 'string', minLength: 1, maxLength: 128 },
      definitionVersion: { type: 'integer', minimum: 1, description: 'default: the latest' },
      input: ANY_JSON,
      idempotencyKey: { type: 'string', minLength: 1, maxLength: 256 },
      budget: budgetSchema,
    },
    ['definitionId'],
  ),
  outputSchema: envelope({ run: { type: 'object' }, accepted: { type: 'object' } }),
  request: (a) => ({
    method: 'POST',
    path: '/v1/runs',
    body: pick(a, ['definitionId', 'definitionVersion', 'input', 'idempotencyKey', 'budget']),
  }),
};

const sendEvent: ToolSpec = {
  name: 'send_event',
  title: 'Send an event',
  description:
    'Delivers an event from outside (a signature, a payment notice) to the steps waiting for it by name and key; kept for a while if none waits yet. The same id twice is a duplicate, ignored. Producer, operator and admin keys.',
  route: 'POST /v1/events',
  inputSchema: objectOf(
    {
      name: { type: 'string', minLength: 1, maxLength: 200, description: 'e.g. contract.signed' },
      key: { type: 'string', minLength: 1, maxLength: 512, description: 'the value the waiting step matches on' },
      id: { type: 'string', minLength: 1, maxLength: 200, description: 'unique per event: a repeat is ignored' },
      payload: ANY_JSON,
    },
    ['name', 'key', 'id'],
  ),
  outputSchema: envelope({}),
  request: (a) => ({ method: 'POST', path: '/v1/events', body: pick(a, ['name', 'key', 'id', 'payload']) }),
};

interface ActionSpec {
  readonly tool: string;
  readonly action: string;
  readonly title: string;
  readonly description: string;
  readonly fields: Record<string, Schema>;
  readonly required: readonly string[];
}

const ACTIONS: readonly ActionSpec[] = [
  {
    tool: 'approve',
    action: 'approve',
    title: 'Approve a gate',
    description: 'Approves a step waiting for approval.',
    fields: { stepId: STEP_ID },
    required: ['stepId'],
  },
  {
    tool: 'reject',
    action: 'reject',
    title: 'Reject a gate',
    description: 'Rejects a step waiting for approval: the step fails.',
    fields: { stepId: STEP_ID },
    required: ['stepId'],
  },
  {
    tool: 'pause',
    action: 'pause',
    title: 'Pause a run',
    description: 'No further step is dispatched until resumed.',
    fields: {},
    required: [],
  },
  {
    tool: 'resume',
    action: 'resume',
    title: 'Resume a run',
    description: 'Resumes a paused run.',
    fields: {},
    required: [],
  },
  {
    tool: 'retry_step',
    action: 'retry',
    title: 'Retry a step',
    description: 'Runs a failed step again, with an edited input if given.',
    fields: { stepId: STEP_ID, input: ANY_JSON },
    required: ['stepId'],
  },
  {
    tool: 'skip_step',
    action: 'skip',
    title: 'Skip a step',
    description: 'Marks a step done with the output it would have produced (null for none).',
    fields: { stepId: STEP_ID, output: ANY_JSON },
    required: ['stepId', 'output'],
  },
  {
    tool: 'compensate',
    action: 'compensate',
    title: 'Compensate a run',
    description: 'Undoes the completed steps, newest first.',
    fields: {},
    required: [],
  },
  {
    tool: 'cancel',
    action: 'cancel',
    title: 'Cancel a run',
    description: 'Stops the run without compensating.',
    fields: {},
    required: [],
  },
  {
    tool: 'redrive',
    action: 'redrive',
    title: 'Re-drive a run',
    description:
      'Re-opens an ended run from a step (and the steps after it), with an edited input if given; reason required.',
    fields: { stepId: STEP_ID, input: ANY_JSON },
    required: ['stepId', 'reason'],
  },
  {
    tool: 'raise_budget',
    action: 'raise-budget',
    title: "Raise a run's budget",
    description:
      'Sets a new budget (tokens, cost) on a run; one stopped at BUDGET.EXCEEDED goes on when the new budget covers what it used. Reason required.',
    fields: { budget: budgetSchema },
    required: ['budget', 'reason'],
  },
];

function actionTool(spec: ActionSpec): ToolSpec {
  return {
    name: spec.tool,
    title: spec.title,
    description: `${spec.description} Operator and admin keys; refused with the API's code when it does not apply now.`,
    route: `POST /v1/runs/{id}/actions/${spec.action}`,
    inputSchema: objectOf({ runId: RUN_ID, ...spec.fields, reason: REASON }, ['runId', ...spec.required]),
    outputSchema: RUN_ENVELOPE,
    request: (a) => ({
      method: 'POST',
      path: apiPath(['v1', 'runs', str(a, 'runId'), 'actions', spec.action]),
      body: pick(a, ['stepId', 'input', 'output', 'budget', 'reason']),
    }),
  };
}

/** Every tool, in the order a client lists them. */
export const TOOLS: readonly ToolSpec[] = [
  ...read.slice(0, 3),
  start,
  ...read.slice(3),
  sendEvent,
  ...ACTIONS.map(actionTool),
];
