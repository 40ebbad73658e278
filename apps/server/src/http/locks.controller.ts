import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { LockView, RunService } from '@orchestron/runtime';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses } from './api-models.ts';
import { tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { ListLocksQuery } from './locks.dto.ts';
import { RUN_SERVICE } from './tokens.ts';

/** The resource locks of the caller's tenant: who holds each and who waits for it, in order (docs/api.md). */
export class LocksController {
  readonly #runs: RunService;

  constructor(runs: RunService) {
    this.#runs = runs;
  }

  async list(query: ListLocksQuery, caller: Principal): Promise<{ locks: LockView[]; agent_contract: AgentContract }> {
    const tenant = tenantScope(caller, query.tenant);
    const locks = await this.#runs.lockTable({ tenant, limit: query.limit ?? 100 });
    return { locks, agent_contract: errorContract(false) };
  }
}

injectByToken(LocksController, [RUN_SERVICE]);
decorateClass(LocksController, [
  Controller('v1/locks'),
  ApiTags('runs'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
decorateMethod(
  LocksController,
  'list',
  [
    Get(),
    Roles(...READERS),
    ApiOperation({
      summary: 'resource locks: who holds each and who waits for it, first in line first',
      description:
        '?tenant=&limit=; sorted by tenant, then name. Only locks someone holds or waits for are listed. A step held with reason lock waits in one of these queues',
    }),
    ApiResponse({
      status: 200,
      description:
        '{ locks: [{ tenant, name, holders: [{ runId, stepId, phase, mode }], waiting: [{ runId, stepId, phase, mode, since }] }] }',
    }),
  ],
  [{ decorator: Query(), type: ListLocksQuery }, { decorator: Caller() }],
);
