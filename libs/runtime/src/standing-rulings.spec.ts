import { describe, expect, it } from '@jest/globals';
import { Topics, createInMemoryBus } from '@orchestron/bus';
import type { GovernanceDecisionMessage, GovernanceRequestMessage, MessageBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { compileDefinition } from '@orchestron/definitions';
import { decide, fold, initialState, inputDigest } from '@orchestron/workflow-core';
import type { RunData } from '@orchestron/workflow-core';
import { Engine } from './engine.ts';
import { StandingRulings } from './standing-rulings.ts';
import { closeAfterEach, eventually } from './testing/index.ts';

const shop = {
  id: 'shop',
  version: 1,
  defaults: { retry: { maxAttempts: 1 }, timeout: '10s' },
  steps: {
    ship: { worker: 'shipping', sideEffect: true },
    bill: { worker: 'billing', action: 'charge', sideEffect: true },
  },
};

type Ruling = Partial<GovernanceDecisionMessage> | null;

/**
 * The governance service as the orchestrator sees it: answers each request with an allow, and with a standing
 * ruling for the steps `standing` names (null: publishes nothing for that step).
 */
async function governanceService(bus: MessageBus, rule: (request: GovernanceRequestMessage) => Ruling) {
  const asked: GovernanceRequestMessage[] = [];
  await bus.subscribe({ topics: [Topics.governanceRequests], group: 'fake-governance' }, async (message) => {
    const request = message.value as GovernanceRequestMessage;
    asked.push(request);
    const ruling = rule(request);
    if (ruling === null) return;
    const decision: GovernanceDecisionMessage = {
      type: 'governance.decision',
      requestId: request.requestId,
      runId: request.runId,
      stepId: request.stepId,
      inputDigest: request.inputDigest,
      outcome: 'allow',
      policyId: 'per-request',
      reason: 'asked and allowed',
      decidedAt: Date.now(),
      decidedBy: 'g-1',
      ...ruling,
    };
    await bus.publish(Topics.governanceDecisions, [{ key: request.runId, value: decision }]);
  });
  return asked;
}

const STANDING = { standing: { policyId: 'baseline', reason: 'allowed by the baseline', forMs: 60_000 } };

describe('standing rulings in the orchestrator (ADRs 40, 43)', () => {
  const onClose = closeAfterEach();

  async function boot(rule: (request: GovernanceRequestMessage) => Ruling) {
    const store = createInMemoryEventStore();
    // Each append's event types, by stream: a standing ruling is recorded in the append that asks for it.
    const appends: [string, string[]][] = [];
    const append = store.append.bind(store);
    store.append = (stream, events, options) => {
      appends.push([stream, events.map((e) => e.type)]);
      return append(stream, events, options);
    };
    const bus = createInMemoryBus({ partitions: 3 });
    onClose(() => bus.close());
    const asked = await governanceService(bus, rule);
    const engine = new Engine({ store, bus, governance: 'bus' });
    await engine.start();
    onClose(() => engine.stop());
    await engine.definitions.register(shop, 'test');
    await engine.definitions.register(shop, 'test', 'other-tenant');
    return { engine, asked, appends };
  }

  it("applies a standing allow to the step's later requests without asking, and records where it came from", async () => {
    // Governance says ship's allow stands, and answers bill (another worker and action) per request.
    const { engine, asked, appends } = await boot((request) => (request.stepId === 'ship' ? STANDING : {}));
    const first = await engine.startRun({ definitionId: 'shop', input: { n: 1 }, actor: 'test' });
    await eventually(
      'first run ship running',
      async () => (await engine.getRun(first.run.runId))?.steps.ship?.status === 'running',
    );
    const second = await engine.startRun({ definitionId: 'shop', input: { n: 2 }, actor: 'test' });
    await eventually(
      'second run ship running',
      async () => (await engine.getRun(second.run.runId))?.steps.ship?.status === 'running',
    );
    await eventually('bill asked for the second run', () => asked.find((r) => r.runId === second.run.runId));
    // Governance was asked about ship once (the first run); about bill, which has no standing ruling, every time.
    expect(asked.map((r) => [r.runId === first.run.runId ? 'first' : 'second', r.stepId]).sort()).toEqual([
      ['first', 'bill'],
      ['first', 'ship'],
      ['second', 'bill'],
    ]);
    const history = await engine.history(second.run.runId);
    const aboutShip = history.filter((e) => (e.data as { stepId?: string }).stepId === 'ship').map((e) => e.type);
    expect(aboutShip).not.toContain('GovernanceCheckRequested');
    expect(aboutShip).not.toContain('GovernanceDecided');
    const ship = history.find((e) => e.type === 'StepDispatched' && (e.data as { stepId: string }).stepId === 'ship');
    // In place of a request and its answer: the allow on the dispatch, with the digest of the input it allowed and
    // whose ruling it is (ADR 43).
    const ruling = (ship?.data as { ruling?: { reason?: unknown } } | undefined)?.ruling;
    expect(ruling).toMatchObject({ policyId: 'baseline', decidedBy: 'g-1', inputDigest: inputDigest({ n: 2 }) });
    expect(String(ruling?.reason)).toMatch(
      /^allowed by the baseline \(standing ruling by g-1 at \d{4}-\d\d-\d\dT[\d:.]+Z: it holds for any input of this step\)$/,
    );
    // One append started the run, dispatched ship with its standing allow as the whole check (no request, no decision
    // of its own), and asked about bill.
    const started = appends.find(([stream, types]) => stream.endsWith(second.run.runId) && types[0] === 'RunStarted');
    expect(started?.[1]).toEqual(['RunStarted', 'StepDispatched', 'GovernanceCheckRequested']);
  });

  it("never crosses tenants: another tenant's run of the same definition is asked about", async () => {
    const { engine, asked } = await boot(() => STANDING);
    const mine = await engine.startRun({ definitionId: 'shop', input: {}, actor: 'test' });
    await eventually(
      'ship running',
      async () => (await engine.getRun(mine.run.runId))?.steps.ship?.status === 'running',
    );
    const theirs = await engine.startRun({ definitionId: 'shop', input: {}, actor: 'test', tenant: 'other-tenant' });
    await eventually('their ship asked', () => asked.find((r) => r.runId === theirs.run.runId && r.stepId === 'ship'));
  });

  it('an allow without a standing ruling, or a standing field on a deny, is applied to its own request only', async () => {
    // Governance denies ship (with a standing field it must not honour) and allows bill, neither standing.
    const { engine, asked } = await boot((request) =>
      request.stepId === 'ship' ? { outcome: 'deny', policyId: 'no', reason: 'denied', ...STANDING } : {},
    );
    const runs: string[] = [];
    for (const input of [{ a: 1 }, { a: 2 }, { a: 3 }]) {
      const { run } = await engine.startRun({ definitionId: 'shop', input, actor: 'test' });
      runs.push(run.runId);
      await eventually('the run failed on the deny', async () => (await engine.getRun(run.runId))?.status === 'failed');
    }
    for (const stepId of ['ship', 'bill'])
      expect(asked.filter((r) => r.stepId === stepId).map((r) => r.runId)).toEqual(runs);
  });

  it("names governance as the ruling's author on the dispatch, which the caller's start caused", async () => {
    const { engine } = await boot((request) => (request.stepId === 'ship' ? STANDING : {}));
    const first = await engine.startRun({ definitionId: 'shop', input: {}, actor: 'test' });
    await eventually(
      'ship running',
      async () => (await engine.getRun(first.run.runId))?.steps.ship?.status === 'running',
    );
    const second = await engine.startRun({ definitionId: 'shop', input: {}, actor: 'producer:p', keyId: 'key-1' });
    const history = await engine.history(second.run.runId);
    expect(history.find((e) => e.type === 'RunStarted')?.metadata).toMatchObject({ keyId: 'key-1' });
    const ship = history.find((e) => e.type === 'StepDispatched' && (e.data as { stepId: string }).stepId === 'ship');
    // The dispatch is the start's doing, as every dispatch a start makes; the allow on it is governance's.
    expect(ship?.metadata).toMatchObject({ actor: 'producer:p', command: 'StartRun' });
    expect(ship?.data).toMatchObject({ ruling: { decidedBy: 'g-1' } });
    expect(history.some((e) => e.type === 'GovernanceDecided')).toBe(false);
  });
});

describe('StandingRulings', () => {
  const compiled = compileDefinition(shop);
  const runOf = (input: unknown, tenant = 'default'): RunData => {
    const command = {
      type: 'StartRun',
      data: { runId: `r-${JSON.stringify(input)}`, definition: compiled, input, tenant },
      metadata: { now: 0, actor: 'producer:shop' },
    } as const;
    return fold(decide(command, initialState()).events) as RunData;
  };
  const run = runOf({ n: 1 });
  const decision = (requestId: string, over: Partial<GovernanceDecisionMessage> = {}): GovernanceDecisionMessage => ({
    type: 'governance.decision',
    requestId,
    runId: 'r',
    stepId: 'ship',
    inputDigest: 'd',
    outcome: 'allow',
    policyId: 'p',
    reason: 'ok',
    decidedAt: 10_000,
    decidedBy: 'g',
    standing: { policyId: 'p', reason: 'ok', forMs: 1_000 },
    ...over,
  });
  const KEY = StandingRulings.keyOf(run, 'ship');

  it('holds for forMs from when this process asked, then lapses and the step is asked about again', () => {
    const rulings = new StandingRulings();
    rulings.asking('q-1', KEY, 10_000);
    rulings.ruled(decision('q-1'));
    expect(rulings.verdictFor(run, 'ship', {}, 10_999)).toMatchObject({
      outcome: 'allow',
      policyId: 'p',
      decidedBy: 'g',
    });
    expect(rulings.verdictFor(run, 'ship', {}, 11_000)).toBeNull();
    expect(rulings.size).toBe(0);
  });

  it('plants nothing from a decision made long before this process asked (delivered again after a failover)', () => {
    const rulings = new StandingRulings();
    rulings.asking('q-1', KEY, 60_000);
    rulings.ruled(decision('q-1', { decidedAt: 10_000 }));
    expect(rulings.verdictFor(run, 'ship', {}, 60_001)).toBeNull();
  });

  it('ignores a ruling on a request it did not ask (a forged or replayed decision plants nothing)', () => {
    const rulings = new StandingRulings();
    rulings.ruled(decision('q-unknown'));
    rulings.asking('q-1', KEY, 10_000);
    rulings.ruled(decision('q-1', { requestId: 'q-2' }));
    expect(rulings.verdictFor(run, 'ship', {}, 10_001)).toBeNull();
  });

  it('a request is answered once: a second decision for it plants nothing', () => {
    const rulings = new StandingRulings();
    rulings.asking('q-1', KEY, 10_000);
    rulings.ruled(decision('q-1', { standing: undefined }));
    rulings.ruled(decision('q-1'));
    expect(rulings.verdictFor(run, 'ship', {}, 10_001)).toBeNull();
  });

  it('does not apply to a request Cedar could not take: governance denies those, so it is asked', () => {
    const rulings = new StandingRulings();
    rulings.asking('q-1', KEY, 10_000);
    rulings.ruled(decision('q-1'));
    expect(rulings.verdictFor(run, 'ship', { name: 'ada\ud800' }, 10_001)).toBeNull();
    expect(rulings.verdictFor(runOf({ name: 'eve\ud800' }), 'ship', {}, 10_001)).toBeNull();
    expect(rulings.verdictFor(run, 'ship', { name: 'ada' }, 10_001)).not.toBeNull();
  });

  it('is kept per tenant: the same step of the same definition in another tenant has none', () => {
    const rulings = new StandingRulings();
    rulings.asking('q-1', KEY, 10_000);
    rulings.ruled(decision('q-1'));
    expect(rulings.verdictFor(runOf({ n: 1 }, 'other-tenant'), 'ship', {}, 10_001)).toBeNull();
  });
});
