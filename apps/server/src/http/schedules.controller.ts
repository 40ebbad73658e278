import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { RunService, ScheduleView } from '@orchestron/runtime';
import type { AgentContract, NextAction } from './agent-contract.ts';
import { envelope, errorResponses, model } from './api-models.ts';
import { actorOf, tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, OPERATORS, READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { anyJson } from './openapi.ts';
import { CreateScheduleBody, PauseScheduleBody, ScheduleParams, ScheduleQuery } from './schedules.dto.ts';
import { RUN_SERVICE } from './tokens.ts';

type Answer = { schedule: ScheduleView; agent_contract: AgentContract };

/**
 * Schedules (docs/schedules.md): operators create, pause, resume and delete them; readers list them. Each belongs to
 * a tenant: another tenant's schedule is not found, whatever its id; an admin names the tenant with `tenant`.
 */
export class SchedulesController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async create(body: CreateScheduleBody, caller: Principal): Promise<Answer> {
    const tenant = tenantScope(caller, body.tenant) ?? caller.tenant;
    const { tenant: _asked, ...rest } = body;
    const schedule = await this.#runs.schedules.create({ ...rest, tenant, actor: actorOf(caller) });
    return answer(schedule);
  }

  async list(
    query: ScheduleQuery,
    caller: Principal,
  ): Promise<{ schedules: ScheduleView[]; agent_contract: AgentContract }> {
    const schedules = await this.#runs.schedules.list(tenantScope(caller, query.tenant));
    return { schedules, agent_contract: { retryable: false, next_actions: [] } };
  }

  async get(params: ScheduleParams, query: ScheduleQuery, caller: Principal): Promise<Answer> {
    return answer(await this.#runs.schedules.get(refOf(params, query, caller)));
  }

  async pause(
    params: ScheduleParams,
    query: ScheduleQuery,
    body: PauseScheduleBody,
    caller: Principal,
  ): Promise<Answer> {
    return answer(await this.#runs.schedules.pause(refOf(params, query, caller), actorOf(caller), body.reason));
  }

  async resume(params: ScheduleParams, query: ScheduleQuery, caller: Principal): Promise<Answer> {
    return answer(await this.#runs.schedules.resume(refOf(params, query, caller), actorOf(caller)));
  }

  async remove(
    params: ScheduleParams,
    query: ScheduleQuery,
    caller: Principal,
  ): Promise<{ deleted: { id: string; tenant: string }; agent_contract: AgentContract }> {
    const ref = refOf(params, query, caller);
    await this.#runs.schedules.delete(ref, actorOf(caller));
    return { deleted: ref, agent_contract: { retryable: false, next_actions: [] } };
  }
}

const refOf = (params: ScheduleParams, query: ScheduleQuery, caller: Principal) => ({
  tenant: tenantScope(caller, query.tenant) ?? caller.tenant,
  id: params.id,
});

function answer(schedule: ScheduleView): Answer {
  const at = `/v1/schedules/${encodeURIComponent(schedule.id)}`;
  const actions: NextAction[] = [
    schedule.status === 'paused'
      ? { action: 'resume_schedule', method: 'POST', endpoint: `${at}/resume`, description: 'fire it again' }
      : { action: 'pause_schedule', method: 'POST', endpoint: `${at}/pause`, description: 'stop its fires for now' },
  ];
  if (schedule.lastFire)
    actions.push({
      action: 'get_run',
      method: 'GET',
      endpoint: `/v1/runs/${encodeURIComponent(schedule.lastFire.runId)}`,
      description: 'the run its last fire started',
    });
  return { schedule, agent_contract: { retryable: false, next_actions: actions } };
}

class ScheduleFireModel {}
model(ScheduleFireModel, {
  fireAt: { type: String, format: 'date-time' },
  runId: { type: String, description: 'the run the fire started' },
  idempotencyKey: { type: String, example: 'schedule:nightly-report:2026-12-07T02:00:00.000Z' },
  recordedAt: { type: String, format: 'date-time' },
  catchUp: { type: Boolean, description: 'fired late, by the catch-up policy' },
  failed: {
    type: 'object',
    additionalProperties: true,
    description: 'only when its run could not start: { code, message }',
  },
});
class ScheduleModel {}
model(ScheduleModel, {
  id: { type: String },
  tenant: { type: String },
  status: { enum: ['active', 'paused'] },
  definitionId: { type: String },
  definitionVersion: { type: 'integer', nullable: true, description: 'null: the latest at each fire' },
  cron: { type: String },
  timezone: { type: String },
  input: anyJson('the input of every run it starts'),
  overlap: { enum: ['skip', 'buffer_one', 'allow'] },
  catchUp: { enum: ['none', 'latest', 'all'] },
  maxCatchUp: { type: 'integer' },
  createdAt: { type: String, format: 'date-time' },
  pausedAt: { type: String, format: 'date-time', nullable: true },
  nextFireAt: { type: String, format: 'date-time', nullable: true, description: 'null while paused' },
  lastFire: { type: ScheduleFireModel, nullable: true },
  bufferedFireAt: { type: String, format: 'date-time', nullable: true },
  fired: { type: 'integer' },
  skipped: { type: 'integer' },
});
const ScheduleEnvelope = envelope('ScheduleEnvelope', { schedule: { type: ScheduleModel } });
const ScheduleListEnvelope = envelope('ScheduleListEnvelope', { schedules: { type: ScheduleModel, isArray: true } });
const DeletedEnvelope = envelope('ScheduleDeletedEnvelope', {
  deleted: { type: 'object', additionalProperties: true, description: '{ id, tenant }' },
});

injectByToken(SchedulesController, [RUN_SERVICE]);
decorateClass(SchedulesController, [
  Controller('v1/schedules'),
  ApiTags('schedules'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
const one = [
  { decorator: Param(), type: ScheduleParams },
  { decorator: Query(), type: ScheduleQuery },
];
const ok = (description: string) => ApiResponse({ status: 200, description, type: ScheduleEnvelope });
decorateMethod(
  SchedulesController,
  'create',
  [
    Post(),
    Roles(...OPERATORS),
    ApiOperation({
      summary: 'create a schedule: a cron rule in a time zone that starts runs of a definition',
      description:
        'each fire starts one run with the idempotency key schedule:<id>:<fire time>. A bad cron or time zone is 400 SCHEDULE.INVALID with details.field',
    }),
    ApiResponse({ status: 201, description: 'created', type: ScheduleEnvelope }),
    ...errorResponses(404, 409),
  ],
  [{ decorator: Body(), type: CreateScheduleBody }, { decorator: Caller() }],
);
decorateMethod(
  SchedulesController,
  'list',
  [
    Get(),
    Roles(...READERS),
    ApiOperation({
      summary: "the caller's tenant's schedules, with next fire, last fire and its run (admin: ?tenant=)",
    }),
    ApiResponse({ status: 200, description: 'the schedules', type: ScheduleListEnvelope }),
  ],
  [{ decorator: Query(), type: ScheduleQuery }, { decorator: Caller() }],
);
decorateMethod(
  SchedulesController,
  'get',
  [
    Get(':id'),
    Roles(...READERS),
    ApiOperation({ summary: 'one schedule' }),
    ok('the schedule'),
    ...errorResponses(404),
  ],
  [...one, { decorator: Caller() }],
);
decorateMethod(
  SchedulesController,
  'pause',
  [
    Post(':id/pause'),
    HttpCode(200),
    Roles(...OPERATORS),
    ApiOperation({ summary: 'stop the fires until resumed (pausing a paused schedule changes nothing)' }),
    ok('paused'),
    ...errorResponses(404),
  ],
  [...one, { decorator: Body(), type: PauseScheduleBody }, { decorator: Caller() }],
);
decorateMethod(
  SchedulesController,
  'resume',
  [
    Post(':id/resume'),
    HttpCode(200),
    Roles(...OPERATORS),
    ApiOperation({ summary: 'fire again from now on: the fires missed while paused are not caught up' }),
    ok('active'),
    ...errorResponses(404),
  ],
  [...one, { decorator: Caller() }],
);
decorateMethod(
  SchedulesController,
  'remove',
  [
    Delete(':id'),
    Roles(...OPERATORS),
    ApiOperation({ summary: 'delete a schedule: no more fires; the runs it started stay' }),
    ApiResponse({ status: 200, description: 'deleted', type: DeletedEnvelope }),
    ...errorResponses(404),
  ],
  [...one, { decorator: Caller() }],
);
