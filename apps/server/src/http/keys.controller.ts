import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { KeyRing, KeyView } from '../keys/key-ring.ts';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses } from './api-models.ts';
import type { Principal } from './auth.ts';
import { ADMINS, Caller, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { CreateKeyBody, groupsOf, KeyListQuery, RevokeKeyBody } from './keys.dto.ts';
import { KEY_RING } from './tokens.ts';

/** API keys: issue (the token is shown once), list, revoke. Admins only; key ids, never secrets, reach events. */
export class KeysController {
  readonly #keys: KeyRing;

  constructor(keys: KeyRing) {
    this.#keys = keys;
  }

  async create(
    body: CreateKeyBody,
    caller: Principal,
    reply: FastifyReply,
  ): Promise<{ key: KeyView; token: string; agent_contract: AgentContract }> {
    const { key, token } = await this.#keys.create(
      {
        role: body.role,
        subject: body.subject,
        tenant: body.tenant ?? caller.tenant,
        groups: groupsOf(body),
        expiresAt: body.expiresAt ?? null,
      },
      caller,
    );
    void reply.status(201);
    return { key, token, agent_contract: errorContract(false) };
  }

  list(query: KeyListQuery): { keys: KeyView[]; agent_contract: AgentContract } {
    return { keys: this.#keys.list(query.tenant), agent_contract: errorContract(false) };
  }

  async revoke(
    id: string,
    body: RevokeKeyBody,
    caller: Principal,
  ): Promise<{ key: KeyView; agent_contract: AgentContract }> {
    return { key: await this.#keys.revoke(id, caller, body.reason ?? null), agent_contract: errorContract(false) };
  }
}

injectByToken(KeysController, [KEY_RING]);
decorateClass(KeysController, [
  Controller('v1/keys'),
  ApiTags('keys'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
decorateMethod(
  KeysController,
  'create',
  [
    Post(),
    Roles(...ADMINS),
    ApiOperation({
      summary: 'issue an API key',
      description: 'the response carries the token once; only its scrypt hash is kept',
    }),
    ApiResponse({ status: 201, description: 'the key, and its token (shown this once)' }),
  ],
  [{ decorator: Body(), type: CreateKeyBody }, { decorator: Caller() }, { decorator: Res({ passthrough: true }) }],
);
decorateMethod(
  KeysController,
  'list',
  [
    Get(),
    Roles(...ADMINS),
    ApiOperation({ summary: 'every key (configured and issued), without secrets' }),
    ApiResponse({ status: 200, description: 'the keys' }),
  ],
  [{ decorator: Query(), type: KeyListQuery }],
);
decorateMethod(
  KeysController,
  'revoke',
  [
    Post(':id/revoke'),
    HttpCode(200),
    Roles(...ADMINS),
    ApiOperation({
      summary: 'revoke an issued key',
      description: 'takes effect at once in this process, within seconds in other API processes',
    }),
    ApiParam({ name: 'id', type: String }),
    ApiResponse({ status: 200, description: 'the revoked key' }),
    ...errorResponses(404, 409),
  ],
  [{ decorator: Param('id'), type: String }, { decorator: Body(), type: RevokeKeyBody }, { decorator: Caller() }],
);
