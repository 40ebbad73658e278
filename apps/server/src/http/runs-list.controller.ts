import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { runIdForKey } from '@orchestron/runtime';
import type { RunService, RunSummary } from '@orchestron/runtime';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses, RunListEnvelope } from './api-models.ts';
import { tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { ListRunsQuery } from './runs.dto.ts';
import { RUN_SERVICE } from './tokens.ts';

/** GET /v1/runs: runs newest first by their newest event, a page at a time (cursor), or the run an idempotency key started. */
export class RunListController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async list(
    query: ListRunsQuery,
    caller: Principal,
  ): Promise<{ runs: RunSummary[]; nextCursor: string | null; agent_contract: AgentContract }> {
    const tenant = tenantScope(caller, query.tenant);
    const limit = query.limit ?? 100;
    const runs = await this.#runs.listRuns({
      ...(tenant !== undefined ? { tenant } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.definition ? { definitionId: query.definition } : {}),
      ...(query.cursor !== undefined ? { before: Number(query.cursor) } : {}),
      ...(query.idempotencyKey !== undefined ? { ids: this.#idsForKey(query.idempotencyKey, tenant) } : {}),
      limit,
    });
    const last = runs.at(-1);
    return {
      runs,
      nextCursor: runs.length === limit && last !== undefined ? String(last.position) : null,
      agent_contract: {
        retryable: false,
        next_actions: [{ action: 'start_run', method: 'POST', endpoint: '/v1/runs', description: 'start a run' }],
      },
    };
  }

  /** A run's id is derived from its tenant, definition and idempotency key: the one run per definition a key names. */
  #idsForKey(key: string, tenant: string | undefined): string[] {
    return this.#runs.definitions.list(tenant).map((entry) => runIdForKey(entry.id, key, entry.tenant));
  }
}

injectByToken(RunListController, [RUN_SERVICE]);
decorateClass(RunListController, [
  Controller('v1/runs'),
  ApiTags('runs'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
decorateMethod(
  RunListController,
  'list',
  [
    Get(),
    Roles(...READERS),
    ApiOperation({
      summary: 'list runs, newest first',
      description:
        "newest first by their latest event. nextCursor (null at the end) is the next page's ?cursor=; idempotencyKey= finds the run that key started (one per definition)",
    }),
    ApiResponse({ status: 200, description: 'run summaries', type: RunListEnvelope }),
  ],
  [{ decorator: Query(), type: ListRunsQuery }, { decorator: Caller() }],
);
