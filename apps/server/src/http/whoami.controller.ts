import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses } from './api-models.ts';
import type { Principal, Role } from './auth.ts';
import { ANY_ROLE, Caller, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod } from './decorate.ts';

interface WhoAmI {
  readonly key: {
    readonly id: string;
    readonly role: Role;
    readonly tenant: string;
    readonly subject: string;
    readonly groups: readonly string[];
  };
  readonly agent_contract: AgentContract;
}

/** The key a caller holds, so a client (the console) can offer only what its role may do. */
export class WhoAmIController {
  whoami(caller: Principal): WhoAmI {
    return {
      key: {
        id: caller.keyId,
        role: caller.role,
        tenant: caller.tenant,
        subject: caller.subject,
        groups: caller.groups,
      },
      agent_contract: errorContract(false),
    };
  }
}

decorateClass(WhoAmIController, [Controller('v1'), ApiTags('keys'), ApiBearerAuth(), ...errorResponses(401)]);
decorateMethod(
  WhoAmIController,
  'whoami',
  [
    Get('whoami'),
    Roles(...ANY_ROLE),
    ApiOperation({ summary: 'the calling key: its id, role, tenant, subject and groups (never its secret)' }),
    ApiOkResponse({
      description: 'the key',
      schema: {
        type: 'object',
        properties: {
          key: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              role: { type: 'string', enum: ['producer', 'worker', 'operator', 'auditor', 'admin'] },
              tenant: { type: 'string' },
              subject: { type: 'string' },
              groups: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    }),
  ],
  [{ decorator: Caller() }],
);
