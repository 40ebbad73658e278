/**
 * The examples as `npm start` registers them, and the combined one run end to end: every definition in examples/
 * validates and registers in file order; invoice-run starts a vendor-payout child run per vendor, each waits for the
 * bank's confirmation event, and charges under its vendor account's lock (two vendors share one account here).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { definitionIssues, parseDefinitionText } from '@orchestron/definitions';
import { createExampleWorkers } from '@orchestron/example-workers';
import { Engine } from '@orchestron/runtime';
import type { RunData } from '@orchestron/workflow-core';
import type { Worker } from '@orchestron/worker-sdk';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const files = readdirSync(EXAMPLES)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();

const store = createInMemoryEventStore();
const bus = createInMemoryBus();
const engine = new Engine({ store, bus });
let workers: Worker[] = [];

beforeAll(async () => {
  workers = createExampleWorkers({ bus, workers: ['payments', 'chat'], workMs: 20 });
  for (const worker of workers) await worker.start();
  await engine.start();
});
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await engine.stop();
});

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const value = await probe();
    if (value) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the examples', () => {
  it.each(files)('%s validates and registers as npm start registers it', async (file) => {
    const raw = parseDefinitionText(readFileSync(join(EXAMPLES, file), 'utf8'), file);
    expect(definitionIssues(raw)).toEqual([]);
    await engine.definitions.register(raw, 'system:examples');
  });

  it('invoice-run pays each vendor in a child run, after its bank confirmation, one charge per account at a time', async () => {
    const vendors = [
      { vendor: 'acme', account: 'ACME-01', amount: 200, invoiceId: 'INV-1' },
      { vendor: 'acme-eu', account: 'ACME-01', amount: 50, invoiceId: 'INV-2' },
      { vendor: 'globex', account: 'GLX-01', amount: 90, invoiceId: 'INV-3' },
    ];
    const started = await engine.startRun({ definitionId: 'invoice-run', input: { vendors }, actor: 'test' });
    if (!('run' in started)) throw new Error('not started');
    const runId = started.run.runId;
    const children = await until('three children waiting for the bank', async () => {
      const run = await engine.getRun(runId);
      const ids = ['vendor-1', 'vendor-2', 'vendor-3'].map((s) => {
        const st = run?.steps[s];
        return st?.status === 'waiting_child' ? st.childRunId : null;
      });
      if (ids.some((id) => id === null)) return null;
      const runs = await Promise.all(ids.map((id) => engine.getRun(id as string)));
      return runs.every((r) => r?.steps['bank-confirmation']?.status === 'waiting_event') ? (ids as string[]) : null;
    });
    for (const v of vendors)
      await engine.sendEvent({
        name: 'bank.confirmed',
        key: v.invoiceId,
        id: `stmt-${v.invoiceId}`,
        payload: { reference: `SEPA-${v.invoiceId}`, amount: v.amount },
        actor: 'test',
        tenant: 'default',
      });
    const done = await until('the invoice run to end', async () => {
      const run = await engine.getRun(runId);
      return run && ['completed', 'failed', 'compensated'].includes(run.status) ? run : null;
    });
    expect(done.status).toBe('completed');
    expect(done.steps.summary?.status).toBe('completed');
    const spans: { from: number; to: number }[] = [];
    for (const [i, childRunId] of children.entries()) {
      const child = (await engine.getRun(childRunId)) as RunData;
      expect(child.status).toBe('completed');
      expect(child.steps['pay-vendor']).toMatchObject({
        status: 'completed',
        output: { vendor: vendors[i]?.vendor, status: 'charged' },
      });
      const history = (await engine.history(childRunId)).map((e) => ({
        type: e.type,
        data: e.data as Record<string, unknown>,
      }));
      const dispatched = history.find((e) => e.type === 'StepDispatched' && e.data['stepId'] === 'pay-vendor');
      expect(dispatched?.data['locks']).toEqual([{ name: `vendor-account-${vendors[i]?.account}`, mode: 'exclusive' }]);
      if (vendors[i]?.account === 'ACME-01') {
        const from = history.findLast((e) => e.type === 'StepReleased' && e.data['stepId'] === 'pay-vendor');
        const to = history.find((e) => e.type === 'StepCompleted' && e.data['stepId'] === 'pay-vendor');
        spans.push({ from: Number(from?.data['at']), to: Number(to?.data['at']) });
      }
    }
    spans.sort((a, b) => a.from - b.from);
    expect(spans).toHaveLength(2);
    expect(spans[1]!.from).toBeGreaterThanOrEqual(spans[0]!.to);
  });
});
