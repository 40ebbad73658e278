import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { quoteForMessage } from '@orchestron/definitions';
import type { RunService } from '@orchestron/runtime';
import type { FastifyReply } from 'fastify';
import { AcceptedEnvelope, errorResponses, RunEnvelope } from './api-models.ts';
import { actorOf, maySee } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, OPERATORS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { RequestError } from './errors.ts';
import { ForkBody } from './fork.dto.ts';
import { answerStart } from './start-answer.ts';
import type { StartAnswer } from './start-answer.ts';
import { RUN_SERVICE } from './tokens.ts';

/**
 * Fork: a new run from a run's state at a revision, for what-if repair (docs/operators.md#fork). Operators start runs
 * and read histories, so they (and admins) may fork; the fork is in its parent's tenant, and another tenant's run is
 * a run that does not exist.
 */
export class ForkController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async fork(id: string, body: ForkBody, caller: Principal, reply: FastifyReply): Promise<StartAnswer> {
    const parent = await this.#runs.getRun(id);
    if (!parent || !maySee(caller, parent.tenant))
      throw new RequestError('RUN.NOT_FOUND', `run ${quoteForMessage(id)} does not exist`);
    const started = await this.#runs.startRun({
      fork: { runId: id, revision: body.at, ...(body.reason !== undefined ? { reason: body.reason } : {}) },
      ...('input' in body ? { input: body.input } : {}),
      actor: actorOf(caller),
      tenant: parent.tenant,
      keyId: caller.keyId,
    });
    return answerStart(started, reply, () => 201);
  }
}

injectByToken(ForkController, [RUN_SERVICE]);
decorateClass(ForkController, [
  Controller('v1/runs'),
  ApiTags('runs'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
decorateMethod(
  ForkController,
  'fork',
  [
    Post(':id/fork'),
    Roles(...OPERATORS),
    ApiOperation({
      summary: "start a new run from this run's state at a revision (what-if repair)",
      description:
        "the fork gets a new id, the parent's pinned definition and its input (or `input`, checked against the definition's schema); the steps completed or skipped by revision `at` start done with the parent's outputs, everything else runs as in a fresh run. Its run view shows `forkedFrom`; the parent is unchanged. An `at` past the parent's newest revision, or not an integer, is 400 naming it",
    }),
    ApiParam({ name: 'id', type: String, description: 'the parent run' }),
    ApiResponse({ status: 201, description: 'the fork, started', type: RunEnvelope }),
    ApiResponse({
      status: 202,
      description:
        'accepted (API mode): recorded in the outbox, not started yet; `run` is `{ id, status: "accepted" }`',
      type: AcceptedEnvelope,
    }),
    ...errorResponses(404),
  ],
  [
    { decorator: Param('id'), type: String },
    { decorator: Body(), type: ForkBody },
    { decorator: Caller() },
    { decorator: Res({ passthrough: true }) },
  ],
);
