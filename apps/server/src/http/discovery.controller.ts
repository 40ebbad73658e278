import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { definitionSchema } from '@orchestron/definitions';
import { TOOLS } from '@orchestron/mcp';
import { readFile } from 'node:fs/promises';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { HealthEnvelope } from './api-models.ts';
import { ROLES } from './auth.ts';
import {
  ADMINS,
  ANY_ROLE,
  DEFINITION_WRITERS,
  HISTORY_READERS,
  OPERATORS,
  Public,
  READERS,
  STARTERS,
} from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { errorCatalogue } from './error-advice.ts';
import { RequestError } from './errors.ts';
import { OPENAPI_PATH } from './openapi.ts';
import { ACTIONS } from './runs.dto.ts';
import { OPENAPI_DOCUMENT } from './tokens.ts';

/** Filled in by createHttpApp once the document can be generated (it describes this very application). */
export interface OpenApiHolder {
  document: Record<string, unknown> | null;
}

/** What needs no key: health, and what an agent reads to learn the API. */
export class DiscoveryController {
  readonly #openapi: OpenApiHolder;

  constructor(openapi: OpenApiHolder) {
    this.#openapi = openapi;
  }

  health(): { status: string; agent_contract: AgentContract } {
    return { status: 'ok', agent_contract: errorContract(false) };
  }

  agent(): Record<string, unknown> {
    return discovery();
  }

  definitionSchema(): unknown {
    return definitionSchema;
  }

  async asyncapi(): Promise<string> {
    try {
      return await readFile(ASYNCAPI_FILE, 'utf8');
    } catch {
      throw new RequestError('ROUTE.NOT_FOUND', 'the AsyncAPI document (docs/asyncapi.yaml) is not installed here');
    }
  }

  openapi(): Record<string, unknown> {
    if (!this.#openapi.document)
      throw new Error('the OpenAPI document was not generated: createHttpApp sets it before the app serves');
    return this.#openapi.document;
  }
}

const ASYNCAPI_PATH = '/v1/asyncapi.yaml';
const ASYNCAPI_FILE = new URL('../../../../docs/asyncapi.yaml', import.meta.url);

const CAPABILITIES = [
  'workflow definitions: steps, dependencies, joins, when, retries with jitter, timeouts, saga compensation',
  'governance: Cedar policies rule on every side-effecting step before it runs (allow, deny, require approval)',
  'human approval gates with assignees and escalation',
  'operator takeover: approve, reject, pause, resume, retry with input, skip with output, compensate, cancel, re-drive, fork',
  'idempotent starts (idempotencyKey), long-poll waits, time travel (?at=)',
  'an audit trail: search, NDJSON export, hash chains, a signed Merkle log with inclusion proofs',
  'tenants and roles on every key; webhooks; Prometheus metrics',
  'MCP over streamable HTTP and stdio',
];

function discovery(): Record<string, unknown> {
  return {
    name: 'Orchestron',
    description:
      'Event-sourced workflow orchestration with saga compensation, governance checks and operator takeover.',
    authentication: {
      type: 'bearer',
      header: 'Authorization',
      roles: ROLES,
      tenants:
        "every key belongs to a tenant; it sees and acts on its own tenant's runs and definitions only (an admin key: every tenant)",
    },
    capabilities: CAPABILITIES,
    documents: { definitionSchema: '/v1/schemas/definition.json', openapi: OPENAPI_PATH, asyncapi: ASYNCAPI_PATH },
    errors: {
      shape: '{ error: { code, message, retryable, details? }, agent_contract: { retryable, next_actions } }',
      retry:
        'retry only when error.retryable (always a 503, with Retry-After); a 409 answers with the run’s current next_actions',
      codes: errorCatalogue(),
    },
    mcp: {
      description:
        'the Model Context Protocol server: every tool is a call of this API with your key, refused as its route would be',
      streamableHttp: { endpoint: '/mcp', method: 'POST', stateless: true, auth: 'the same bearer key' },
      stdio: { command: 'npx orchestron mcp', env: ['ORCHESTRON_URL', 'ORCHESTRON_API_KEY'] },
      tools: TOOLS.map((tool) => ({ name: tool.name, route: tool.route })),
      resources: ['orchestron://runs/{runId}', 'orchestron://definitions/{definitionId}'],
      prompts: ['operate_orchestron'],
    },
    endpoints: [
      {
        method: 'POST',
        path: '/v1/runs',
        roles: STARTERS,
        description:
          'start a run: { definitionId, definitionVersion? ("latest" or a number), input, idempotencyKey? }, or an inline definition (registering one needs operator or admin)',
      },
      {
        method: 'GET',
        path: '/v1/runs',
        roles: READERS,
        description:
          'list runs, newest first (?status=&definition=&idempotencyKey=&limit=&cursor=&tenant=); nextCursor pages',
      },
      { method: 'GET', path: '/v1/runs/{id}', roles: READERS, description: 'a run with its steps' },
      {
        method: 'GET',
        path: '/v1/runs/{id}/wait',
        roles: READERS,
        description:
          'long poll: answers when the run ends, or changes past ?after=<position>, or at ?timeoutMs= (≤ 60 s)',
      },
      { method: 'GET', path: '/v1/runs/{id}/events', roles: HISTORY_READERS, description: "the run's event history" },
      {
        method: 'POST',
        path: '/v1/runs/{id}/actions/{action}',
        roles: OPERATORS,
        description: `operator actions: ${ACTIONS.join(', ')}; approve, reject or skip of an approval step with assignees needs an admin key or a key matching one (group:<g>, role:<g>, <g>: a key holding group g; user:<name>: its subject)`,
      },
      {
        method: 'POST',
        path: '/v1/runs/{id}/fork',
        roles: OPERATORS,
        description:
          "a new run from this run's state at a revision: { at, input?, reason? }; the steps done by then start done",
      },
      {
        method: 'POST',
        path: '/v1/events',
        roles: STARTERS,
        description:
          'an event from outside: { name, key, id, payload? }; delivered to the steps waiting for it (type: event), else kept for ORCHESTRON_EVENT_BUFFER; a repeated id is ignored',
      },
      {
        method: 'POST',
        path: '/v1/schedules',
        roles: OPERATORS,
        description:
          'create a schedule: { id, definitionId, definitionVersion?, cron, timezone, input?, overlap? (skip|buffer_one|allow), catchUp? (none|latest|all), maxCatchUp? (≤ 100) }; each fire starts one run keyed schedule:<id>:<fire time>',
      },
      {
        method: 'GET',
        path: '/v1/schedules',
        roles: READERS,
        description: 'schedules with next fire, last fire and its run, paused or not (?tenant= for an admin)',
      },
      { method: 'GET', path: '/v1/schedules/{id}', roles: READERS, description: 'one schedule' },
      {
        method: 'POST',
        path: '/v1/schedules/{id}/pause',
        roles: OPERATORS,
        description: 'stop its fires: { reason? }',
      },
      {
        method: 'POST',
        path: '/v1/schedules/{id}/resume',
        roles: OPERATORS,
        description: 'fire again from now on (fires missed while paused are not caught up)',
      },
      { method: 'DELETE', path: '/v1/schedules/{id}', roles: OPERATORS, description: 'no more fires; its runs stay' },
      {
        method: 'POST',
        path: '/v1/definitions',
        roles: DEFINITION_WRITERS,
        description: "register a definition version in the caller's tenant; a version never changes",
      },
      {
        method: 'GET',
        path: '/v1/definitions',
        roles: READERS,
        description: 'registered definitions and their versions',
      },
      { method: 'GET', path: '/v1/definitions/{id}', roles: READERS, description: 'a compiled definition (?version=)' },
      {
        method: 'POST',
        path: '/v1/definitions/validate',
        roles: ANY_ROLE,
        description: 'check a definition; every problem with its path',
      },
      {
        method: 'POST',
        path: '/v1/keys',
        roles: ADMINS,
        description:
          'issue an API key: { role, subject, tenant?, groups?, expiresAt? }; the token is in the answer, once',
      },
      { method: 'GET', path: '/v1/keys', roles: ADMINS, description: 'every key, without secrets (?tenant=)' },
      { method: 'POST', path: '/v1/keys/{id}/revoke', roles: ADMINS, description: 'revoke an issued key: { reason? }' },
      {
        method: 'GET',
        path: '/v1/notifications',
        roles: HISTORY_READERS,
        description: 'webhook deliveries with their attempts (?run=&status=pending|delivered|failed&limit=&tenant=)',
      },
      {
        method: 'GET',
        path: '/v1/audit/events',
        roles: HISTORY_READERS,
        description:
          "search every run's events from the audit index, oldest first (?run=&definition=&actor=&type=&step=&policy=&since=&until=&limit=&cursor=&tenant=); next_cursor pages",
      },
      {
        method: 'GET',
        path: '/v1/audit/checkpoint',
        roles: HISTORY_READERS,
        description: "the newest signed checkpoint of the log's Merkle tree and its Ed25519 public key",
      },
      {
        method: 'GET',
        path: '/v1/audit/export',
        roles: HISTORY_READERS,
        description: 'NDJSON with each event hash, to verify offline (?run= for one run; the whole log is admin only)',
      },
      {
        method: 'GET',
        path: '/v1/audit/verify',
        roles: HISTORY_READERS,
        description:
          'the export checked by the server with its own key: ok, or the first bad position (?run= for one run; the whole log is admin only)',
      },
      {
        method: 'GET',
        path: '/v1/audit/proofs/{eventId}',
        roles: HISTORY_READERS,
        description: "an RFC 9162 inclusion proof of the event in the newest checkpoint's tree",
      },
      {
        method: 'GET',
        path: '/v1/held-steps',
        roles: READERS,
        description:
          'steps held by flow control (concurrency_limit, rate_limit, breaker_open) or waiting for their locks (lock), with worker and reason, oldest first (?tenant=&limit=)',
      },
      {
        method: 'GET',
        path: '/v1/locks',
        roles: READERS,
        description:
          'resource locks: who holds each (run, step, mode) and who waits for it, first in line first, by tenant then name (?tenant=&limit=)',
      },
      {
        method: 'GET',
        path: '/v1/dead-letters',
        roles: HISTORY_READERS,
        description:
          "dead letters with their reason, oldest first (?topic=&limit=); a non-admin sees its tenant's runs' letters",
      },
      {
        method: 'POST',
        path: '/v1/dead-letters/replay',
        roles: OPERATORS,
        description: '{ position, reason? }: republish a dead letter to its source topic; it stays listed',
      },
      { method: 'GET', path: '/metrics', roles: HISTORY_READERS, description: 'Prometheus metrics (text format)' },
      {
        method: 'GET',
        path: '/v1/events/stream',
        roles: READERS,
        description:
          'run events as they are recorded, as Server-Sent Events (?run=&tenant=&after=; Last-Event-ID resumes)',
      },
      {
        method: 'GET',
        path: '/v1/whoami',
        roles: ANY_ROLE,
        description: "the calling key's id, role, tenant and groups",
      },
    ],
    agent_contract: errorContract(false),
  };
}

injectByToken(DiscoveryController, [OPENAPI_DOCUMENT]);
decorateClass(DiscoveryController, [Controller(), ApiTags('discovery')]);
decorateMethod(DiscoveryController, 'health', [
  Get('healthz'),
  Public(),
  ApiOperation({ summary: 'liveness' }),
  ApiOkResponse({ description: 'the server is up', type: HealthEnvelope }),
]);
decorateMethod(DiscoveryController, 'agent', [
  Get('.well-known/agent.json'),
  Public(),
  ApiOperation({ summary: 'discovery for agents: documents, endpoints and the roles they admit' }),
  ApiOkResponse({ description: 'the discovery document', schema: { type: 'object' } }),
]);
decorateMethod(DiscoveryController, 'definitionSchema', [
  Get('v1/schemas/definition.json'),
  Public(),
  ApiOperation({ summary: 'the JSON Schema of workflow definitions' }),
  ApiOkResponse({ description: 'a JSON Schema (draft-07)', schema: { type: 'object' } }),
]);
decorateMethod(DiscoveryController, 'asyncapi', [
  Get(ASYNCAPI_PATH.slice(1)),
  Public(),
  Header('content-type', 'application/yaml; charset=utf-8'),
  ApiOperation({ summary: 'the AsyncAPI document: every Kafka topic and message of the production tier' }),
  ApiOkResponse({ description: 'an AsyncAPI 3 document, as YAML', schema: { type: 'string' } }),
]);
decorateMethod(DiscoveryController, 'openapi', [
  Get(OPENAPI_PATH.slice(1)),
  Public(),
  ApiOperation({ summary: 'this document' }),
  ApiOkResponse({ description: 'an OpenAPI 3 document', schema: { type: 'object' } }),
]);
