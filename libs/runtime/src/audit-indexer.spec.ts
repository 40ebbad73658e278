import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { AuditIndexer, startAuditIndexer } from './audit-indexer.ts';

const started = (tenant: string, definitionId: string, startedBy: string) => ({
  type: 'RunStarted',
  data: { runId: 'x', definition: { id: definitionId, version: 1 }, input: {}, startedBy, tenant, at: 0 },
  metadata: { actor: startedBy },
});

async function seed(store: EventStore): Promise<void> {
  await store.append('run-r1', [started('acme', 'order', 'producer:pat')]);
  await store.append('definition-order', [{ type: 'DefinitionRegistered', data: {}, metadata: { actor: 'admin:a' } }]);
  await store.append('run-r1', [
    { type: 'GovernanceDecided', data: { stepId: 'pay', outcome: 'allow', policyId: 'limits', reason: '', at: 0 } },
    { type: 'StepApproved', data: { stepId: 'ship', by: 'operator:ann', reason: null, at: 0 }, metadata: {} },
    { type: 'StepDispatched', data: { stepId: 'ship' }, metadata: { actor: 'operator:ann' } },
  ]);
  await store.append('run-r2', [started('globex', 'invoice', 'producer:gus')]);
}

describe('the audit indexer', () => {
  it('puts one entry per run event with who, what and where, and none for other streams', async () => {
    const store = createInMemoryEventStore();
    await seed(store);
    const indexer = new AuditIndexer({ store, pageSize: 2 });
    await indexer.catchUp();
    const hits = await store.auditIndex!.query({}, { limit: 100 });
    expect(
      hits.map(({ entry }) => [entry.runId, entry.tenant, entry.type, entry.actor, entry.stepId, entry.policyId]),
    ).toEqual([
      ['r1', 'acme', 'RunStarted', 'producer:pat', null, null],
      ['r1', 'acme', 'GovernanceDecided', null, 'pay', 'limits'],
      ['r1', 'acme', 'StepApproved', 'operator:ann', 'ship', null],
      ['r1', 'acme', 'StepDispatched', 'operator:ann', 'ship', null],
      ['r2', 'globex', 'RunStarted', 'producer:gus', null, null],
    ]);
    expect(hits.every(({ entry, event }) => entry.position === event.position)).toBe(true);
    expect(indexer.position).toBe(6);
  });

  it('finds a standing allow by its policy on the dispatch it allowed (ADR 43), and no policy on a plain one', async () => {
    const store = createInMemoryEventStore();
    await store.append('run-r1', [started('acme', 'order', 'producer:pat')]);
    const ruling = { policyId: 'baseline', reason: 'standing', decidedBy: 'g-1', inputDigest: 'd' };
    await store.append('run-r1', [
      { type: 'StepDispatched', data: { stepId: 'pay', ruling, at: 0 } },
      { type: 'StepDispatched', data: { stepId: 'ship', at: 0 } },
    ]);
    await new AuditIndexer({ store }).catchUp();
    const byPolicy = await store.auditIndex!.query({ policyId: 'baseline' }, { limit: 10 });
    expect(byPolicy.map(({ entry }) => [entry.type, entry.stepId])).toEqual([['StepDispatched', 'pay']]);
    const all = await store.auditIndex!.query({ type: 'StepDispatched' }, { limit: 10 });
    expect(all.map(({ entry }) => entry.policyId)).toEqual(['baseline', null]);
  });

  it('goes on from its checkpoint, reading a run it has not met from its stream', async () => {
    const store = createInMemoryEventStore();
    await seed(store);
    await new AuditIndexer({ store }).catchUp();
    await store.append('run-r1', [{ type: 'RunCancelled', data: { by: 'operator:bob', reason: 'dup', at: 0 } }]);
    const again = new AuditIndexer({ store });
    await again.catchUp();
    expect(again.position).toBe(7);
    const [cancelled] = await store.auditIndex!.query({ type: 'RunCancelled' }, { limit: 10 });
    expect(cancelled?.entry).toMatchObject({
      runId: 'r1',
      tenant: 'acme',
      definitionId: 'order',
      actor: 'operator:bob',
    });
  });

  it('saves its checkpoint at most once a period while it follows, and on close; the next goes on from there', async () => {
    const store = createInMemoryEventStore();
    const checkpoints = store.checkpoints!;
    const saved: number[] = [];
    const saving: EventStore = {
      ...store,
      checkpoints: {
        ...checkpoints,
        save: (name, checkpoint) => {
          saved.push(checkpoint.position);
          return checkpoints.save(name, checkpoint);
        },
      },
    };
    await seed(store);
    const indexer = new AuditIndexer({ store: saving, checkpointEveryMs: 60_000 });
    await indexer.catchUp();
    await store.append('run-r2', [{ type: 'RunCancelled', data: { by: 'operator:bob', reason: 'dup', at: 0 } }]);
    await indexer.catchUp();
    expect(indexer.position).toBe(7);
    expect(saved).toEqual([6]);
    await indexer.close();
    expect(saved).toEqual([6, 7]);
    const reads: number[] = [];
    const again = new AuditIndexer({
      store: {
        ...store,
        readAll: (options) => {
          reads.push(options?.after ?? 0);
          return store.readAll(options);
        },
      },
    });
    await again.catchUp();
    // One read to check the checkpoint's event, one past it: neither from the start of the log.
    expect(reads).toEqual([6, 7]);
    expect(again.position).toBe(7);
  });

  it('follows the log once started, and is off on a store without an audit index', async () => {
    const store = createInMemoryEventStore();
    const indexer = startAuditIndexer({ store, pollMs: 5 });
    await seed(store);
    for (let i = 0; i < 200 && indexer?.position !== 6; i++) await new Promise((r) => setTimeout(r, 5));
    expect(indexer?.position).toBe(6);
    await indexer?.close();
    expect(startAuditIndexer({ store: createInMemoryEventStore({ auditIndex: false }) })).toBeNull();
  });
});
