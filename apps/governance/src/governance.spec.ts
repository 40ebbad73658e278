import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus, parseGovernanceDecisionMessage, Topics } from '@orchestron/bus';
import type { DeliveredMessage, GovernanceRequestMessage, MessageBus } from '@orchestron/bus';
import { startGovernanceService } from './index.ts';
import type { GovernanceServiceHandle, PolicyReload } from './index.ts';
import { createMetrics } from '@orchestron/telemetry';
import type { Metrics } from '@orchestron/telemetry';

const POLICIES = new URL('../../../examples/policies/', import.meta.url).pathname;
const DECIDED_AT = Date.UTC(2030, 5, 1, 12);

function request(runId: string, overrides: Partial<GovernanceRequestMessage> = {}): GovernanceRequestMessage {
  return {
    type: 'governance.request',
    requestId: `${runId}/pay-vendor/abc`,
    runId,
    definitionId: 'vendor-payment',
    definitionVersion: 1,
    stepId: 'pay-vendor',
    worker: 'payments',
    action: 'charge',
    input: { amount: 1500, vendor: 'acme' },
    inputDigest: 'abc',
    runInput: { amount: 1500, vendor: 'acme' },
    actor: 'producer:test',
    requestedAt: Date.UTC(2025, 0, 7, 10),
    ...overrides,
  };
}

const services: GovernanceServiceHandle[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.allSettled(services.splice(0).map((service) => service.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(
  bus: MessageBus,
  policiesDir = POLICIES,
  onPolicyReload?: (reload: PolicyReload) => void,
  metrics?: Metrics,
): Promise<GovernanceServiceHandle> {
  const service = await startGovernanceService({
    bus,
    policiesDir,
    instance: 'governance-test',
    clock: { now: () => DECIDED_AT },
    reloadDebounceMs: 30,
    onPolicyReload,
    ...(metrics ? { metrics } : {}),
  });
  services.push(service);
  return service;
}

async function watch(bus: MessageBus, topic: string): Promise<DeliveredMessage[]> {
  const seen: DeliveredMessage[] = [];
  await bus.subscribe({ topics: [topic], group: `watch-${topic}` }, async (message) => {
    seen.push(message);
  });
  return seen;
}

async function until<T>(find: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('governance service (in-memory bus)', () => {
  it('answers a request with a decision keyed by run id, echoing the request and naming itself', async () => {
    // Given the service on the example policies
    const bus = createInMemoryBus();
    const decisions = await watch(bus, Topics.governanceDecisions);
    const metrics = createMetrics({ service: 'governance-test', defaultMetrics: false });
    const service = await start(bus, POLICIES, undefined, metrics);
    expect(service.policyIds()).toEqual(expect.arrayContaining(['payment-over-limit', 'patient-record-needs-purpose']));
    // When a charge of 1500 and a read without purpose are asked about
    await bus.publish(Topics.governanceRequests, [
      {
        key: 'run-a',
        value: request('run-a'),
        headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', other: 'dropped' },
      },
    ]);
    const read = request('run-b', {
      requestId: 'run-b/read-record/def',
      definitionId: 'patient-record-access',
      stepId: 'read-record',
      worker: 'records',
      action: 'read-patient-record',
      input: { patientId: 'p-1' },
      inputDigest: 'def',
    });
    await bus.publish(Topics.governanceRequests, [{ key: 'run-b', value: read }]);
    // Then each decision is published, valid on the wire, for its run
    const approval = await until(() => decisions.find((m) => m.key === 'run-a'), 'decision for run-a');
    expect(parseGovernanceDecisionMessage(approval.value)).toEqual({
      type: 'governance.decision',
      requestId: 'run-a/pay-vendor/abc',
      runId: 'run-a',
      stepId: 'pay-vendor',
      inputDigest: 'abc',
      outcome: 'require_approval',
      policyId: 'payment-over-limit',
      reason: "charges over 1000 need an operator's approval",
      decidedAt: DECIDED_AT,
      decidedBy: 'governance-test',
    });
    expect(approval.headers).toEqual({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const denial = await until(() => decisions.find((m) => m.key === 'run-b'), 'decision for run-b');
    expect(denial.value).toMatchObject({
      requestId: 'run-b/read-record/def',
      stepId: 'read-record',
      inputDigest: 'def',
      outcome: 'deny',
      policyId: 'patient-record-needs-purpose',
    });
    // And both are counted by outcome and policy
    const counted = await metrics.render();
    expect(counted).toMatch(
      /orchestron_governance_decisions_total\{[^}]*outcome="require_approval"[^}]*policy="payment-over-limit"[^}]*\} 1/,
    );
    expect(counted).toMatch(
      /orchestron_governance_decisions_total\{[^}]*outcome="deny"[^}]*policy="patient-record-needs-purpose"[^}]*\} 1/,
    );
  });

  it('dead-letters a request that is not valid, deciding nothing for it', async () => {
    // Given the service and watchers on both outputs
    const bus = createInMemoryBus();
    const decisions = await watch(bus, Topics.governanceDecisions);
    const letters = await watch(bus, Topics.deadLetters);
    await start(bus);
    // When a request misses its run id, and a good one follows
    const { runId: _dropped, ...noRunId } = request('run-bad');
    await bus.publish(Topics.governanceRequests, [{ key: 'run-bad', value: noRunId }]);
    await bus.publish(Topics.governanceRequests, [
      { key: 'run-good', value: request('run-good', { input: { amount: 5 } }) },
    ]);
    // Then the bad one is dead-lettered with the reason, and only the good one is decided
    const invalid = await until(() => letters.find((m) => m.key === 'run-bad'), 'dead letter for run-bad');
    expect((invalid.value as { reason: string }).reason).toMatch(
      /^WireFormatError: not a valid governance\.request message: .*runId/,
    );
    await until(() => decisions.find((m) => m.key === 'run-good'), 'decision for run-good');
    expect(decisions.map((m) => m.key)).toEqual(['run-good']);
  });

  it('answers a request it cannot evaluate (a lone surrogate, 100 levels deep, a time Cedar cannot read) with a GOVERNANCE.UNEVALUABLE deny, dead-lettering none', async () => {
    // Given the service on the example policies
    const bus = createInMemoryBus();
    const decisions = await watch(bus, Topics.governanceDecisions);
    const letters = await watch(bus, Topics.deadLetters);
    await start(bus);
    let deep: unknown = 1;
    // Deeper than Cedar takes, within what a message may carry (1,000 deep is dead-lettered by the wire parser).
    for (let i = 0; i < 100; i++) deep = { next: deep };
    // When requests arrive that Cedar cannot evaluate
    await bus.publish(Topics.governanceRequests, [
      { key: 'run-surrogate', value: request('run-surrogate', { input: { amount: 5, vendor: 'acme\ud800' } }) },
    ]);
    await bus.publish(Topics.governanceRequests, [{ key: 'run-deep', value: request('run-deep', { runInput: deep }) }]);
    await bus.publish(Topics.governanceRequests, [
      { key: 'run-late', value: request('run-late', { requestedAt: 9e15 }) },
    ]);
    // Then each gets a decision that is valid on the wire, fail closed, naming what is wrong
    const surrogate = await until(() => decisions.find((m) => m.key === 'run-surrogate'), 'decision for run-surrogate');
    expect(parseGovernanceDecisionMessage(surrogate.value)).toMatchObject({
      outcome: 'deny',
      code: 'GOVERNANCE.UNEVALUABLE',
      policyId: null,
      reason:
        'Cedar could not evaluate the request: context.input.vendor: the string holds a lone surrogate (\\ud800 at index 4), which is not valid Unicode',
    });
    const tooDeep = await until(() => decisions.find((m) => m.key === 'run-deep'), 'decision for run-deep');
    expect(parseGovernanceDecisionMessage(tooDeep.value)).toMatchObject({
      outcome: 'deny',
      code: 'GOVERNANCE.UNEVALUABLE',
    });
    expect((tooDeep.value as { reason: string }).reason).toMatch(
      /context\.runInput(\.next){64}: the value is nested deeper than 64 levels/,
    );
    const late = await until(() => decisions.find((m) => m.key === 'run-late'), 'decision for run-late');
    expect(late.value).toMatchObject({ outcome: 'deny', code: 'GOVERNANCE.UNEVALUABLE' });
    expect((late.value as { reason: string }).reason).toMatch(/not a valid time/);
    // And nothing was dead-lettered
    expect(letters).toEqual([]);
  });

  it('says when an allow holds for every run of its step (a standing ruling, ADR 40), and for how long', async () => {
    const bus = createInMemoryBus();
    const decisions = await watch(bus, Topics.governanceDecisions);
    const service = await startGovernanceService({
      bus,
      policiesDir: POLICIES,
      instance: 'governance-test',
      clock: { now: () => DECIDED_AT },
      standingMs: 2_500,
    });
    services.push(service);
    // A step no policy but the baseline names, and a small charge (allowed now, but the limit reads the amount)
    const notify = request('run-n', { requestId: 'run-n/notify/x', stepId: 'notify', worker: 'mail', action: 'send' });
    const small = request('run-s', { input: { amount: 5 }, runInput: { amount: 5 } });
    await bus.publish(Topics.governanceRequests, [
      { key: 'run-n', value: notify },
      { key: 'run-s', value: small },
    ]);
    const standing = await until(() => decisions.find((m) => m.key === 'run-n'), 'decision for run-n');
    expect(parseGovernanceDecisionMessage(standing.value)).toMatchObject({
      outcome: 'allow',
      policyId: 'baseline-allow',
      standing: { policyId: 'baseline-allow', reason: 'allowed by the onboarding baseline', forMs: 2_500 },
    });
    const perRequest = await until(() => decisions.find((m) => m.key === 'run-s'), 'decision for run-s');
    expect(perRequest.value).toMatchObject({ outcome: 'allow', policyId: 'baseline-allow' });
    expect(perRequest.value).not.toHaveProperty('standing');
  });

  it('with standingMs 0 no decision carries a standing ruling', async () => {
    const bus = createInMemoryBus();
    const decisions = await watch(bus, Topics.governanceDecisions);
    services.push(await startGovernanceService({ bus, policiesDir: POLICIES, instance: 'g', standingMs: 0 }));
    const notify = request('run-n', { requestId: 'run-n/notify/x', stepId: 'notify', worker: 'mail', action: 'send' });
    await bus.publish(Topics.governanceRequests, [{ key: 'run-n', value: notify }]);
    const decision = await until(() => decisions.find((m) => m.key === 'run-n'), 'decision for run-n');
    expect(decision.value).toMatchObject({ outcome: 'allow' });
    expect(decision.value).not.toHaveProperty('standing');
  });

  it('decides by the policies in force after a change to the directory', async () => {
    // Given the service on a directory whose only policy permits everything
    const dir = mkdtempSync(join(tmpdir(), 'orchestron-governance-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'base.cedar'), '@id("allow-all")\npermit (principal, action, resource);\n');
    const bus = createInMemoryBus();
    const decisions = await watch(bus, Topics.governanceDecisions);
    const reloads: PolicyReload[] = [];
    const service = await start(bus, dir, (reload) => reloads.push(reload));
    // When a forbid on charges is added
    writeFileSync(
      join(dir, 'charges.cedar'),
      '@id("no-charges")\n@reason("charges are frozen")\nforbid (principal, action, resource) when { resource has action && resource.action == "charge" };\n',
    );
    await until(() => reloads.find((r) => r.ok && r.policyIds.includes('no-charges')), 'reload with no-charges');
    await bus.publish(Topics.governanceRequests, [{ key: 'run-c', value: request('run-c') }]);
    // Then the next request is denied by it
    const decision = await until(() => decisions.find((m) => m.key === 'run-c'), 'decision for run-c');
    expect(decision.value).toMatchObject({ outcome: 'deny', policyId: 'no-charges', reason: 'charges are frozen' });
    expect(service.policyIds()).toEqual(['allow-all', 'no-charges']);
    // And a step the new forbid does not name still stands, under the new set
    await bus.publish(Topics.governanceRequests, [
      { key: 'run-d', value: request('run-d', { requestId: 'run-d/ship/x', stepId: 'ship', action: 'ship' }) },
    ]);
    const shipped = await until(() => decisions.find((m) => m.key === 'run-d'), 'decision for run-d');
    expect(shipped.value).toMatchObject({ outcome: 'allow', standing: { policyId: 'allow-all', forMs: 5_000 } });
  });

  it('refuses to start on policies that do not compile, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestron-governance-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'broken.cedar'), 'permit (principal, action, resource) when { };\n');
    await expect(start(createInMemoryBus(), dir)).rejects.toThrow(/broken\.cedar:1/);
  });
});
