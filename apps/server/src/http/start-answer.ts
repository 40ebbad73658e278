import { toRunView } from '@orchestron/runtime';
import type { AcceptedStart, StartRunResult } from '@orchestron/runtime';
import type { FastifyReply } from 'fastify';
import { acceptedContract, runContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';

export interface StartAnswer {
  readonly run: unknown;
  readonly accepted?: AcceptedStart;
  readonly agent_contract: AgentContract;
}

/**
 * The answer to a start (POST /v1/runs, or a fork): 202 with the accepted start while it waits in the outbox,
 * else `status` with the run.
 */
export function answerStart(
  started: StartRunResult,
  reply: FastifyReply,
  status: (run: Exclude<StartRunResult, { accepted: AcceptedStart }>) => number,
): StartAnswer {
  if ('accepted' in started) {
    void reply.status(202);
    return {
      run: { id: started.accepted.runId, status: 'accepted' },
      accepted: started.accepted,
      agent_contract: acceptedContract(started.accepted),
    };
  }
  void reply.status(status(started));
  const view = toRunView(started.run);
  return { run: view, agent_contract: runContract(view) };
}
