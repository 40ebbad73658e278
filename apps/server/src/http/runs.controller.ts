import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { quoteForMessage } from '@orchestron/definitions';
import { OrchestronError, retryClassOf } from '@orchestron/errors';
import { DEFAULT_WAIT_MS, MAX_WAIT_MS, parseAsOf, runAsOf, toRunView } from '@orchestron/runtime';
import type { PastRun, RunCommand, RunService } from '@orchestron/runtime';
import type { RunData } from '@orchestron/workflow-core';
import type { FastifyReply } from 'fastify';
import { runContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { AcceptedEnvelope, errorResponses, EventsEnvelope, RunEnvelope, RunWaitEnvelope } from './api-models.ts';
import { mayAct } from './assignees.ts';
import { actorOf, DEFAULT_TENANT, maySee } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, DEFINITION_WRITERS, HISTORY_READERS, OPERATORS, READERS, Roles, STARTERS } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { checkedBudget } from './budget.dto.ts';
import { isStateRefusal, RequestError, StateRefusal } from './errors.ts';
import { answerStart } from './start-answer.ts';
import type { StartAnswer } from './start-answer.ts';
import { RunActionBody, RunActionParams, RunQuery, StartQuery, StartRunBody, WaitQuery } from './runs.dto.ts';
import type { Action } from './runs.dto.ts';
import { RUN_SERVICE } from './tokens.ts';

type PastPoint = Omit<PastRun, 'run'>;

interface WaitOutcome {
  readonly ended: boolean;
  readonly timedOut: boolean;
  readonly position: number;
  /** A start's wait that could not be held (a retryable error's code): the run started; wait for it again. */
  readonly interruptedBy?: string;
}

/** Runs: start, list, inspect, wait, history, operator actions. */
export class RunsController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async start(
    body: StartRunBody,
    query: StartQuery,
    caller: Principal,
    reply: FastifyReply,
  ): Promise<StartAnswer & { wait?: WaitOutcome }> {
    if (body.definition !== undefined) this.#mayStartInline(body.definition, caller);
    const started = await this.#runs.startRun({
      ...(body.definition !== undefined ? { definition: body.definition } : {}),
      ...(body.definitionId !== undefined ? { definitionId: body.definitionId } : {}),
      ...(body.definitionVersion !== undefined ? { definitionVersion: body.definitionVersion } : {}),
      ...(body.idempotencyKey !== undefined ? { idempotencyKey: body.idempotencyKey } : {}),
      ...(body.budget !== undefined ? { budget: checkedBudget('budget', body.budget) } : {}),
      input: body.input ?? null,
      actor: actorOf(caller),
      tenant: caller.tenant,
      keyId: caller.keyId,
    });
    const answer = answerStart(started, reply, (run) => (run.created ? 201 : 200));
    if (query.waitMs === undefined || 'accepted' in started) return answer;
    // Started (or found by its key): the answer waits for the run's end, as GET /v1/runs/:id/wait would, so a
    // client that wants the result makes one request. A wait the server cannot hold (too many open, the store away)
    // answers at once with the started run instead: a 503 would hide that the run has started.
    return this.#awaited(started.run.runId, { timeoutMs: query.waitMs }, caller, reply).catch((error: unknown) => {
      if (!(error instanceof OrchestronError) || retryClassOf(error.code) !== 'retryable') throw error;
      return { ...answer, wait: { ended: false, timedOut: true, position: 0, interruptedBy: error.code } };
    });
  }

  async get(
    id: string,
    query: RunQuery,
    caller: Principal,
  ): Promise<{ run: unknown; at?: PastPoint; agent_contract: AgentContract }> {
    if (query.at !== undefined) return this.#past(id, query.at, caller);
    const view = toRunView(await this.#visibleRun(id, caller));
    return { run: view, agent_contract: runContract(view, this.#runs.cachedSummary(id)?.position) };
  }

  /** Time travel: the fold of the run's stream up to a revision or a time. Read-only, so it offers no actions. */
  async #past(
    id: string,
    at: string,
    caller: Principal,
  ): Promise<{ run: unknown; at: PastPoint; agent_contract: AgentContract }> {
    if (!HISTORY_READERS.includes(caller.role))
      throw new RequestError(
        'AUTH.FORBIDDEN',
        `role ${caller.role} may not read a run's past (at needs one of ${HISTORY_READERS.join(', ')}, as the history does)`,
        { field: 'at' },
      );
    const asOf = parseAsOf(at);
    if ('refused' in asOf) throw new RequestError('REQUEST.INVALID', asOf.refused, { field: 'at' });
    await this.#visibleRun(id, caller);
    const past = runAsOf(await this.#runs.history(id), asOf);
    if ('refused' in past) throw new RequestError('REQUEST.INVALID', past.refused, { field: 'at' });
    const { run, ...point } = past;
    return {
      run: toRunView(run),
      at: point,
      agent_contract: {
        retryable: false,
        next_actions: [
          { action: 'get_run', method: 'GET', endpoint: `/v1/runs/${id}`, description: "the run's current state" },
          { action: 'get_history', method: 'GET', endpoint: `/v1/runs/${id}/events`, description: 'every event' },
        ],
      },
    };
  }

  /** Long poll: answers when the run ends (or changes past `after`), or when `timeoutMs` is up; 200 either way. */
  async wait(
    id: string,
    query: WaitQuery,
    caller: Principal,
    reply: FastifyReply,
  ): Promise<{ run: unknown; wait: WaitOutcome; agent_contract: AgentContract }> {
    // Who may wait, from memory when the run is there (it is, while it moves): two reads of the store fewer per wait.
    const known = this.#runs.cachedSummary(id);
    if (known === undefined) await this.#visibleRun(id, caller);
    else if (!maySee(caller, known.tenant)) throw notFound(id);
    const { timeoutMs = DEFAULT_WAIT_MS, after } = query;
    return this.#awaited(id, { timeoutMs, ...(after !== undefined ? { after } : {}) }, caller, reply);
  }

  async #awaited(
    id: string,
    request: { readonly timeoutMs: number; readonly after?: number },
    caller: Principal,
    reply: FastifyReply,
  ): Promise<{ run: unknown; wait: WaitOutcome; agent_contract: AgentContract }> {
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    reply.raw.once('close', onClose);
    try {
      const waited = await this.#runs.awaitRun(id, { ...request, signal: gone.signal });
      // The service may have the run at hand, as the feed told of it: no read of the store.
      const seen = waited.run !== undefined && maySee(caller, waited.run.tenant) ? waited.run : undefined;
      const view = toRunView(seen ?? (await this.#visibleRun(id, caller)));
      const wait = { ended: waited.ended, timedOut: waited.timedOut, position: waited.summary?.position ?? 0 };
      return { run: view, wait, agent_contract: runContract(view, wait.position) };
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  async events(id: string, caller: Principal): Promise<{ events: unknown[]; agent_contract: AgentContract }> {
    const events = await this.#runs.history(id);
    const tenant = (events[0]?.data as { tenant?: string } | undefined)?.tenant ?? DEFAULT_TENANT;
    if (events.length === 0 || !maySee(caller, tenant)) throw notFound(id);
    return {
      events: events.map((e) => ({
        revision: e.revision,
        position: e.position,
        type: e.type,
        data: e.data,
        metadata: e.metadata,
        recordedAt: e.recordedAt,
      })),
      agent_contract: {
        retryable: false,
        next_actions: [
          { action: 'get_run', method: 'GET', endpoint: `/v1/runs/${id}`, description: "the run's current state" },
        ],
      },
    };
  }

  async act(
    params: RunActionParams,
    body: RunActionBody,
    caller: Principal,
  ): Promise<{ run: unknown; agent_contract: AgentContract }> {
    const command = toCommand(params.action, body);
    mayAct(await this.#visibleRun(params.id, caller), command, caller);
    const run = await this.#runs
      .execute(params.id, command, actorOf(caller), caller.keyId)
      .catch(async (error: unknown) => {
        if (!isStateRefusal(error)) throw error;
        throw new StateRefusal(error, runContract(toRunView(await this.#visibleRun(params.id, caller))));
      });
    const view = toRunView(run);
    return { run: view, agent_contract: runContract(view, this.#runs.cachedSummary(params.id)?.position) };
  }

  /** Another tenant's run answers as a run that does not exist: its existence is not the caller's business either. */
  async #visibleRun(id: string, caller: Principal): Promise<RunData> {
    const run = await this.#runs.getRun(id);
    if (!run || !maySee(caller, run.tenant)) throw notFound(id);
    return run;
  }

  /**
   * Registering a definition is the definitions:write right, also when it comes inline in a start. Without it a
   * caller may send only content that is registered already, exactly (a start by id, spelled out).
   */
  #mayStartInline(definition: unknown, caller: Principal): void {
    if (DEFINITION_WRITERS.includes(caller.role) || this.#runs.definitions.isRegistered(definition, caller.tenant))
      return;
    throw new RequestError(
      'AUTH.FORBIDDEN',
      `role ${caller.role} may not register definitions (it needs one of ${DEFINITION_WRITERS.join(', ')}), and this inline definition is not registered in tenant ${caller.tenant} as it stands: start a registered version by "definitionId"`,
      { field: 'definition' },
    );
  }
}

function notFound(id: string): RequestError {
  return new RequestError('RUN.NOT_FOUND', `run ${quoteForMessage(id)} does not exist`);
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
      return {
        type: 'RetryStep',
        data: { stepId: requiredStepId(body), ...(body.input !== undefined ? { input: body.input } : {}), ...r },
      };
    case 'skip':
      if (!('output' in body))
        throw new RequestError(
          'REQUEST.INVALID',
          '"output" is required: the output the skipped step would have produced (null for none)',
          { field: 'output' },
        );
      return { type: 'SkipStep', data: { stepId: requiredStepId(body), output: body.output, ...r } };
    case 'compensate':
      return { type: 'Compensate', data: r };
    case 'cancel':
      return { type: 'Cancel', data: r };
    case 'redrive':
      if (typeof body.reason !== 'string' || body.reason.trim().length === 0)
        throw new RequestError(
          'REQUEST.INVALID',
          '"reason" is required: a re-drive re-opens an ended run, and its history keeps why',
          { field: 'reason' },
        );
      return {
        type: 'Redrive',
        data: { stepId: requiredStepId(body), ...(body.input !== undefined ? { input: body.input } : {}), ...r },
      };
    case 'raise-budget':
      return raiseBudget(body);
    default: {
      const never: never = action;
      throw new RequestError('REQUEST.INVALID', `unknown action "${String(never)}"`, { field: 'action' });
    }
  }
}

function raiseBudget(body: RunActionBody): RunCommand {
  if (body.budget === undefined)
    throw new RequestError('REQUEST.INVALID', '"budget" is required: { tokens?, cost?: { amount, currency } }', {
      field: 'budget',
    });
  if (typeof body.reason !== 'string' || body.reason.trim().length === 0)
    throw new RequestError('REQUEST.INVALID', '"reason" is required: the history keeps why a budget was raised', {
      field: 'reason',
    });
  return { type: 'RaiseBudget', data: { budget: checkedBudget('budget', body.budget), reason: body.reason } };
}

function requiredStepId(body: RunActionBody): string {
  if (typeof body.stepId !== 'string' || body.stepId.length === 0)
    throw new RequestError('REQUEST.INVALID', '"stepId" is required', { field: 'stepId' });
  return body.stepId;
}

injectByToken(RunsController, [RUN_SERVICE]);
decorateClass(RunsController, [
  Controller('v1/runs'),
  ApiTags('runs'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
const idParam = { decorator: Param('id'), type: String };
const runId = ApiParam({ name: 'id', type: String, description: 'the run id' });
decorateMethod(
  RunsController,
  'start',
  [
    Post(),
    Roles(...STARTERS),
    ApiOperation({
      summary: 'start a run (and, with waitMs, wait for its end)',
      description: `idempotent by idempotencyKey: the same key and input answer 200 with the existing run; another input is 409 RUN.ALREADY_EXISTS. With waitMs (0 to ${MAX_WAIT_MS}) a started run's answer waits, as GET /v1/runs/{id}/wait does, until the run ends or waitMs is up, and carries \`wait\` too; a 202 does not wait.`,
    }),
    ApiResponse({ status: 201, description: 'started', type: RunEnvelope }),
    ApiResponse({ status: 200, description: 'the run this idempotency key started before', type: RunEnvelope }),
    ApiResponse({
      status: 202,
      description:
        'accepted (API mode): recorded in the outbox, not started yet (the bus is away, or no orchestrator took it in time); `run` is `{ id, status: "accepted" }`. POST again with the same idempotencyKey: 202 until the run has started, then 200 with it',
      type: AcceptedEnvelope,
    }),
    ...errorResponses(404, 409),
  ],
  [
    { decorator: Body(), type: StartRunBody },
    { decorator: Query(), type: StartQuery },
    { decorator: Caller() },
    { decorator: Res({ passthrough: true }) },
  ],
);
decorateMethod(
  RunsController,
  'get',
  [
    Get(':id'),
    Roles(...READERS),
    ApiOperation({
      summary: 'a run with its steps, now or as it was at a revision or time (`at`)',
      description:
        "with `at`, the fold of the run's events up to there, and `at: { revision, recordedAt, eventType, latestRevision }`; an `at` that does not parse, is past the newest revision, before the run began or in the future is 400 naming it",
    }),
    runId,
    ApiResponse({
      status: 200,
      description: 'the run; agent_contract offers what can be done next',
      type: RunEnvelope,
    }),
    ...errorResponses(404),
  ],
  [idParam, { decorator: Query(), type: RunQuery }, { decorator: Caller() }],
);
decorateMethod(
  RunsController,
  'wait',
  [
    Get(':id/wait'),
    Roles(...READERS),
    ApiOperation({
      summary: 'wait for a run to end (long poll)',
      description: `answers when the run has ended, or with \`after\` at its first change past that position, or when timeoutMs (default ${DEFAULT_WAIT_MS}) is up: 200 either way, with wait.ended and wait.timedOut. wait.position is the \`after\` for following changes. 503 SERVER.BUSY (retryable) when the server holds too many waits.`,
    }),
    runId,
    ApiResponse({ status: 200, description: 'the run when the wait ended', type: RunWaitEnvelope }),
    ...errorResponses(404, 503),
  ],
  [
    idParam,
    { decorator: Query(), type: WaitQuery },
    { decorator: Caller() },
    { decorator: Res({ passthrough: true }) },
  ],
);
decorateMethod(
  RunsController,
  'events',
  [
    Get(':id/events'),
    Roles(...HISTORY_READERS),
    ApiOperation({ summary: "the run's event history" }),
    runId,
    ApiResponse({ status: 200, description: 'every event of the run, in order', type: EventsEnvelope }),
    ...errorResponses(404),
  ],
  [idParam, { decorator: Caller() }],
);
decorateMethod(
  RunsController,
  'act',
  [
    Post(':id/actions/:action'),
    HttpCode(200),
    Roles(...OPERATORS),
    ApiOperation({ summary: 'an operator action', description: 'see docs/semantics.md for when each applies' }),
    ApiResponse({ status: 200, description: 'the run after the action', type: RunEnvelope }),
    ...errorResponses(404, 409),
  ],
  [{ decorator: Param(), type: RunActionParams }, { decorator: Body(), type: RunActionBody }, { decorator: Caller() }],
);
