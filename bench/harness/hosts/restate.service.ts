// The Restate side of the bench: one service, `benchh`, whose handler `run` is one workflow run: N ctx.run()
// steps in a chain, or N in parallel (RestatePromise.all) then a join step.
//   node restate.service.ts --port <port> --effects <file>
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as restate from '@restatedev/restate-sdk';
import type { Shape } from '../types.ts';
import { hostArgs } from './host-protocol.ts';

interface RunRequest extends Shape {
  /** W4: record each execution in the effects file. */
  readonly count?: boolean;
  readonly id?: string;
}

const args = hostArgs(process.argv.slice(2));
const effectsFile = args.effects as string;

const step = (request: RunRequest, runId: string, stepId: string) => async (): Promise<number> => {
  if (request.workMs > 0) await sleep(request.workMs);
  if (request.count) appendFileSync(effectsFile, `${runId} ${stepId}\n`);
  return 1;
};

const benchh = restate.service({
  name: 'benchh',
  handlers: {
    run: async (ctx: restate.Context, request: RunRequest): Promise<number> => {
      const runId = ctx.request().id;
      if (request.kind === 'chain') {
        let steps = 0;
        for (let i = 1; i <= request.width; i++) steps += await ctx.run(`s${i}`, step(request, runId, `s${i}`));
        return steps;
      }
      const parallel = Array.from({ length: request.width }, (_, i) =>
        ctx.run(`f${i + 1}`, step(request, runId, `f${i + 1}`)),
      );
      const done = await restate.RestatePromise.all(parallel);
      return done.length + (await ctx.run('join', step(request, runId, 'join')));
    },
  },
});

const port = await restate.serve({ services: [benchh], port: Number(args.port) });
process.stdout.write(`benchh restate service listening on ${port}\n`);
