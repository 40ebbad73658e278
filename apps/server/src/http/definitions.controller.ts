import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { definitionIssues } from '@orchestron/definitions';
import type { RunService } from '@orchestron/runtime';
import type { FastifyReply } from 'fastify';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { DefinitionEnvelope, DefinitionListEnvelope, errorResponses, ValidationEnvelope } from './api-models.ts';
import { actorOf, tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { ANY_ROLE, Caller, DEFINITION_WRITERS, READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { DefinitionParams, DefinitionQuery } from './runs.dto.ts';
import { RUN_SERVICE } from './tokens.ts';

/** Definitions: register a version, list, read, validate. Bodies are definitions, judged by the definition schema, not by a DTO. */
export class DefinitionsController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async register(
    body: unknown,
    caller: Principal,
    reply: FastifyReply,
  ): Promise<{ definition: unknown; agent_contract: AgentContract }> {
    const { definition, created } = await this.#runs.definitions.register(
      body,
      actorOf(caller),
      caller.tenant,
      caller.keyId,
    );
    void reply.status(created ? 201 : 200);
    return { definition, agent_contract: errorContract(false) };
  }

  list(query: DefinitionQuery, caller: Principal): { definitions: unknown[]; agent_contract: AgentContract } {
    const tenant = tenantScope(caller, query.tenant);
    return {
      definitions: this.#runs.definitions.list(tenant).map((d) => ({
        id: d.id,
        tenant: d.tenant,
        versions: d.versions,
        name: d.latest.name,
        description: d.latest.description,
      })),
      agent_contract: errorContract(false),
    };
  }

  get(
    params: DefinitionParams,
    query: DefinitionQuery,
    caller: Principal,
  ): { definition: unknown; agent_contract: AgentContract } {
    const tenant = tenantScope(caller, query.tenant) ?? caller.tenant;
    return {
      definition: this.#runs.definitions.get(params.id, query.version ?? 'latest', tenant),
      agent_contract: errorContract(false),
    };
  }

  validate(body: unknown): { valid: boolean; issues: unknown[]; agent_contract: AgentContract } {
    const issues = definitionIssues(body);
    return { valid: issues.length === 0, issues, agent_contract: errorContract(false) };
  }
}

injectByToken(DefinitionsController, [RUN_SERVICE]);
decorateClass(DefinitionsController, [
  Controller('v1/definitions'),
  ApiTags('definitions'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
const definitionBody = ApiBody({
  description: 'a workflow definition (JSON Schema: /v1/schemas/definition.json)',
  schema: { type: 'object', additionalProperties: true },
});
const freeBody = { decorator: Body(), type: Object };
decorateMethod(
  DefinitionsController,
  'register',
  [
    Post(),
    Roles(...DEFINITION_WRITERS),
    ApiOperation({
      summary: 'register a definition version (the definitions:write right)',
      description: "in the caller's tenant; a version, once registered, never changes",
    }),
    definitionBody,
    ApiResponse({ status: 201, description: 'registered', type: DefinitionEnvelope }),
    ApiResponse({ status: 200, description: 'this exact version was registered before', type: DefinitionEnvelope }),
    ...errorResponses(409),
  ],
  [freeBody, { decorator: Caller() }, { decorator: Res({ passthrough: true }) }],
);
decorateMethod(
  DefinitionsController,
  'list',
  [
    Get(),
    Roles(...READERS),
    ApiOperation({
      summary:
        "registered definitions and their versions, in the caller's tenant (an admin: every tenant, or ?tenant=)",
    }),
    ApiResponse({ status: 200, description: 'each definition with its versions', type: DefinitionListEnvelope }),
  ],
  [{ decorator: Query(), type: DefinitionQuery }, { decorator: Caller() }],
);
decorateMethod(
  DefinitionsController,
  'validate',
  [
    Post('validate'),
    HttpCode(200),
    Roles(...ANY_ROLE),
    ApiOperation({ summary: 'check a definition: every problem with its path' }),
    definitionBody,
    ApiResponse({ status: 200, description: 'valid, or every issue with its path', type: ValidationEnvelope }),
  ],
  [freeBody],
);
decorateMethod(
  DefinitionsController,
  'get',
  [
    Get(':id'),
    Roles(...READERS),
    ApiOperation({ summary: 'a compiled definition' }),
    ApiResponse({ status: 200, description: 'the compiled definition', type: DefinitionEnvelope }),
    ...errorResponses(404),
  ],
  [
    { decorator: Param(), type: DefinitionParams },
    { decorator: Query(), type: DefinitionQuery },
    { decorator: Caller() },
  ],
);
