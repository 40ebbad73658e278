import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { startGovernanceService } from '@orchestron/governance';
import { RemoteRuns } from '@orchestron/runtime';
import { createMetrics } from '@orchestron/telemetry';
import { createWorker } from '@orchestron/worker-sdk';
import { closeAfterEach, eventually, startedRun } from '@orchestron/runtime/testing';
import { startOrchestrator } from './start-orchestrator.ts';

const payment = {
  id: 'pay',
  version: 1,
  defaults: { retry: { maxAttempts: 2, backoff: 'fixed', initialDelay: '10ms', jitter: 'none' }, timeout: '5s' },
  steps: {
    check: { worker: 'payments', action: 'validate-invoice' },
    charge: {
      worker: 'payments',
      action: 'charge',
      sideEffect: true,
      needs: ['check'],
      input: { amount: '${{ input.amount }}' },
    },
  },
};

const POLICIES = `
@id("allow-all") @reason("baseline") permit (principal, action, resource);
@id("big-payments") @reason("payments over 1000 need a second pair of eyes") @outcome("require_approval")
forbid (principal, action, resource) when { resource has action && resource.action == "charge" && context.input has amount && context.input.amount > 1000 };
@id("no-zero") @reason("a zero payment is a mistake")
forbid (principal, action, resource) when { resource has action && resource.action == "charge" && context.input has amount && context.input.amount == 0 };
`;

describe('the orchestrator service with the governance service and a worker, on one bus', () => {
  const onClose = closeAfterEach();

  it('runs payments through two orchestrator instances: allowed, held for approval, denied with the policy id', async () => {
    const store = createInMemoryEventStore();
    const bus = createInMemoryBus({ partitions: 4 });
    onClose(() => bus.close());
    const policiesDir = mkdtempSync(join(tmpdir(), 'orchestron-policies-'));
    writeFileSync(join(policiesDir, 'pay.cedar'), POLICIES);
    const governance = await startGovernanceService({ bus, policiesDir, instance: 'gov-1', watchPolicies: false });
    onClose(() => governance.close());
    const metrics = createMetrics({ service: 'test-orchestrator', defaultMetrics: false });
    const first = await startOrchestrator({ store, bus, instance: 'orch-1', metrics });
    onClose(() => first.close());
    const second = await startOrchestrator({
      store,
      bus,
      instance: 'orch-2',
      metrics: createMetrics({ service: 'test-orchestrator-2', defaultMetrics: false }),
    });
    onClose(() => second.close());
    const worker = createWorker({
      name: 'payments',
      bus,
      handlers: {
        'validate-invoice': async () => ({ valid: true }),
        charge: async (ctx) => ({ paymentId: `p-${ctx.idempotencyKey}` }),
      },
    });
    await worker.start();
    onClose(() => worker.stop());
    const api = new RemoteRuns({ store, bus, waitMs: 5_000 });
    await api.start();
    onClose(() => api.stop());
    await api.definitions.register(payment, 'test');

    const small = (
      await startedRun(api.startRun({ definitionId: 'pay', input: { amount: 50 }, actor: 'producer:test' }))
    ).run;
    const big = (
      await startedRun(api.startRun({ definitionId: 'pay', input: { amount: 5000 }, actor: 'producer:test' }))
    ).run;
    const zero = (await startedRun(api.startRun({ definitionId: 'pay', input: { amount: 0 }, actor: 'producer:test' })))
      .run;

    await eventually('the small payment', async () => (await api.getRun(small.runId))?.status === 'completed');
    const held = await eventually('the big payment to wait for approval', async () => {
      const run = await api.getRun(big.runId);
      return run?.steps.charge?.status === 'waiting_approval' ? run : undefined;
    });
    expect(held.steps.charge?.governance).toMatchObject({ outcome: 'require_approval', policyId: 'big-payments' });
    await api.execute(
      big.runId,
      { type: 'Approve', data: { stepId: 'charge', reason: 'checked the invoice' } },
      'operator:ann',
    );
    await eventually('the approved payment', async () => (await api.getRun(big.runId))?.status === 'completed');

    await eventually('the zero payment to fail', async () => (await api.getRun(zero.runId))?.status === 'failed');
    const decided = (await api.history(zero.runId)).find(
      (e) => e.type === 'GovernanceDecided' && (e.data as { stepId: string }).stepId === 'charge',
    );
    expect(decided?.data).toMatchObject({
      outcome: 'deny',
      policyId: 'no-zero',
      reason: 'a zero payment is a mistake',
    });
    expect(decided?.metadata.actor).toBe('system:governance:gov-1');

    // Each run is written by the one instance that owns its partition.
    const writers = new Map<string, Set<unknown>>();
    for (const runId of [small.runId, big.runId, zero.runId]) {
      writers.set(runId, new Set((await api.history(runId)).map((e) => e.metadata.instance)));
      expect(writers.get(runId)?.size).toBe(1);
    }
    const texts = await Promise.all([first, second].map((o) => (o.metrics as { render(): Promise<string> }).render()));
    expect(texts.join('\n')).toMatch(/orchestron_step_duration_seconds_count\{[^}]*worker="payments"[^}]*\} [1-9]/);
    expect(texts[0]).toMatch(/orchestron_runs\{[^}]*status="completed"[^}]*\} 2/);
    expect(texts[0]).toMatch(/orchestron_runs\{[^}]*status="failed"[^}]*\} 1/);
  });

  it('fails closed while the governance service is down: the payment waits, escalates past its deadline, and goes on once governance answers', async () => {
    const store = createInMemoryEventStore();
    const bus = createInMemoryBus({ partitions: 2 });
    onClose(() => bus.close());
    const orchestrator = await startOrchestrator({ store, bus, instance: 'orch-1' });
    onClose(() => orchestrator.close());
    const worker = createWorker({
      name: 'payments',
      bus,
      handlers: { 'validate-invoice': async () => ({ valid: true }), charge: async () => ({ paid: true }) },
    });
    await worker.start();
    onClose(() => worker.stop());
    const api = new RemoteRuns({ store, bus, waitMs: 5_000 });
    await api.start();
    onClose(() => api.stop());
    await api.definitions.register(
      { ...payment, id: 'pay-deadline', defaults: { ...payment.defaults, governanceTimeout: '300ms' } },
      'test',
    );

    const { run } = await startedRun(
      api.startRun({ definitionId: 'pay-deadline', input: { amount: 50 }, actor: 'producer:test' }),
    );
    const escalated = await eventually('the run to need an operator', async () => {
      const current = await api.getRun(run.runId);
      return current?.status === 'needs_operator' ? current : undefined;
    });
    // Governance rules on every step of a run the orchestrator starts, so the first step waits too.
    expect(escalated.attention).toMatchObject({ code: 'GOVERNANCE.UNAVAILABLE', stepId: 'check' });
    expect(escalated.steps.check?.status).toBe('waiting_governance');
    expect((await api.history(run.runId)).some((e) => e.type === 'StepDispatched')).toBe(false);

    // The service comes up and the operator asks again (the in-process bus keeps nothing; on Kafka the first
    // request would have waited for the service, and its late decision would apply the same way).
    const policiesDir = mkdtempSync(join(tmpdir(), 'orchestron-policies-'));
    writeFileSync(join(policiesDir, 'pay.cedar'), POLICIES);
    const governance = await startGovernanceService({ bus, policiesDir, instance: 'gov-late', watchPolicies: false });
    onClose(() => governance.close());
    await api.execute(
      run.runId,
      { type: 'RetryStep', data: { stepId: 'check', reason: 'governance is back' } },
      'operator:ann',
    );
    await eventually('the payment', async () => (await api.getRun(run.runId))?.status === 'completed');
    expect((await api.history(run.runId)).find((e) => e.type === 'GovernanceDecided')?.data).toMatchObject({
      outcome: 'allow',
      policyId: 'allow-all',
    });
  });
});
