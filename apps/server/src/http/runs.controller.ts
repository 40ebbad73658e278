import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { toRunView } from '@orchestron/runtime';
import type { RunCommand, RunService } from '@orchestron/runtime';
import type { FastifyReply } from 'fastify';
import { runContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses, EventsEnvelope, RunEnvelope, RunListEnvelope } from './api-models.ts';
import { Actor, HISTORY_READERS, OPERATORS, READERS, Roles, STARTERS } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { RequestError } from './errors.ts';
import { ListRunsQuery, RunActionBody, RunActionParams, StartRunBody } from './runs.dto.ts';
import type { Action } from './runs.dto.ts';
import { RUN_SERVICE } from './tokens.ts';

/** Runs: start, list, inspect, history, operator actions. */
export class RunsController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async start(body: StartRunBody, actor: string, reply: FastifyReply): Promise<{ run: unknown; agent_contract: AgentContract }> {
    const { run, created } = await this.#runs.startRun({
      ...(body.definition !== undefined ? { definition: body.definition } : {}),
      ...(body.definitionId !== undefined ? { definitionId: body.definitionId } : {}),
      ...(body.definitionVersion !== undefined ? { definitionVersion: body.definitionVersion } : {}),
      ...(body.idempotencyKey !== undefined ? { idempotencyKey: body.idempotencyKey } : {}),
      input: body.input ?? null,
      actor,
    });
    void reply.status(created ? 201 : 200);
    const view = toRunView(run);
    return { run: view, agent_contract: runContract(view) };
  }

  list(query: ListRunsQuery): { runs: unknown[]; agent_contract: AgentContract } {
    const runs = this.#runs.listRuns({
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.definition ? { definitionId: query.definition } : {}),
      limit: query.limit ?? 100,
    });
    return { runs, agent_contract: { retryable: false, next_actions: [{ action: 'start_run', method: 'POST', endpoint: '/v1/runs', description: 'start a run' }] } };
  }

  async get(id: string): Promise<{ run: unknown; agent_contract: AgentContract }> {
    const run = await this.#runs.getRun(id);
    if (!run) throw new RequestError('RUN.NOT_FOUND', `run ${id} does not exist`);
    const view = toRunView(run);
    return { run: view, agent_contract: runContract(view) };
  }

  async events(id: string): Promise<{ events: unknown[]; agent_contract: AgentContract }> {
    const events = await this.#runs.history(id);
    if (events.length === 0) throw new RequestError('RUN.NOT_FOUND', `run ${id} does not exist`);
    return {
      events: events.map((e) => ({ revision: e.revision, position: e.position, type: e.type, data: e.data, metadata: e.metadata, recordedAt: e.recordedAt })),
      agent_contract: { retryable: false, next_actions: [{ action: 'get_run', method: 'GET', endpoint: `/v1/runs/${id}`, description: 'the run\'s current state' }] },
    };
  }

  async act(params: RunActionParams, body: RunActionBody, actor: string): Promise<{ run: unknown; agent_contract: AgentContract }> {
    const run = await this.#runs.execute(params.id, toCommand(params.action, body), actor);
    const view = toRunView(run);
    return { run: view, agent_contract: runContract(view) };
  }
}

function toCommand(action: Action, body: RunActionBody): RunCommand {
  const r = typeof body.reason === 'string' ? { reason: body.reason } : {};
  switch (action) {
    case 'approve':
      return { type: 'Approve', data: { stepId: requiredStepId(body), ...r } };
    case 'reject':
      return { type: 'Reject', data: { stepId: requiredStepId(body), ...r } };
    case 'pause':
      return { type: 'Pause', data: r };
    case 'resume':
      return { type: 'Resume', data: r };
    case 'retry':
      return { type: 'RetryStep', data: { stepId: requiredStepId(body), ...(body.input !== undefined ? { input: body.input } : {}), ...r } };
    case 'skip':
      if (!('output' in body)) throw new RequestError('REQUEST.INVALID', '"output" is required: the output the skipped step would have produced (null for none)', { field: 'output' });
      return { type: 'SkipStep', data: { stepId: requiredStepId(body), output: body.output, ...r } };
    case 'compensate':
      return { type: 'Compensate', data: r };
    case 'cancel':
      return { type: 'Cancel', data: r };
    default: {
      const never: never = action;
      throw new RequestError('REQUEST.INVALID', `unknown action "${String(never)}"`, { field: 'action' });
    }
  }
}

function requiredStepId(body: RunActionBody): string {
  if (typeof body.stepId !== 'string' || body.stepId.length === 0) throw new RequestError('REQUEST.INVALID', '"stepId" is required', { field: 'stepId' });
  return body.stepId;
}

injectByToken(RunsController, [RUN_SERVICE]);
decorateClass(RunsController, [Controller('v1/runs'), ApiTags('runs'), ApiBearerAuth(), ...errorResponses(400, 401, 403)]);
const idParam = { decorator: Param('id'), type: String };
const runId = ApiParam({ name: 'id', type: String, description: 'the run id' });
decorateMethod(RunsController, 'start', [
  Post(), Roles(...STARTERS), ApiOperation({ summary: 'start a run', description: 'idempotent by idempotencyKey: the same key and input answer 200 with the existing run; another input is 409 RUN.ALREADY_EXISTS' }),
  ApiResponse({ status: 201, description: 'started', type: RunEnvelope }), ApiResponse({ status: 200, description: 'the run this idempotency key started before', type: RunEnvelope }),
  ...errorResponses(404, 409),
], [{ decorator: Body(), type: StartRunBody }, { decorator: Actor() }, { decorator: Res({ passthrough: true }) }]);
decorateMethod(RunsController, 'list', [
  Get(), Roles(...READERS), ApiOperation({ summary: 'list runs, newest first' }), ApiResponse({ status: 200, description: 'run summaries', type: RunListEnvelope }),
], [{ decorator: Query(), type: ListRunsQuery }]);
decorateMethod(RunsController, 'get', [
  Get(':id'), Roles(...READERS), ApiOperation({ summary: 'a run with its steps' }), runId, ApiResponse({ status: 200, description: 'the run; agent_contract offers what can be done next', type: RunEnvelope }), ...errorResponses(404),
], [idParam]);
decorateMethod(RunsController, 'events', [
  Get(':id/events'), Roles(...HISTORY_READERS), ApiOperation({ summary: 'the run\'s event history' }), runId, ApiResponse({ status: 200, description: 'every event of the run, in order', type: EventsEnvelope }), ...errorResponses(404),
], [idParam]);
decorateMethod(RunsController, 'act', [
  Post(':id/actions/:action'), HttpCode(200), Roles(...OPERATORS), ApiOperation({ summary: 'an operator action', description: 'see docs/semantics.md for when each applies' }),
  ApiResponse({ status: 200, description: 'the run after the action', type: RunEnvelope }), ...errorResponses(404, 409),
], [{ decorator: Param(), type: RunActionParams }, { decorator: Body(), type: RunActionBody }, { decorator: Actor() }]);
