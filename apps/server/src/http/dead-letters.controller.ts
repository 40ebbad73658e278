import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { RunService } from '@orchestron/runtime';
import type { DeadLetter, DeadLetterLog } from '../dead-letters.ts';
import type { DeadLetterView } from '../operator-views.ts';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses } from './api-models.ts';
import { actorOf, seesAllTenants } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, HISTORY_READERS, OPERATORS, Roles } from './auth.guard.ts';
import { ListDeadLettersQuery, ReplayDeadLetterBody } from './dead-letters.dto.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { RequestError } from './errors.ts';
import { RUN_SERVICE } from './tokens.ts';

export const DEAD_LETTERS = Symbol('DEAD_LETTERS');

/**
 * The dead-letter topic over HTTP (docs/api.md): what `orchestron dlq list` and `dlq replay` do, with a key. A letter
 * belongs to the tenant of the run its key names; an admin sees them all, anyone else only their tenant's runs' letters
 * (a letter whose key names no run is an admin's). Replay republishes the original to its source topic.
 */
export class DeadLettersController {
  readonly #letters: DeadLetterLog | null;
  readonly #runs: RunService;

  constructor(letters: DeadLetterLog | null, runs: RunService) {
    this.#letters = letters;
    this.#runs = runs;
  }

  async list(
    query: ListDeadLettersQuery,
    caller: Principal,
  ): Promise<{ deadLetters: DeadLetterView[]; total: number; agent_contract: AgentContract }> {
    const all = this.#log()
      .list()
      .filter((l) => query.topic === undefined || l.topic === query.topic);
    const visible: DeadLetterView[] = [];
    for (const letter of all) {
      const runId = await this.#runOf(letter, caller);
      if (runId !== undefined) visible.push(viewOf(letter, runId));
    }
    return {
      deadLetters: visible.slice(0, query.limit ?? 100),
      total: visible.length,
      agent_contract: errorContract(false),
    };
  }

  async replay(
    body: ReplayDeadLetterBody,
    caller: Principal,
  ): Promise<{ deadLetter: DeadLetterView; agent_contract: AgentContract }> {
    const letter = this.#log().find(body.position);
    const runId = letter === undefined ? undefined : await this.#runOf(letter, caller);
    if (letter === undefined || runId === undefined)
      throw new RequestError('DLQ.NOT_FOUND', `no dead letter at ${body.position} (see GET /v1/dead-letters)`, {
        field: 'position',
      });
    if (letter.notReplayable !== null)
      throw new RequestError('DLQ.NOT_REPLAYABLE', `cannot replay ${letter.position}: ${letter.notReplayable}`);
    const reason = body.reason?.trim() ? body.reason.trim() : null;
    const replayed = await this.#log().replay(letter, actorOf(caller), reason);
    return { deadLetter: viewOf(replayed, runId), agent_contract: errorContract(false) };
  }

  #log(): DeadLetterLog {
    if (this.#letters === null)
      throw new RequestError('DLQ.UNAVAILABLE', 'this server follows no dead-letter topic (it runs without a bus)');
    return this.#letters;
  }

  /**
   * The run the letter belongs to (null: no run, only an admin sees it), or undefined when the caller may not see it.
   * Another tenant's letter is not there for the caller, as another tenant's run is not found.
   */
  async #runOf(letter: DeadLetter, caller: Principal): Promise<string | null | undefined> {
    const tenant =
      letter.key === ''
        ? undefined
        : (this.#runs.cachedSummary(letter.key)?.tenant ??
          (await this.#runs.getRun(letter.key).catch(() => null))?.tenant);
    if (tenant === undefined) return seesAllTenants(caller) ? null : undefined;
    return seesAllTenants(caller) || tenant === caller.tenant ? letter.key : undefined;
  }
}

function viewOf(letter: DeadLetter, runId: string | null): DeadLetterView {
  return {
    position: letter.position,
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    key: letter.key,
    reason: letter.reason,
    group: letter.group,
    receivedAt: letter.receivedAt,
    runId,
    original: letter.original,
    replayable: letter.notReplayable === null,
    notReplayable: letter.notReplayable,
    replays: letter.replays,
  };
}

injectByToken(DeadLettersController, [DEAD_LETTERS, RUN_SERVICE]);
decorateClass(DeadLettersController, [
  Controller('v1/dead-letters'),
  ApiTags('dead letters'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
decorateMethod(
  DeadLettersController,
  'list',
  [
    Get(),
    Roles(...HISTORY_READERS),
    ApiOperation({
      summary: 'dead letters, oldest first: messages a subscriber could not handle, with the reason',
      description:
        "?topic=&limit=; the same topic as `orchestron dlq list`. A non-admin sees only the letters of its tenant's runs",
    }),
    ApiResponse({ status: 200, description: 'the dead letters', schema: { type: 'object' } }),
    ...errorResponses(409),
  ],
  [{ decorator: Query(), type: ListDeadLettersQuery }, { decorator: Caller() }],
);
decorateMethod(
  DeadLettersController,
  'replay',
  [
    Post('replay'),
    HttpCode(200),
    Roles(...OPERATORS),
    ApiOperation({
      summary: 'republish a dead letter to the topic it came from',
      description:
        '{ position, reason? }: the original, with its key and headers; the letter stays listed, with the replay beside it. DLQ.NOT_FOUND for a position not listed to the caller; DLQ.NOT_REPLAYABLE when the original was not kept or is not JSON (use `orchestron dlq replay`)',
    }),
    ApiResponse({ status: 200, description: 'the letter, with its replays', schema: { type: 'object' } }),
    ...errorResponses(404, 409),
  ],
  [{ decorator: Body(), type: ReplayDeadLetterBody }, { decorator: Caller() }],
);
