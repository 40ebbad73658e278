import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { toRunView } from '@orchestron/runtime';
import type { RunService, RunSummary } from '@orchestron/runtime';
import type { HeldStepView } from '../operator-views.ts';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses } from './api-models.ts';
import { tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { ListHeldStepsQuery } from './held-steps.dto.ts';
import { RUN_SERVICE } from './tokens.ts';

/** Holds happen only to runs still moving forwards or compensating. */
const MOVING = ['running', 'compensating'] as const;
/** Runs read per status: the newest this many of each. */
const RUNS_SCANNED = 1_000;

/** Held steps across the caller's runs, oldest hold first (the console's inbox; docs/api.md). */
export class HeldStepsController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async list(
    query: ListHeldStepsQuery,
    caller: Principal,
  ): Promise<{ steps: HeldStepView[]; agent_contract: AgentContract }> {
    const tenant = tenantScope(caller, query.tenant);
    const runs: RunSummary[] = [];
    for (const status of MOVING)
      runs.push(...(await this.#runs.listRuns({ ...(tenant ? { tenant } : {}), status, limit: RUNS_SCANNED })));
    const steps: HeldStepView[] = [];
    for (const summary of runs) steps.push(...(await this.#heldIn(summary)));
    steps.sort((a, b) => a.since.localeCompare(b.since));
    return { steps: steps.slice(0, query.limit ?? 100), agent_contract: errorContract(false) };
  }

  async #heldIn(summary: RunSummary): Promise<HeldStepView[]> {
    const run = await this.#runs.getRun(summary.id);
    if (run === null) return [];
    return toRunView(run).steps.flatMap((step) =>
      step.held === null
        ? []
        : [
            {
              runId: summary.id,
              tenant: summary.tenant,
              definitionId: summary.definitionId,
              stepId: step.id,
              worker: step.held.worker,
              reason: step.held.reason,
              since: step.held.since,
              phase: run.compensations[step.id]?.held ? 'compensate' : 'execute',
            },
          ],
    );
  }
}

injectByToken(HeldStepsController, [RUN_SERVICE]);
decorateClass(HeldStepsController, [
  Controller('v1/held-steps'),
  ApiTags('runs'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
decorateMethod(
  HeldStepsController,
  'list',
  [
    Get(),
    Roles(...READERS),
    ApiOperation({
      summary: 'steps held by flow control, oldest hold first, with worker and reason',
      description:
        '?tenant=&limit=; reason is concurrency_limit, rate_limit, breaker_open, or lock (GET /v1/locks says who holds it). Read from the newest 1,000 running and 1,000 compensating runs of the tenant',
    }),
    ApiResponse({
      status: 200,
      description: '{ steps: [{ runId, tenant, definitionId, stepId, worker, reason, since, phase }] }',
    }),
  ],
  [{ decorator: Query(), type: ListHeldStepsQuery }, { decorator: Caller() }],
);
