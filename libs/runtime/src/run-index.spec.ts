import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { ReadRowStore, RecordedEvent } from '@orchestron/event-store';
import type { Logger } from './ports.ts';
import { RunIndex } from './run-index.ts';
import type { RunIndexOptions } from './run-index.ts';
import { RunWaits } from './run-waits.ts';

let position = 0;
const revisions = new Map<string, number>();
function recorded(runId: string, type: string, data: Record<string, unknown> = {}): RecordedEvent {
  const revision = revisions.get(runId) ?? 0;
  revisions.set(runId, revision + 1);
  return {
    id: `e${position + 1}`,
    streamId: `run-${runId}`,
    revision,
    position: ++position,
    type,
    data,
    metadata: {},
    recordedAt: new Date(Date.UTC(2026, 11, 1) + position).toISOString(),
  } as unknown as RecordedEvent;
}
const started = (runId: string, tenant = 'acme', definitionId = 'order'): RecordedEvent =>
  recorded(runId, 'RunStarted', { runId, tenant, definition: { id: definitionId, version: 1, steps: {}, order: [] } });
const completed = (runId: string): RecordedEvent => recorded(runId, 'RunCompleted', { at: 1 });

function setup(options: Partial<RunIndexOptions> = {}) {
  const rows = createInMemoryEventStore().readRows as ReadRowStore;
  const warnings: string[] = [];
  const logger: Logger = { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const index = new RunIndex({ archive: rows, archiveBatch: 10, archiveAfterMs: 5, logger, ...options });
  return { index, rows, warnings };
}

describe('RunIndex with an archive: ended runs leave memory, and nothing is lost', () => {
  it('keeps only the runs still moving in memory, and finds and lists the archived ones', async () => {
    const { index } = setup();
    for (let i = 0; i < 25; i++) index.apply(started(`done-${i}`));
    for (let i = 0; i < 25; i++) index.apply(completed(`done-${i}`));
    index.apply(started('moving'));
    await index.settle();
    expect(index.inMemory).toBe(1);
    expect(index.get('done-3')).toBeUndefined();
    expect(await index.find('done-3')).toMatchObject({ id: 'done-3', status: 'completed', tenant: 'acme' });
    const all = await index.list();
    expect(all).toHaveLength(26);
    expect(all.map((run) => run.position)).toEqual([...all.map((run) => run.position)].sort((a, b) => b - a));
    expect((await index.list({ limit: 3 })).map((run) => run.id)).toEqual(['moving', 'done-24', 'done-23']);
    expect(await index.list({ status: 'running' })).toEqual([expect.objectContaining({ id: 'moving' })]);
    expect(index.active().map((run) => run.id)).toEqual(['moving']);
    expect(index.countByStatus().sort()).toEqual([
      ['acme', 'completed', 25],
      ['acme', 'running', 1],
    ]);
  });

  it('pages memory and archive alike with `before`, and finds runs by id in either', async () => {
    const { index } = setup();
    for (let i = 0; i < 30; i++) index.apply(started(`p-${i}`, i % 2 === 0 ? 'acme' : 'globex'));
    for (let i = 0; i < 20; i++) index.apply(completed(`p-${i}`));
    await index.settle();
    expect(index.inMemory).toBe(10);
    const seen: string[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await index.list({ tenant: 'acme', limit: 4, ...(before !== undefined ? { before } : {}) });
      seen.push(...page.map((run) => run.id));
      if (page.length < 4) break;
      before = page.at(-1)?.position;
    }
    expect(seen.sort()).toEqual(Array.from({ length: 15 }, (_, i) => `p-${i * 2}`).sort());
    expect(new Set(seen).size).toBe(15);
    // Newest event first: p-1 and p-0 completed after p-25 started.
    const byId = await index.list({ ids: ['p-0', 'p-25', 'p-1', 'nobody', 'p-0'] });
    expect(byId.map((run) => run.id)).toEqual(['p-1', 'p-0', 'p-25']);
    expect((await index.list({ ids: ['p-0', 'p-1'], tenant: 'globex' })).map((run) => run.id)).toEqual(['p-1']);
  });

  it('filters memory and archive alike by tenant, status and definition', async () => {
    const { index } = setup();
    index.apply(started('a', 't1', 'order'));
    index.apply(started('b', 't2', 'order'));
    index.apply(started('c', 't1', 'refund'));
    index.apply(completed('a'));
    index.apply(completed('b'));
    await index.settle();
    expect((await index.list({ tenant: 't1' })).map((run) => run.id)).toEqual(['a', 'c']);
    expect((await index.list({ tenant: 't2' })).map((run) => run.id)).toEqual(['b']);
    expect((await index.list({ definitionId: 'order' })).map((run) => run.id)).toEqual(['b', 'a']);
    expect((await index.list({ tenant: 't1', status: 'completed' })).map((run) => run.id)).toEqual(['a']);
  });

  it('memory stays bounded over 5,000 ended runs', async () => {
    const { index } = setup({ archiveBatch: 100 });
    for (let i = 0; i < 5_000; i++) {
      index.apply(started(`r${i}`));
      index.apply(completed(`r${i}`));
      if (i % 500 === 0) await index.settle();
    }
    await index.settle();
    expect(index.inMemory).toBe(0);
    expect(await index.list({ limit: 10_000 })).toHaveLength(5_000);
  });

  it('a put that fails keeps the runs in memory, says so, and tries again', async () => {
    const { index, rows, warnings } = setup();
    let failures = 2;
    const flaky: ReadRowStore = {
      ...rows,
      put: async (table, batch) => {
        if (failures-- > 0) throw new Error('database down');
        return rows.put(table, batch);
      },
    };
    const flakyIndex = new RunIndex({
      archive: flaky,
      archiveBatch: 10,
      archiveAfterMs: 5,
      logger: { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });
    flakyIndex.apply(started('x'));
    flakyIndex.apply(completed('x'));
    await flakyIndex.settle();
    expect(flakyIndex.get('x')).toMatchObject({ status: 'completed' });
    expect(warnings).toContain('could not archive ended runs; they stay in memory and are tried again');
    for (let waited = 0; flakyIndex.inMemory > 0 && waited < 5_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(flakyIndex.inMemory).toBe(0);
    expect(await flakyIndex.find('x')).toMatchObject({ status: 'completed' });
    await index.close();
    await flakyIndex.close();
  });

  it('an event for an archived run reads the run back, folds it in, and tells the waits', async () => {
    const changed: string[] = [];
    const { index } = setup({ onLateChange: (runId) => changed.push(runId) });
    index.apply(started('late'));
    index.apply(recorded('late', 'ApprovalRequested', { stepId: 'a' }));
    index.apply(recorded('late', 'RunCancelled', { by: 'op' }));
    await index.settle();
    expect(index.inMemory).toBe(0);
    index.apply(recorded('late', 'RunNeedsOperator', { code: 'X', message: 'why', stepId: null }));
    expect(index.pendingFixups).toBe(1);
    await index.caughtUp();
    expect(changed).toEqual(['late']);
    expect(index.get('late')).toMatchObject({ status: 'needs_operator', attention: { code: 'X' } });
    expect(index.countByStatus()).toEqual([['acme', 'needs_operator', 1]]);
  });

  it('a wait on a run that ended and left memory answers at once', async () => {
    const { index } = setup();
    const waits = new RunWaits(index);
    index.apply(started('w'));
    index.apply(completed('w'));
    await index.settle();
    expect(index.inMemory).toBe(0);
    const result = await waits.wait('w', { timeoutMs: 60_000 });
    expect(result).toMatchObject({ ended: true, timedOut: false, summary: { id: 'w', status: 'completed' } });
  });

  it('without an archive every run stays in memory', async () => {
    const index = new RunIndex();
    index.apply(started('m'));
    index.apply(completed('m'));
    await index.settle();
    expect(index.inMemory).toBe(1);
    expect(index.get('m')).toMatchObject({ status: 'completed' });
  });
});
