import { describe, expect, it } from '@jest/globals';
import { Topics, createInMemoryBus } from '@orchestron/bus';
import type { GovernanceDecisionMessage, GovernanceRequestMessage, MessageBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
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
      decidedAt: Date.UTC(2026, 11, 7),
      decidedBy: 'g-1',
      ...ruling,
    };
    await bus.publish(Topics.governanceDecisions, [{ key: request.runId, value: decision }]);
  });
  return asked;
}

const STANDING = { standing: { policyId: 'baseline', reason: 'allowed by the baseline', forMs: 60_000 } };

describe('standing rulings in the orchestrator (ADR 40)', () => {
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
    const decided = (await engine.history(second.run.runId)).find((e) => e.type === 'GovernanceDecided');
    expect(decided?.data).toMatchObject({ outcome: 'allow', policyId: 'baseline' });
    expect(String((decided?.data as { reason?: unknown } | undefined)?.reason)).toMatch(
      /^allowed by the baseline \(standing ruling by g-1 at 2026-12-07T00:00:00\.000Z: it holds for any input of this step\)$/,
    );
    // One append started the run, asked about both steps, recorded ship's standing allow and dispatched it.
    const started = appends.find(([stream, types]) => stream.endsWith(second.run.runId) && types[0] === 'RunStarted');
    expect(started?.[1]).toEqual([
      'RunStarted',
      'GovernanceCheckRequested',
      'GovernanceCheckRequested',
      'GovernanceDecided',
      'StepDispatched',
    ]);
  });

  it("never crosses tenants: another tenant's run of the same definition is asked about", async () => {
    const { engine, asked } = await boot(() => STANDING);
    const mine = await engine.startRun({ definitionId: 'shop', input: {}, actor: 'test' });
    await eventually(
      'ship running',
      async () => (await engine.getRun(mine.run.runId))?.steps.ship?.status === 'running',
    );
    const theirs = await engine.startRun({ definitionId: 'shop', input: {}, actor: 'test', tenant: 'other-tenant' });
    await eventually('their ship asked', () => asked.find((r) => r.runId === theirs.run.runId));
  });

  it('an allow without a standing ruling, or a standing field on a deny, is applied to its own request only', async () => {
    let n = 0;
    const { engine, asked } = await boot(() => {
      n += 1;
      return n === 1 ? {} : { outcome: 'deny', policyId: 'no', reason: 'denied', ...STANDING };
    });
    const runs: string[] = [];
    for (const input of [{ a: 1 }, { a: 2 }, { a: 3 }]) {
      const { run } = await engine.startRun({ definitionId: 'shop', input, actor: 'test' });
      runs.push(run.runId);
      await eventually('asked', () => asked.find((r) => r.runId === run.runId));
    }
    expect(asked.filter((r) => r.stepId === 'ship')).toHaveLength(3);
    await eventually(
      'the last run failed on the deny',
      async () => (await engine.getRun(runs[2] ?? ''))?.status === 'failed',
    );
  });
});

describe('StandingRulings', () => {
  const decision = (requestId: string, over: Partial<GovernanceDecisionMessage> = {}): GovernanceDecisionMessage => ({
    type: 'governance.decision',
    requestId,
    runId: 'r',
    stepId: 's',
    inputDigest: 'd',
    outcome: 'allow',
    policyId: 'p',
    reason: 'ok',
    decidedAt: 0,
    decidedBy: 'g',
    standing: { policyId: 'p', reason: 'ok', forMs: 1_000 },
    ...over,
  });

  it('holds from when it arrived for forMs, then lapses and the step is asked about again', () => {
    const rulings = new StandingRulings();
    rulings.asking('q-1', 'step-key');
    rulings.ruled(decision('q-1'), 10_000);
    expect(rulings.verdictFor('step-key', 10_999)).toMatchObject({ outcome: 'allow', policyId: 'p' });
    expect(rulings.verdictFor('step-key', 11_000)).toBeNull();
    expect(rulings.size).toBe(0);
  });

  it('ignores a ruling on a request it did not ask (a forged or replayed decision plants nothing)', () => {
    const rulings = new StandingRulings();
    rulings.ruled(decision('q-unknown'), 0);
    rulings.asking('q-1', 'step-key');
    rulings.ruled(decision('q-1', { requestId: 'q-2' }), 0);
    expect(rulings.verdictFor('step-key', 1)).toBeNull();
  });

  it('a request is answered once: a second decision for it plants nothing', () => {
    const rulings = new StandingRulings();
    rulings.asking('q-1', 'step-key');
    rulings.ruled(decision('q-1', { standing: undefined }), 0);
    rulings.ruled(decision('q-1'), 0);
    expect(rulings.verdictFor('step-key', 1)).toBeNull();
  });
});
