import { describe, expect, it } from '@jest/globals';
import type { AuditEntry, AuditFilter, AuditHit, AuditIndexStore } from '../audit-index.port.ts';
import { MAX_AUDIT_PAGE } from '../audit-index.port.ts';
import { EventStoreClosedError } from '../errors.ts';
import type { RecordedEvent } from '../event-store.port.ts';
import { anEvent, range } from './conformance-kit.ts';
import type { GetStore } from './conformance-kit.ts';

type Fields = Partial<Omit<AuditEntry, 'position' | 'recordedAt'>> & { readonly at?: string };

async function rejection(pending: Promise<unknown>): Promise<unknown> {
  return pending.then(
    () => undefined,
    (reason: unknown) => reason,
  );
}

const positions = (hits: readonly AuditHit[]): number[] => hits.map((hit) => hit.entry.position);

function entryOf(event: RecordedEvent, fields: Fields = {}): AuditEntry {
  const { at, ...rest } = fields;
  return {
    position: event.position,
    runId: 'r1',
    tenant: 'acme',
    definitionId: 'order',
    type: event.type,
    actor: null,
    stepId: null,
    policyId: null,
    recordedAt: at ?? '2025-01-01T00:00:00.000Z',
    ...rest,
  };
}

export function describeAuditIndexConformance(getStore: GetStore): void {
  const index = (): AuditIndexStore => {
    const capability = getStore().auditIndex;
    if (capability === undefined)
      throw new Error('the store has no audit index: pass { auditIndex: false } if the adapter cannot keep one');
    return capability;
  };

  /** Appends one event per item (to the stream `run-<runId>`) and puts the entry each one gets. */
  async function indexed(items: readonly Fields[]): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for (const [n, fields] of items.entries()) {
      const runId = fields.runId ?? 'r1';
      const event = { type: fields.type ?? 'Happened', data: { n }, metadata: { actor: fields.actor ?? null } };
      const { position } = await getStore().append(`run-${runId}`, [event]);
      const [recorded] = await getStore().readAll({ after: position - 1, maxCount: 1 });
      entries.push(entryOf(recorded as RecordedEvent, { ...fields, runId }));
    }
    await index().put(entries);
    return entries;
  }

  const query = (filter: AuditFilter, limit = 100, after?: number): Promise<AuditHit[]> =>
    index().query(filter, { limit, ...(after !== undefined ? { after } : {}) });

  describe('audit index', () => {
    it('an empty index answers nothing', async () => {
      expect(await query({})).toEqual([]);
    });

    it('answers each entry as it was put with its event from the log, in position order', async () => {
      const entries = await indexed([
        { type: 'RunStarted', actor: 'operator:ann', at: '2025-01-01T00:00:00Z' },
        { type: 'StepApproved', stepId: 'ship', actor: 'operator:bob', at: '2025-01-01T00:00:01.5+01:00' },
        { type: 'GovernanceDecided', stepId: 'pay', policyId: 'limits', tenant: 'ténant ✓' },
      ]);
      const hits = await query({});
      expect(hits.map((hit) => hit.entry)).toEqual([
        { ...entries[0], recordedAt: '2025-01-01T00:00:00.000Z' },
        { ...entries[1], recordedAt: '2024-12-31T23:00:01.500Z' },
        entries[2],
      ]);
      expect(hits.map((hit) => hit.event)).toEqual(await getStore().readAll());
    });

    it('filters by every field given', async () => {
      const e = await indexed([
        { runId: 'r1', tenant: 't1', definitionId: 'd1', type: 'RunStarted', actor: 'producer:p' },
        { runId: 'r1', tenant: 't1', definitionId: 'd1', type: 'StepApproved', stepId: 's1', actor: 'operator:ann' },
        { runId: 'r2', tenant: 't2', definitionId: 'd1', type: 'StepApproved', stepId: 's1', actor: 'operator:ann' },
        { runId: 'r3', tenant: 't1', definitionId: 'd2', type: 'GovernanceDecided', stepId: 's2', policyId: 'p1' },
      ]);
      const at = (...ks: number[]): number[] => ks.map((k) => (e[k] as AuditEntry).position);
      expect(positions(await query({ tenant: 't1' }))).toEqual(at(0, 1, 3));
      expect(positions(await query({ runId: 'r1' }))).toEqual(at(0, 1));
      expect(positions(await query({ definitionId: 'd1' }))).toEqual(at(0, 1, 2));
      expect(positions(await query({ actor: 'operator:ann' }))).toEqual(at(1, 2));
      expect(positions(await query({ type: 'StepApproved' }))).toEqual(at(1, 2));
      expect(positions(await query({ stepId: 's1' }))).toEqual(at(1, 2));
      expect(positions(await query({ policyId: 'p1' }))).toEqual(at(3));
      expect(positions(await query({ tenant: 't1', actor: 'operator:ann', type: 'StepApproved' }))).toEqual(at(1));
      expect(await query({ tenant: 't3' })).toEqual([]);
      expect(await query({ tenant: 't2', runId: 'r1' })).toEqual([]);
    });

    it('filters by time: since inclusive, until exclusive, in any zone', async () => {
      const e = await indexed([
        { at: '2025-01-01T00:00:00.000Z' },
        { at: '2025-01-01T00:00:01.000Z' },
        { at: '2025-01-01T00:00:02.000Z' },
        { at: '2025-01-02T00:00:00.000Z' },
      ]);
      const at = (...ks: number[]): number[] => ks.map((k) => (e[k] as AuditEntry).position);
      expect(positions(await query({ since: '2025-01-01T00:00:01Z' }))).toEqual(at(1, 2, 3));
      expect(positions(await query({ until: '2025-01-01T00:00:02Z' }))).toEqual(at(0, 1));
      expect(positions(await query({ since: '2025-01-01T01:00:01+01:00', until: '2025-01-02' }))).toEqual(at(1, 2));
      expect(positions(await query({ since: '2025-01-02' }))).toEqual(at(3));
    });

    it('pages with after and limit, without gaps or repeats', async () => {
      const entries = await indexed(range(25).map((n) => ({ tenant: n % 2 === 0 ? 'even' : 'odd' })));
      const seen: number[] = [];
      let after = 0;
      for (
        let page = await query({ tenant: 'even' }, 4);
        page.length > 0;
        page = await query({ tenant: 'even' }, 4, after)
      ) {
        expect(page.length).toBeLessThanOrEqual(4);
        seen.push(...positions(page));
        after = page.at(-1)?.entry.position ?? after;
      }
      expect(seen).toEqual(entries.filter((entry) => entry.tenant === 'even').map((entry) => entry.position));
    });

    it('a put of an entry already there replaces it, so replaying changes nothing', async () => {
      const [first] = await indexed([{ actor: 'operator:ann' }]);
      const entry = first as AuditEntry;
      await index().put([entry, entry]);
      await index().put([{ ...entry, actor: 'operator:bob' }]);
      expect((await query({})).map((hit) => hit.entry)).toEqual([{ ...entry, actor: 'operator:bob' }]);
    });

    it('puts thousands of entries in one call and answers at most MAX_AUDIT_PAGE', async () => {
      await getStore().append(
        'run-many',
        range(3_000).map((n) => anEvent('Counted', { n })),
      );
      const events = await getStore().readAll();
      await index().put(events.map((event) => entryOf(event, { runId: 'many' })));
      const page = await query({ runId: 'many' }, MAX_AUDIT_PAGE, events[999]?.position);
      expect(page).toHaveLength(MAX_AUDIT_PAGE);
      expect(page[0]?.event).toEqual(events[1_000]);
    });

    it('refuses a bad put with a TypeError naming the field, and writes none of its entries', async () => {
      const [event] = await getStore()
        .append('run-r1', [anEvent('A'), anEvent('B')])
        .then(() => getStore().readAll());
      const ok = entryOf(event as RecordedEvent);
      const refusals: [unknown, RegExp][] = [
        [[ok, { ...ok, position: 0 }], /entries\[1\]\.position/],
        [[ok, { ...ok, position: 1.5 }], /entries\[1\]\.position/],
        [[ok, { ...ok, runId: '' }], /entries\[1\]\.runId/],
        [[ok, { ...ok, tenant: 'x'.repeat(201) }], /entries\[1\]\.tenant/],
        [[ok, { ...ok, type: 7 }], /entries\[1\]\.type/],
        [[ok, { ...ok, actor: 'lone \ud800' }], /entries\[1\]\.actor/],
        [[ok, { ...ok, stepId: undefined }], /entries\[1\]\.stepId/],
        [[ok, { ...ok, recordedAt: 'yesterday' }], /entries\[1\]\.recordedAt/],
        [[ok, null], /entries\[1\] must be an object/],
        ['not entries', /must be an array/],
      ];
      for (const [bad, message] of refusals) {
        const error = await rejection(index().put(bad as AuditEntry[]));
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(message);
      }
      expect(await query({})).toEqual([]);
    });

    it('refuses a bad query with a TypeError naming the field', async () => {
      for (const limit of [0, -1, 1.5, MAX_AUDIT_PAGE + 1, Number.NaN]) {
        expect(((await rejection(query({}, limit))) as Error).message).toMatch(/limit/);
      }
      expect(((await rejection(query({}, 1, -1))) as Error).message).toMatch(/after/);
      expect(((await rejection(query({ actor: '' }))) as Error).message).toMatch(/actor/);
      expect(((await rejection(query({ since: 'last week' }))) as Error).message).toMatch(/since/);
      expect(((await rejection(query({ until: '2025-01-01T00:00:00' }))) as Error).message).toMatch(/until/);
    });

    it('writing entries appends nothing to the log', async () => {
      await indexed([{}]);
      expect(await getStore().readAll()).toHaveLength(1);
    });

    it('fails with EventStoreClosedError once the store is closed', async () => {
      const store = getStore();
      const capability = index();
      await store.close();
      expect(await rejection(capability.put([]))).toBeInstanceOf(EventStoreClosedError);
      expect(await rejection(capability.query({}, { limit: 1 }))).toBeInstanceOf(EventStoreClosedError);
    });
  });
}

export function describeNoAuditIndex(getStore: GetStore): void {
  describe('audit index', () => {
    it('is absent, so audit search is unavailable', () => {
      expect(getStore().auditIndex).toBeUndefined();
    });
  });
}
