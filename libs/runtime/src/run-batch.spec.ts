/**
 * Commands that arrive for a run while its queue is busy are decided one after the other and appended at once: a
 * fan-out's completions cost one append, not one each. Each caller still gets its own answer, its own metadata on
 * its events, and its own error.
 */
import { describe, expect, it } from '@jest/globals';
import { compileDefinition } from '@orchestron/definitions';
import { createInMemoryEventStore, ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { DomainError } from '@orchestron/workflow-core';
import type { Command, Effect, RunData } from '@orchestron/workflow-core';
import type { AppendPlan } from './run-commands.ts';
import { RunCommands } from './run-commands.ts';
import { runStream } from './run-index.ts';
import { silentLogger } from './ports.ts';

const fan = compileDefinition({
  id: 'fan',
  version: 1,
  steps: { a: { worker: 'w' }, b: { worker: 'w' }, c: { worker: 'w' }, join: { worker: 'w', needs: ['a', 'b', 'c'] } },
});
const RUN = 'run-1';
const now = 1_000;
const start: Command = { type: 'StartRun', data: { runId: RUN, definition: fan, input: {} }, metadata: { now } };
const completed = (stepId: string): Command => ({
  type: 'RecordStepCompleted',
  data: { stepId, attempt: 1, phase: 'execute', output: { stepId } },
  metadata: { now: now + 1 },
});

/** The store, counting appends; `failNext` makes the next append throw what it is given. */
function counting(store: EventStore) {
  const appends: string[][] = [];
  let failNext: unknown;
  const append = store.append.bind(store);
  store.append = (stream, events, options) => {
    if (failNext !== undefined) {
      const error = failNext;
      failNext = undefined;
      return Promise.reject(error);
    }
    appends.push(events.map((e) => e.type));
    return append(stream, events, options);
  };
  return { appends, failWith: (error: unknown) => (failNext = error) };
}

function setUp(plan?: (effects: readonly Effect[]) => AppendPlan) {
  const store = createInMemoryEventStore();
  const counted = counting(store);
  const carried: string[] = [];
  const commands = new RunCommands({
    store,
    logger: silentLogger,
    metadata: { instance: 'o-1' },
    plan: (_runId, _command, _after, effects) =>
      plan?.(effects) ?? { extra: [], effects, commit: () => undefined, rollback: () => undefined },
  });
  const apply = (command: Command, caller: Record<string, string> = {}) =>
    commands.apply(RUN, command, caller, async (state: RunData, effects) => {
      const step = 'stepId' in command.data ? ` ${String(command.data.stepId)}` : '';
      carried.push(`${command.type}${step}: ${effects.length} effects, at version ${state.version}`);
      await Promise.resolve();
    });
  return { store, commands, apply, carried, ...counted };
}

describe('commands waiting for one run', () => {
  it('are decided in turn and appended at once, each caller answered with its own state and effects', async () => {
    const { store, apply, appends, carried } = setUp();
    await apply(start);
    appends.length = 0;
    const [a, b, c] = await Promise.all([
      apply(completed('a'), { commandId: 'ca' }),
      apply(completed('b'), { commandId: 'cb' }),
      apply(completed('c'), { commandId: 'cc' }),
    ]);
    expect(appends).toEqual([['StepCompleted', 'StepCompleted', 'StepCompleted', 'StepDispatched']]);
    expect(a?.events.map((e) => e.type)).toEqual(['StepCompleted']);
    expect(b?.events.map((e) => e.type)).toEqual(['StepCompleted']);
    expect(c?.events.map((e) => e.type)).toEqual(['StepCompleted', 'StepDispatched']);
    expect((a?.state as RunData).steps['b']?.status).toBe('running');
    expect((c?.state as RunData).steps['join']?.status).toBe('running');
    // Effects leave in the commands' order, each command's own, against the state the whole batch left (version 8:
    // the start's 4 events and the batch's 4), so what is out is what all of them decided.
    expect(carried.slice(-3)).toEqual([
      'RecordStepCompleted a: 1 effects, at version 8',
      'RecordStepCompleted b: 1 effects, at version 8',
      'RecordStepCompleted c: 2 effects, at version 8',
    ]);
    const history = await store.readStream(runStream(RUN));
    expect(history.filter((e) => e.type === 'StepCompleted').map((e) => e.metadata['commandId'])).toEqual([
      'ca',
      'cb',
      'cc',
    ]);
  });

  it('wait together while the run is busy: what arrives during one append goes in the next', async () => {
    const { store, commands, apply, appends } = setUp();
    await apply(start);
    appends.length = 0;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const busy = commands.serial(RUN, () => gate);
    const first = apply(completed('a'));
    const second = apply(completed('b'));
    open();
    await Promise.all([busy, first, second]);
    const third = apply(completed('c'));
    await third;
    expect(appends).toEqual([
      ['StepCompleted', 'StepCompleted'],
      ['StepCompleted', 'StepDispatched'],
    ]);
    expect((await store.readStream(runStream(RUN))).map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('an operator command that does not apply fails its caller only', async () => {
    const { apply, appends } = setUp();
    await apply(start);
    const a = apply(completed('a'));
    const refused = apply({ type: 'Resume', data: {}, metadata: { now: now + 2, actor: 'op' } });
    const b = apply(completed('b'));
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    expect((await a).events.map((e) => e.type)).toEqual(['StepCompleted']);
    expect((await b).events.map((e) => e.type)).toEqual(['StepCompleted']);
    expect(appends.at(-1)).toEqual(['StepCompleted', 'StepCompleted']);
  });

  it('after a conflict, decides the whole batch again on what the stream holds', async () => {
    const { store, apply, appends, failWith } = setUp();
    await apply(start);
    const batch = [apply(completed('a')), apply(completed('b')), apply(completed('c'))];
    failWith(new ExpectedVersionConflictError(runStream(RUN), 3, 4));
    const [, , c] = await Promise.all(batch);
    expect(c?.events.map((e) => e.type)).toEqual(['StepCompleted', 'StepDispatched']);
    expect(appends.at(-1)).toEqual(['StepCompleted', 'StepCompleted', 'StepCompleted', 'StepDispatched']);
    expect((await store.readStream(runStream(RUN))).filter((e) => e.type === 'StepCompleted')).toHaveLength(3);
  });

  it('when the append fails, every caller of the batch hears of it, and every plan is rolled back', async () => {
    const rolledBack: number[] = [];
    let plans = 0;
    const { store, apply, failWith } = setUp((effects) => {
      const n = ++plans;
      return { extra: [], effects, commit: () => undefined, rollback: () => rolledBack.push(n) };
    });
    await apply(start);
    const batch = [apply(completed('a')), apply(completed('b')), apply(completed('c'))];
    failWith(new Error('the store is down'));
    const settled = await Promise.allSettled(batch);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(rolledBack).toEqual([4, 3, 2]);
    expect((await store.readStream(runStream(RUN))).filter((e) => e.type === 'StepCompleted')).toHaveLength(0);
  });

  it('never jumps ahead of work queued for the run after it began to wait', async () => {
    const { commands, apply } = setUp();
    await apply(start);
    const order: string[] = [];
    const first = apply(completed('a')).then(() => order.push('a'));
    const waiting = apply(completed('b')).then(() => order.push('b'));
    const work = commands.serial(RUN, async () => order.push('work'));
    const late = apply(completed('c')).then(() => order.push('c'));
    await Promise.all([first, waiting, work, late]);
    expect(order).toEqual(['a', 'b', 'work', 'c']);
  });
});
