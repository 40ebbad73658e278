import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { definitionIssues, definitionSchema } from '@orchestron/definitions';
import { toRunView } from '@orchestron/runtime';
import type { Engine, RunCommand } from '@orchestron/runtime';
import type { RunStatus } from '@orchestron/workflow-core';
import { errorContract, runContract } from './agent-contract.ts';
import { authenticate } from './auth.ts';
import type { ApiKey, Principal, Role } from './auth.ts';
import { RequestError, statusFor, toApiError } from './errors.ts';

export interface AppOptions {
  readonly engine: Engine;
  readonly keys: readonly ApiKey[];
  readonly logger?: boolean;
}

const READERS: readonly Role[] = ['producer', 'operator', 'auditor', 'admin'];
const ACTIONS = ['approve', 'reject', 'pause', 'resume', 'retry', 'skip', 'compensate', 'cancel'] as const;
type Action = (typeof ACTIONS)[number];
const RUN_STATUSES: readonly RunStatus[] = ['running', 'paused', 'needs_operator', 'compensating', 'completed', 'failed', 'compensated', 'cancelled'];

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    roles?: readonly Role[];
  }
}

/** The HTTP edge. Every call but health and discovery needs a key; each route names the roles it admits. */
export function buildApp(options: AppOptions): FastifyInstance {
  const { engine } = options;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 4 * 1024 * 1024, forceCloseConnections: true });

  app.addHook('onRequest', async (request, reply) => {
    const roles = request.routeOptions.config.roles;
    if (!roles) return;
    const principal = authenticate(options.keys, request.headers.authorization);
    if (!principal) return fail(reply, 'AUTH.UNAUTHENTICATED', 'send "Authorization: Bearer <api key>"; the embedded server writes an admin key to $ORCHESTRON_DATA/admin.key');
    if (!roles.includes(principal.role)) return fail(reply, 'AUTH.FORBIDDEN', `role ${principal.role} may not call this; it needs one of ${roles.join(', ')}`);
    request.principal = principal;
  });

  app.setErrorHandler((error, request, reply) => {
    const err = error as { validation?: unknown; statusCode?: number; message?: string };
    if (err.validation || (err.statusCode === 400)) return fail(reply, 'REQUEST.INVALID', err.message ?? 'bad request');
    const api = toApiError(error);
    if (api.code === 'INTERNAL') process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'request failed', url: request.url, error: String((error as Error).stack ?? error) })}\n`);
    return reply.code(statusFor(api.code)).send({ error: api, agent_contract: errorContract(api.retryable) });
  });
  app.setNotFoundHandler((request, reply) => fail(reply, 'ROUTE.NOT_FOUND', `no route ${request.method} ${request.url}`));

  app.get('/healthz', async () => ({ status: 'ok', agent_contract: errorContract(false) }));
  app.get('/.well-known/agent.json', async () => discovery());
  app.get('/v1/schemas/definition.json', async () => definitionSchema);

  app.post('/v1/runs', { config: { roles: ['producer', 'operator', 'admin'] } }, async (request, reply) => {
    const body = objectBody(request);
    if (body.definition === undefined && typeof body.definitionId !== 'string') throw new RequestError('REQUEST.INVALID', 'give "definition" (inline) or "definitionId"', { field: 'definitionId' });
    if (body.definitionVersion !== undefined && !Number.isInteger(body.definitionVersion)) throw new RequestError('REQUEST.INVALID', '"definitionVersion" must be an integer', { field: 'definitionVersion' });
    if (body.idempotencyKey !== undefined && (typeof body.idempotencyKey !== 'string' || body.idempotencyKey.length === 0 || body.idempotencyKey.length > 200)) {
      throw new RequestError('REQUEST.INVALID', '"idempotencyKey" must be a string of 1 to 200 characters', { field: 'idempotencyKey' });
    }
    const { run, created } = await engine.startRun({
      ...(body.definition !== undefined ? { definition: body.definition } : {}),
      ...(typeof body.definitionId === 'string' ? { definitionId: body.definitionId } : {}),
      ...(typeof body.definitionVersion === 'number' ? { definitionVersion: body.definitionVersion } : {}),
      ...(typeof body.idempotencyKey === 'string' ? { idempotencyKey: body.idempotencyKey } : {}),
      input: body.input ?? null,
      actor: actorOf(request),
    });
    const view = toRunView(run);
    return reply.code(created ? 201 : 200).send({ run: view, agent_contract: runContract(view) });
  });

  app.get('/v1/runs', { config: { roles: READERS } }, async (request) => {
    const q = request.query as Record<string, string | undefined>;
    if (q.status !== undefined && !RUN_STATUSES.includes(q.status as RunStatus)) throw new RequestError('REQUEST.INVALID', `status must be one of ${RUN_STATUSES.join(', ')}`, { field: 'status' });
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new RequestError('REQUEST.INVALID', 'limit must be an integer from 1 to 10000', { field: 'limit' });
    const runs = engine.index.list({ ...(q.status ? { status: q.status as RunStatus } : {}), ...(q.definition ? { definitionId: q.definition } : {}), limit });
    return { runs, agent_contract: { retryable: false, next_actions: [{ action: 'start_run', method: 'POST', endpoint: '/v1/runs', description: 'start a run' }] } };
  });

  app.get('/v1/runs/:id', { config: { roles: READERS } }, async (request) => {
    const run = await engine.getRun(idParam(request));
    if (!run) throw new RequestError('RUN.NOT_FOUND', `run ${idParam(request)} does not exist`);
    const view = toRunView(run);
    return { run: view, agent_contract: runContract(view) };
  });

  app.get('/v1/runs/:id/events', { config: { roles: ['operator', 'auditor', 'admin'] } }, async (request) => {
    const events = await engine.history(idParam(request));
    if (events.length === 0) throw new RequestError('RUN.NOT_FOUND', `run ${idParam(request)} does not exist`);
    return {
      events: events.map((e) => ({ revision: e.revision, position: e.position, type: e.type, data: e.data, metadata: e.metadata, recordedAt: e.recordedAt })),
      agent_contract: { retryable: false, next_actions: [{ action: 'get_run', method: 'GET', endpoint: `/v1/runs/${idParam(request)}`, description: 'the run\'s current state' }] },
    };
  });

  app.post('/v1/runs/:id/actions/:action', { config: { roles: ['operator', 'admin'] } }, async (request) => {
    const { action } = request.params as { action: string };
    if (!ACTIONS.includes(action as Action)) throw new RequestError('REQUEST.INVALID', `unknown action "${action}"; use one of ${ACTIONS.join(', ')}`, { field: 'action' });
    const command = toCommand(action as Action, request.body === undefined || request.body === null ? {} : objectBody(request));
    const run = await engine.execute(idParam(request), command, actorOf(request));
    const view = toRunView(run);
    return { run: view, agent_contract: runContract(view) };
  });

  app.post('/v1/definitions', { config: { roles: ['operator', 'admin'] } }, async (request, reply) => {
    const { definition, created } = await engine.definitions.register(request.body, actorOf(request));
    return reply.code(created ? 201 : 200).send({ definition, agent_contract: errorContract(false) });
  });
  app.get('/v1/definitions', { config: { roles: READERS } }, async () => ({
    definitions: engine.definitions.list().map((d) => ({ id: d.id, versions: d.versions, name: d.latest.name, description: d.latest.description })),
    agent_contract: errorContract(false),
  }));
  app.get('/v1/definitions/:id', { config: { roles: READERS } }, async (request) => {
    const version = (request.query as { version?: string }).version;
    return { definition: engine.definitions.get(idParam(request), version === undefined ? undefined : Number(version)), agent_contract: errorContract(false) };
  });
  app.post('/v1/definitions/validate', { config: { roles: ['producer', 'operator', 'auditor', 'admin', 'worker'] } }, async (request) => {
    const issues = definitionIssues(request.body);
    return { valid: issues.length === 0, issues, agent_contract: errorContract(false) };
  });

  return app;
}

function toCommand(action: Action, body: Record<string, unknown>): RunCommand {
  const reason = optionalString(body, 'reason');
  const r = reason === undefined ? {} : { reason };
  switch (action) {
    case 'approve':
      return { type: 'Approve', data: { stepId: requiredString(body, 'stepId'), ...r } };
    case 'reject':
      return { type: 'Reject', data: { stepId: requiredString(body, 'stepId'), ...r } };
    case 'pause':
      return { type: 'Pause', data: r };
    case 'resume':
      return { type: 'Resume', data: r };
    case 'retry':
      return { type: 'RetryStep', data: { stepId: requiredString(body, 'stepId'), ...(body.input !== undefined ? { input: body.input } : {}), ...r } };
    case 'skip':
      if (!('output' in body)) throw new RequestError('REQUEST.INVALID', '"output" is required: the output the skipped step would have produced (null for none)', { field: 'output' });
      return { type: 'SkipStep', data: { stepId: requiredString(body, 'stepId'), output: body.output, ...r } };
    case 'compensate':
      return { type: 'Compensate', data: r };
    case 'cancel':
      return { type: 'Cancel', data: r };
  }
}

function discovery() {
  return {
    name: 'Orchestron',
    description: 'Event-sourced workflow orchestration with saga compensation, governance checks and operator takeover.',
    authentication: { type: 'bearer', header: 'Authorization', roles: ['producer', 'worker', 'operator', 'auditor', 'admin'] },
    documents: { definitionSchema: '/v1/schemas/definition.json' },
    endpoints: [
      { method: 'POST', path: '/v1/runs', roles: ['producer', 'operator', 'admin'], description: 'start a run: { definition | definitionId, definitionVersion?, input, idempotencyKey? }' },
      { method: 'GET', path: '/v1/runs', roles: READERS, description: 'list runs (?status=&definition=&limit=)' },
      { method: 'GET', path: '/v1/runs/{id}', roles: READERS, description: 'a run with its steps' },
      { method: 'GET', path: '/v1/runs/{id}/events', roles: ['operator', 'auditor', 'admin'], description: 'the run\'s event history' },
      { method: 'POST', path: '/v1/runs/{id}/actions/{action}', roles: ['operator', 'admin'], description: `operator actions: ${ACTIONS.join(', ')}` },
      { method: 'POST', path: '/v1/definitions', roles: ['operator', 'admin'], description: 'register a definition version' },
      { method: 'POST', path: '/v1/definitions/validate', roles: ['producer', 'operator', 'auditor', 'admin', 'worker'], description: 'check a definition; every problem with its path' },
    ],
    agent_contract: errorContract(false),
  };
}

function fail(reply: FastifyReply, code: string, message: string): FastifyReply {
  return reply.code(statusFor(code)).send({ error: { code, message, retryable: false }, agent_contract: errorContract(false) });
}

function objectBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RequestError('REQUEST.INVALID', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function idParam(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}

function actorOf(request: FastifyRequest): string {
  return request.principal ? `${request.principal.role}:${request.principal.name}` : 'anonymous';
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) throw new RequestError('REQUEST.INVALID', `"${field}" is required`, { field });
  return value;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new RequestError('REQUEST.INVALID', `"${field}" must be a string`, { field });
  return value;
}
