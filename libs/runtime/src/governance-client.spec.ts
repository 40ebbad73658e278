import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { errorOf } from '@orchestron/workflow-core';
import { Engine } from './engine.ts';
import { createPolicyGovernance } from './governance.ts';
import type { GovernanceCheck, Logger } from './ports.ts';
import { closeAfterEach, eventually } from './testing/index.ts';

const EXAMPLES = new URL('../../../examples/', import.meta.url);
const POLICIES = readdirSync(new URL('policies/', EXAMPLES))
  .filter((name) => name.endsWith('.cedar'))
  .sort()
  .map((name) => ({ name, text: readFileSync(new URL(`policies/${name}`, EXAMPLES), 'utf8') }));
const ONBOARDING = parseDefinitionText(
  readFileSync(new URL('employee-onboarding.yaml', EXAMPLES), 'utf8'),
  'employee-onboarding.yaml',
);
/** Short, so a loop that should not be there shows up within the test's few hundred milliseconds. */
const RETRY = { initialMs: 20, maxMs: 40 };

const closeAfter = closeAfterEach();

/** Every error line, and every warning, as the engine logged it. */
function recordingLogger(): Logger & { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    info: () => undefined,
    warn: (message) => warnings.push(message),
    error: (message) => errors.push(message),
  };
}

async function engineWith(governance: GovernanceCheck, store: EventStore = createInMemoryEventStore(), retry = RETRY) {
  const logger = recordingLogger();
  const engine = new Engine({ store, bus: createInMemoryBus(), governance, logger, governanceRetry: retry });
  await engine.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await engine.stop();
  };
  closeAfter(stop);
  return { engine, logger, stop };
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('embedded governance: a request Cedar cannot evaluate is decided once (the real example policies)', () => {
  const attacks: [string, Record<string, unknown>, RegExp][] = [
    [
      'a lone surrogate ("\\ud800") in the run input',
      { email: 'ada@example.com', name: 'ada\ud800' },
      /context\.runInput\.name: the string holds a lone surrogate \(\\ud800 at index 3\)/,
    ],
    [
      'a run input nested 1,000 deep',
      { email: 'ada@example.com', profile: nested(1000) },
      /context\.runInput\.profile(\.next){63}: the value is nested deeper than 64 levels/,
    ],
  ];

  it.each(attacks)(
    '%s: one GovernanceDecided with GOVERNANCE.UNEVALUABLE, the step does not run, the run waits for an operator, nothing repeats',
    async (_name, input, reason) => {
      const policies = createPolicyGovernance(POLICIES);
      let checks = 0;
      const { engine, logger } = await engineWith(async (request) => {
        checks++;
        return policies(request);
      });
      const { run } = await engine.startRun({ definition: ONBOARDING, input, actor: 'mallory' });
      const waiting = await eventually('the run to wait for an operator', async () => {
        const current = await engine.getRun(run.runId);
        return current?.status === 'needs_operator' ? current : null;
      });
      expect(waiting.attention).toMatchObject({ code: 'GOVERNANCE.UNEVALUABLE', stepId: 'create-account' });
      expect(waiting.steps['create-account']).toMatchObject({
        status: 'failed',
        attempt: 0,
        error: { code: 'GOVERNANCE.UNEVALUABLE', retryable: false },
      });
      expect(errorOf(waiting.steps['create-account'])?.message).toMatch(reason);
      // Long enough for a dozen retries at the test's backoff: none may happen.
      await sleep(300);
      const history = await engine.history(run.runId);
      const decided = history.filter((e) => e.type === 'GovernanceDecided');
      expect(decided).toHaveLength(1);
      expect(decided[0]?.data).toMatchObject({
        stepId: 'create-account',
        outcome: 'deny',
        code: 'GOVERNANCE.UNEVALUABLE',
        policyId: null,
      });
      expect(history.some((e) => e.type === 'StepDispatched')).toBe(false);
      expect(checks).toBe(1);
      expect(logger.errors).toEqual([]);
      expect(logger.warnings.filter((w) => w.startsWith('governance could not evaluate'))).toHaveLength(1);
      expect(engine.scheduledGovernanceRetries).toBe(0);
    },
  );

  it('an operator retries the step with an edited input: governance is asked again about that input, and decides once more', async () => {
    const policies = createPolicyGovernance(POLICIES);
    const asked: unknown[] = [];
    const { engine } = await engineWith(async (request) => {
      asked.push(request.input);
      return policies(request);
    });
    const { run } = await engine.startRun({
      definition: ONBOARDING,
      input: { email: 'ada\ud800@example.com' },
      actor: 'mallory',
    });
    await eventually(
      'the run to wait for an operator',
      async () => (await engine.getRun(run.runId))?.status === 'needs_operator',
    );
    await engine.execute(
      run.runId,
      { type: 'RetryStep', data: { stepId: 'create-account', input: { email: 'ada@example.com', simulate: {} } } },
      'ops:ada',
    );
    // The run input still holds the surrogate, and policies see context.runInput too: still unevaluable, decided again once.
    const again = await eventually('the second decision', async () => {
      const history = await engine.history(run.runId);
      const decided = history.filter((e) => e.type === 'GovernanceDecided');
      return decided.length === 2 ? decided : null;
    });
    expect(asked).toEqual([
      { email: 'ada\ud800@example.com', simulate: {} },
      { email: 'ada@example.com', simulate: {} },
    ]);
    expect(again[1]?.data).toMatchObject({ code: 'GOVERNANCE.UNEVALUABLE' });
    expect(String((again[1]?.data as { reason: string }).reason)).toMatch(/context\.runInput\.email/);
  });
});

describe('embedded governance: only transient failures are tried again, and never past the run', () => {
  it('a check that fails for a transient reason is tried again with backoff, and its ruling recorded once', async () => {
    let checks = 0;
    const { engine, logger } = await engineWith(async () => {
      checks++;
      if (checks < 3) throw new Error('policy store briefly away');
      return { outcome: 'allow', policyId: 'baseline', reason: 'ok' };
    });
    const { run } = await engine.startRun({
      definition: ONBOARDING,
      input: { email: 'ada@example.com' },
      actor: 'ada',
    });
    await eventually('the step to be dispatched', async () =>
      (await engine.history(run.runId)).some((e) => e.type === 'StepDispatched'),
    );
    expect(checks).toBe(3);
    expect(logger.errors).toEqual([
      'governance check not done; the step waits and it is tried again',
      'governance check not done; the step waits and it is tried again',
    ]);
    expect((await engine.history(run.runId)).filter((e) => e.type === 'GovernanceDecided')).toHaveLength(1);
  });

  it('the store away while recording: the ruling is recorded once it is back', async () => {
    const inner = createInMemoryEventStore();
    let refusals = 2;
    const flaky = new Proxy(inner, {
      get(target, property, receiver) {
        if (property !== 'append') return Reflect.get(target, property, receiver) as unknown;
        return async (...args: Parameters<EventStore['append']>) => {
          if (args[1].some((e) => e.type === 'GovernanceDecided') && refusals-- > 0)
            throw new Error('store briefly away');
          return target.append(...args);
        };
      },
    });
    const policies = createPolicyGovernance(POLICIES);
    const { engine, logger } = await engineWith((request) => policies(request), flaky);
    const { run } = await engine.startRun({
      definition: ONBOARDING,
      input: { email: 'ada@example.com' },
      actor: 'ada',
    });
    await eventually('the step to be dispatched', async () =>
      (await engine.history(run.runId)).some((e) => e.type === 'StepDispatched'),
    );
    expect(logger.errors).toHaveLength(2);
    expect((await engine.history(run.runId)).filter((e) => e.type === 'GovernanceDecided')).toHaveLength(1);
  });

  it('cancel stops the retries of its run: no timer is left, and the check is not called again', async () => {
    let checks = 0;
    // The second retry waits 500 ms, so the cancel comes while its timer is armed.
    const { engine, stop } = await engineWith(
      async () => {
        checks++;
        throw new Error('governance unreachable');
      },
      createInMemoryEventStore(),
      { initialMs: 250, maxMs: 1_000 },
    );
    const { run } = await engine.startRun({
      definition: ONBOARDING,
      input: { email: 'ada@example.com' },
      actor: 'ada',
    });
    await eventually('a retry to be scheduled', () => checks >= 2 && engine.scheduledGovernanceRetries === 1);
    await engine.execute(run.runId, { type: 'Cancel', data: { reason: 'test' } }, 'ops:ada');
    expect(engine.scheduledGovernanceRetries).toBe(0);
    const after = checks;
    await sleep(700);
    expect(checks).toBe(after);
    expect(engine.scheduledTimers).toBe(0);
    await stop();
  });

  it('Engine.stop stops every retry: it resolves, and the check is not called again', async () => {
    let checks = 0;
    const { engine, stop } = await engineWith(async () => {
      checks++;
      throw new Error('governance unreachable');
    });
    await engine.startRun({ definition: ONBOARDING, input: { email: 'ada@example.com' }, actor: 'ada' });
    await eventually('a retry to be scheduled', () => checks >= 2 && engine.scheduledGovernanceRetries === 1);
    await stop();
    expect(engine.scheduledGovernanceRetries).toBe(0);
    const after = checks;
    await sleep(200);
    expect(checks).toBe(after);
  });

  it('a check that fails for good (retryable: false) is recorded as unevaluable, once', async () => {
    let checks = 0;
    const { engine, logger } = await engineWith(async () => {
      checks++;
      throw Object.assign(new Error('this request cannot be judged'), { retryable: false });
    });
    const { run } = await engine.startRun({
      definition: ONBOARDING,
      input: { email: 'ada@example.com' },
      actor: 'ada',
    });
    await eventually(
      'the run to wait for an operator',
      async () => (await engine.getRun(run.runId))?.status === 'needs_operator',
    );
    await sleep(150);
    expect(checks).toBe(1);
    expect(logger.errors).toEqual([]);
    const decided = (await engine.history(run.runId)).filter((e) => e.type === 'GovernanceDecided');
    expect(decided.map((e) => e.data)).toMatchObject([
      {
        outcome: 'deny',
        code: 'GOVERNANCE.UNEVALUABLE',
        reason: 'governance could not evaluate the request: Error: this request cannot be judged',
      },
    ]);
  });
});
