/* JSON Schemas the MCP tools declare. Outputs describe the API's envelopes: every answer, a refusal too, carries
   `agent_contract`; a refusal carries `error` instead of the data (and the tool result is marked isError). */

type Schema = Record<string, unknown>;

export const RUN_ID: Schema = { type: 'string', minLength: 1, maxLength: 128, description: 'the run id' };
export const STEP_ID: Schema = { type: 'string', minLength: 1, maxLength: 128, description: 'the step id' };
export const REASON: Schema = {
  type: 'string',
  maxLength: 2000,
  description: 'why: recorded in the run history with the caller',
};
export const ANY_JSON: Schema = { description: 'any JSON value' };

const NEXT_ACTION: Schema = {
  type: 'object',
  properties: {
    action: { type: 'string' },
    method: { type: 'string', enum: ['GET', 'POST'] },
    endpoint: { type: 'string' },
    description: { type: 'string' },
    body: { type: 'object' },
  },
  required: ['action', 'method', 'endpoint', 'description'],
};

export const AGENT_CONTRACT: Schema = {
  type: 'object',
  description: 'whether to retry, and what can be done next (the same as on every HTTP answer)',
  properties: { retryable: { type: 'boolean' }, next_actions: { type: 'array', items: NEXT_ACTION } },
  required: ['retryable', 'next_actions'],
};

export const API_ERROR: Schema = {
  type: 'object',
  description: 'why the call was refused: a stable code (docs/api.md), a message, and details such as the field',
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    retryable: { type: 'boolean' },
    details: { type: 'object' },
  },
  required: ['code', 'message'],
};

const RUN: Schema = { type: 'object', description: 'a run: id, status, steps, input, output, …' };

/** An output schema: the answer's own fields, or `error`, and `agent_contract` always. */
export function envelope(properties: Record<string, Schema>): Schema {
  return {
    type: 'object',
    properties: { ...properties, error: API_ERROR, agent_contract: AGENT_CONTRACT },
    required: ['agent_contract'],
  };
}

export const RUN_ENVELOPE = envelope({ run: RUN });

export function objectOf(properties: Record<string, Schema>, required: readonly string[] = []): Schema {
  return { type: 'object', properties, required: [...required], additionalProperties: false };
}
