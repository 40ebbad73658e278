/** Workflow steps on the embedded tier: the engine on the SQLite store, an in-process bus, a real worker. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import type { EventStore } from '@orchestron/event-store';
import { childRunIdOf, decide, fold, MAX_CHILD_DEPTH } from '@orchestron/workflow-core';
import type { Command, RunData, WorkflowEvent } from '@orchestron/workflow-core';
import { createWorker, TerminalError } from '@orchestron/worker-sdk';
import type { Worker } from '@orchestron/worker-sdk';
import { Engine } from './engine.ts';
import { runStream } from './run-index.ts';
import { eventually, startedRun } from './testing/index.ts';
import { toRunView } from './views.ts';

const child = {
  id: 'provision-user',
  version: 1,
  steps: {
    create: { worker: 'w', input: { email: '${{ input.email }}' }, compensate: { action: 'undo' } },
    gate: { type: 'approval', needs: ['create'], when: '${{ input.gated }}' },
  },
};
const parent = {
  id: 'onboard',
  version: 1,
  onFailure: 'compensate',
  steps: {
    reserve: { worker: 'w', compensate: { action: 'undo' } },
    provision: {
      type: 'workflow',
      needs: ['reserve'],
      workflow: { id: 'provision-user', version: 1 },
      input: { email: '${{ input.email }}', gated: '${{ input.gated }}' },
    },
    notify: { worker: 'w', needs: ['provision'], input: { created: '${{ steps.provision.output.create }}' } },
  },
};
/** A definition that starts itself: the depth limit ends it. */
const loop = {
  id: 'loop',
  version: 1,
  onFailure: 'fail',
  steps: { again: { type: 'workflow', workflow: { id: 'loop' } } },
};

describe('workflow steps on the embedded tier (SQLite store)', () => {
  const open: { engine: Engine; store: EventStore; worker: Worker }[] = [];
  const undone: string[] = [];
  afterEach(async () => {
    undone.length = 0;
    for (const o of open.splice(0).reverse()) await close(o);
  });
  const close = async (o: { engine: Engine; store: EventStore; worker: Worker }) => {
    await o.worker.stop();
    await o.engine.stop();
    await o.store.close();
  };

  const boot = async (path = join(mkdtempSync(join(tmpdir(), 'child-engine-')), 'events.sqlite')) => {
    const store = createSqliteEventStore({ path });
    const bus = createInMemoryBus();
    const engine = new Engine({ store, bus });
    const worker = createWorker({
      name: 'w',
      bus,
      handlers: {
        execute: async (ctx) => {
          const input = ctx.input as { email?: string; created?: unknown };
          if (ctx.stepId === 'create' && input.email === 'fail@x')
            throw new TerminalError('mailbox refused', 'MAIL.REFUSED');
          if (ctx.stepId === 'notify' && input.created === 'fail-notify') throw new TerminalError('no', 'NOTIFY.NO');
          return { step: ctx.stepId, email: input.email ?? null };
        },
        undo: async (ctx) => {
          undone.push(`${ctx.runId}/${ctx.stepId}`);
          return { undone: ctx.stepId };
        },
      },
    });
    await worker.start();
    await engine.start();
    const handle = { engine, store, worker, path };
    open.push(handle);
    for (const def of [child, parent, loop]) await engine.definitions.register(def, 'test');
    return handle;
  };
  const start = async (engine: Engine, given: Record<string, unknown>, definitionId = 'onboard', tenant?: string) => {
    const input = { gated: false, ...given };
    const scope = tenant !== undefined ? { tenant } : {};
    return (await startedRun(engine.startRun({ definitionId, input, actor: 'test', ...scope }))).run.runId;
  };
  const settled = (engine: Engine, runId: string, statuses = ['completed', 'failed', 'compensated', 'cancelled']) =>
    eventually(`run ${runId} to end`, async () => {
      const run = await engine.getRun(runId);
      return run !== null && statuses.includes(run.status) ? run : null;
    });
  const waitingFor = (engine: Engine, runId: string) =>
    eventually('the child to start', async () => {
      const run = await engine.getRun(runId);
      const step = run?.steps.provision;
      if (step?.status !== 'waiting_child') return null;
      return (await engine.getRun(step.childRunId)) !== null ? step.childRunId : null;
    });
  const childrenOf = async (engine: Engine) => (await engine.listRuns({ definitionId: 'provision-user' })).length;

  it('completes the parent step with the child output, and shows the link both ways', async () => {
    const { engine } = await boot();
    const runId = await start(engine, { email: 'a@b.c' });
    const run = await settled(engine, runId);
    const childRunId = childRunIdOf(runId, 'provision', 1);
    expect(run.status).toBe('completed');
    expect(run.steps.provision).toMatchObject({
      status: 'completed',
      output: { create: { step: 'create', email: 'a@b.c' } },
    });
    expect(run.steps.notify?.input).toEqual({ created: { step: 'create', email: 'a@b.c' } });
    const parentView = toRunView(run).steps.find((s) => s.id === 'provision');
    expect(parentView).toMatchObject({ type: 'workflow', childRunId, workflow: { id: 'provision-user', version: 1 } });
    const childRun = (await engine.getRun(childRunId)) as RunData;
    expect(toRunView(childRun)).toMatchObject({
      status: 'completed',
      parent: { runId, stepId: 'provision', depth: 1 },
    });
    const history = (await engine.history(runId)).map((e) => e.type);
    expect(history).toEqual(expect.arrayContaining(['ChildRunRequested', 'ChildRunEnded']));
  });

  it("fails the parent step with the child's failure, and compensates what the parent did", async () => {
    const { engine } = await boot();
    const runId = await start(engine, { email: 'fail@x' });
    const run = await settled(engine, runId);
    expect(run.status).toBe('compensated');
    expect(run.steps.provision).toMatchObject({ status: 'failed', error: { code: 'CHILD.FAILED' } });
    expect(run.steps.provision?.status === 'failed' && run.steps.provision.error.message).toMatch(/MAIL\.REFUSED/);
    expect(undone).toContain(`${runId}/reserve`);
  });

  it('cancels the child when the parent is cancelled', async () => {
    const { engine } = await boot();
    const runId = await start(engine, { email: 'a@b.c', gated: true });
    const childRunId = await waitingFor(engine, runId);
    await eventually(
      'the child at its gate',
      async () => (await engine.getRun(childRunId))?.steps.gate?.status === 'waiting_approval',
    );
    await engine.execute(runId, { type: 'Cancel', data: { reason: 'not needed' } }, 'alice');
    const childRun = await settled(engine, childRunId);
    expect(childRun.status).toBe('cancelled');
    const cancelled = (await engine.history(childRunId)).find((e) => e.type === 'RunCancelled');
    expect(cancelled?.data).toMatchObject({ by: 'system:parent' });
  });

  it('compensates the child run when the parent compensates a completed workflow step', async () => {
    const { engine } = await boot();
    // notify fails for good: the parent compensates, the child (completed) first, then what it needed.
    const failingNotify = { ...parent.steps.notify, input: { created: 'fail-notify' } };
    await engine.definitions.register(
      { ...parent, version: 2, steps: { ...parent.steps, notify: failingNotify } },
      'test',
    );
    const runId = await start(engine, { email: 'c@d.e' });
    const run = await settled(engine, runId);
    const childRunId = childRunIdOf(runId, 'provision', 1);
    expect(run.status).toBe('compensated');
    expect(run.compensations.provision?.status).toBe('completed');
    expect(await engine.getRun(childRunId)).toMatchObject({
      status: 'compensated',
      compensations: { create: { status: 'completed' } },
    });
    expect(undone).toEqual([`${childRunId}/create`, `${runId}/reserve`]);
  });

  it('never starts a second child across a restart, and hands over an outcome whose report a crash lost', async () => {
    const first = await boot();
    const runId = await start(first.engine, { email: 'a@b.c', gated: true });
    const childRunId = await waitingFor(first.engine, runId);
    await eventually(
      'the child at its gate',
      async () => (await first.engine.getRun(childRunId))?.steps.gate?.status === 'waiting_approval',
    );
    await close(open.pop() as (typeof open)[number]);
    // The child completes while no engine runs (as if its engine died between the append and the report).
    const store = createSqliteEventStore({ path: first.path });
    await applyRaw(store, childRunId, {
      type: 'Approve',
      data: { stepId: 'gate' },
      metadata: { now: Date.now(), actor: 'alice' },
    });
    await store.close();
    const second = await boot(first.path);
    // Recovery repeats the start: the child exists and has ended, so its outcome is handed over, not a new child.
    const run = await settled(second.engine, runId);
    expect(run.status).toBe('completed');
    expect(await childrenOf(second.engine)).toBe(1);
    const requested = (await second.engine.history(runId)).filter((e) => e.type === 'ChildRunRequested');
    expect(requested).toHaveLength(1);
  });

  it('cancels, on recovery, a child whose parent was cancelled by a process that died before cancelling it', async () => {
    const first = await boot();
    const runId = await start(first.engine, { email: 'a@b.c', gated: true });
    const childRunId = await waitingFor(first.engine, runId);
    await close(open.pop() as (typeof open)[number]);
    const store = createSqliteEventStore({ path: first.path });
    await applyRaw(store, runId, { type: 'Cancel', data: {}, metadata: { now: Date.now(), actor: 'alice' } });
    await store.close();
    const second = await boot(first.path);
    expect((await settled(second.engine, childRunId)).status).toBe('cancelled');
  });

  it('fails clearly when the child definition is not visible to the tenant (child inherits the tenant)', async () => {
    const { engine } = await boot();
    await engine.definitions.register(parent, 'test', 'acme');
    const runId = await start(engine, { email: 'a@b.c' }, 'onboard', 'acme');
    const run = await settled(engine, runId);
    expect(run.steps.provision).toMatchObject({
      status: 'failed',
      error: { code: 'CHILD.NOT_STARTED', details: { cause: 'DEFINITION.NOT_FOUND' } },
    });
    expect(run.steps.provision?.status === 'failed' && run.steps.provision.error.message).toMatch(
      /provision-user.*acme/,
    );
    expect(await engine.listRuns({ tenant: 'default', definitionId: 'provision-user' })).toHaveLength(0);
  });

  it('starts a child in the parent tenant', async () => {
    const { engine } = await boot();
    await engine.definitions.register(parent, 'test', 'acme');
    await engine.definitions.register(child, 'test', 'acme');
    const runId = await start(engine, { email: 'a@b.c' }, 'onboard', 'acme');
    expect((await settled(engine, runId)).status).toBe('completed');
    expect((await engine.getRun(childRunIdOf(runId, 'provision', 1)))?.tenant).toBe('acme');
  });

  it(`stops a definition that starts itself at ${MAX_CHILD_DEPTH} levels, with an error naming the limit`, async () => {
    const { engine } = await boot();
    const runId = await start(engine, {}, 'loop');
    const run = await settled(engine, runId, ['failed']);
    expect(run.steps.again).toMatchObject({ status: 'failed', error: { code: 'CHILD.FAILED' } });
    expect(await engine.listRuns({ definitionId: 'loop' })).toHaveLength(MAX_CHILD_DEPTH + 1);
    const deepest = (await engine.listRuns({ definitionId: 'loop' })).map((r) => r.id);
    const errors = await Promise.all(deepest.map(async (id) => (await engine.getRun(id))?.steps.again));
    expect(errors.filter((st) => st?.status === 'failed' && st.error.code === 'CHILD.DEPTH_EXCEEDED')).toHaveLength(1);
  });
});

/** Decides and appends one command on a run's stream, with no engine: what a process does before it dies. */
async function applyRaw(store: EventStore, runId: string, command: Command): Promise<void> {
  const recorded = await store.readStream(runStream(runId));
  const state = fold(recorded.map((e) => ({ type: e.type, data: e.data }) as WorkflowEvent));
  const { events } = decide(command, state);
  await store.append(
    runStream(runId),
    events.map((e) => ({ type: e.type, data: e.data })),
    { expectedRevision: (recorded.at(-1)?.revision ?? -1) as number },
  );
}
