// DBOS Transact in one process, run by the bench as a child (DBOS is a process-wide singleton, and W4 kills it):
//   node dbos.host.ts --db <url> --mode inline|queue --effects <file>
// `inline`: the workflow function is called in this process (the library's floor). `queue`: each run is enqueued on
// a DBOS queue polled every 20 ms, and its result read with getResult polling every 20 ms.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { closedLoop, withLimit } from '../closed-loop.ts';
import type { Shape } from '../types.ts';
import { hostArgs, serveHost } from './host-protocol.ts';

export const QUEUE_NAME = 'benchh_queue';
export const POLLING_MS = 20;

interface RunRequest extends Shape {
  readonly count?: boolean;
}

const args = hostArgs(process.argv.slice(2));
const mode = args.mode === 'queue' ? 'queue' : 'inline';
const effectsFile = args.effects as string;

const step = (request: RunRequest, stepId: string) => async (): Promise<number> => {
  if (request.workMs > 0) await sleep(request.workMs);
  if (request.count) appendFileSync(effectsFile, `${DBOS.workflowID} ${stepId}\n`);
  return 1;
};

async function runSteps(request: RunRequest): Promise<number> {
  if (request.kind === 'chain') {
    let steps = 0;
    for (let i = 1; i <= request.width; i++) steps += await DBOS.runStep(step(request, `s${i}`), { name: `s${i}` });
    return steps;
  }
  const parallel = Array.from({ length: request.width }, (_, i) =>
    DBOS.runStep(step(request, `f${i + 1}`), { name: `f${i + 1}` }),
  );
  const done = await Promise.all(parallel);
  return done.length + (await DBOS.runStep(step(request, 'join'), { name: 'join' }));
}

const workflow = DBOS.registerWorkflow(runSteps, { name: 'benchh_run' });

DBOS.setConfig({
  name: 'benchh',
  systemDatabaseUrl: args.db as string,
  runAdminServer: false,
  // Fixed, so a restarted host recovers the workflows the killed one left (the default is a hash of the code).
  applicationVersion: 'benchh-1',
  logLevel: 'error',
});
await DBOS.launch();
if (mode === 'queue') await DBOS.registerQueue(QUEUE_NAME, { minPollingIntervalMs: POLLING_MS });

async function startOne(request: RunRequest): Promise<string> {
  const handle = await DBOS.startWorkflow(workflow, mode === 'queue' ? { queueName: QUEUE_NAME } : {})(request);
  return handle.workflowID;
}

async function runOne(request: RunRequest): Promise<number> {
  if (mode === 'inline') return workflow(request);
  const handle = await DBOS.startWorkflow(workflow, { queueName: QUEUE_NAME })(request);
  return handle.getResult({ pollingIntervalMs: POLLING_MS });
}

serveHost(
  {
    run: ({ shape, inFlight, count, maxSeconds }) => closedLoop(inFlight, count, maxSeconds, () => runOne(shape)),
    submit: ({ shape, count }) =>
      withLimit(
        50,
        Array.from({ length: count }, () => () => startOne({ ...shape, count: true })),
      ),
    // W4 waits from the bench, on the workflow_status table: 1,000 handles polling every 20 ms would be the load.
    await: () => Promise.reject(new Error('the dbos driver waits on the database')),
    stop: () => DBOS.shutdown(),
  },
  { mode },
);
