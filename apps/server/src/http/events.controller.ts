import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MAX_EVENT_PAYLOAD_BYTES } from '@orchestron/bus';
import { DEFAULT_TENANT } from '@orchestron/workflow-core';
import type { RunService, SendEventResult } from '@orchestron/runtime';
import type { FastifyReply } from 'fastify';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses, SendEventEnvelope } from './api-models.ts';
import { actorOf, tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, Roles, STARTERS } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { RequestError } from './errors.ts';
import { SendEventBody } from './events.dto.ts';
import { RUN_SERVICE } from './tokens.ts';

/**
 * Events from outside for `type: event` steps (docs/semantics.md#event-steps). A producer sends them for its own
 * tenant's runs: another tenant's runs never see them, whatever the key.
 */
export class EventsController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async send(
    body: SendEventBody,
    caller: Principal,
    reply: FastifyReply,
  ): Promise<{ event: SendEventResult; agent_contract: AgentContract }> {
    const size = Buffer.byteLength(JSON.stringify(body.payload ?? null), 'utf8');
    if (size > MAX_EVENT_PAYLOAD_BYTES)
      throw new RequestError(
        'REQUEST.TOO_LARGE',
        `"payload" is ${size} bytes of JSON, over the limit of ${MAX_EVENT_PAYLOAD_BYTES}`,
        { field: 'payload' },
      );
    const tenant = tenantScope(caller, body.tenant) ?? caller.tenant ?? DEFAULT_TENANT;
    const event = await this.#runs.sendEvent({
      tenant,
      name: body.name,
      key: body.key,
      id: body.id,
      payload: body.payload ?? null,
      actor: actorOf(caller),
    });
    void reply.status(event.status === 'buffered' ? 202 : 200);
    return { event, agent_contract: contractOf(event) };
  }
}

function contractOf(event: SendEventResult): AgentContract {
  return {
    retryable: false,
    next_actions: event.deliveredTo.map(({ runId }) => ({
      action: 'get_run',
      method: 'GET',
      endpoint: `/v1/runs/${encodeURIComponent(runId)}`,
      description: 'the run the event was delivered to',
    })),
  };
}

injectByToken(EventsController, [RUN_SERVICE]);
decorateClass(EventsController, [
  Controller('v1/events'),
  ApiTags('events'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403, 413),
]);
decorateMethod(
  EventsController,
  'send',
  [
    Post(),
    HttpCode(200),
    Roles(...STARTERS),
    ApiOperation({
      summary: 'send an event to the event steps waiting for it',
      description:
        "delivered to every step of the caller's tenant's runs waiting for `name` with `key` (its payload becomes their output): 200 with `status: delivered` and `deliveredTo`. No step waits yet: it is kept for the buffer window (ORCHESTRON_EVENT_BUFFER) and handed to the first step that starts waiting, 202 with `status: buffered` and `expiresAt`. An `id` already sent for the same name and key: 200 with `status: duplicate`, nothing delivered again",
    }),
    ApiResponse({ status: 200, description: 'delivered, or a duplicate', type: SendEventEnvelope }),
    ApiResponse({ status: 202, description: 'buffered: no step waits for it yet', type: SendEventEnvelope }),
  ],
  [{ decorator: Body(), type: SendEventBody }, { decorator: Caller() }, { decorator: Res({ passthrough: true }) }],
);
