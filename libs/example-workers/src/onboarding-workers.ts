import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWorker, RetryableError, TerminalError } from '@orchestron/worker-sdk';
import type { IdempotencyLedger, StepContext, StepHandler, Worker } from '@orchestron/worker-sdk';
import type { MessageBus } from '@orchestron/bus';

/** What `input.simulate[<stepId>]` (or `input.simulate["compensate:<stepId>"]`) makes a worker do. */
export type Simulation = 'fail-once' | 'fail-always' | 'fail-terminal' | 'hang' | 'slow';

export interface ExampleWorkerOptions {
  readonly bus: MessageBus;
  readonly ledger?: IdempotencyLedger;
  /** Work time of a normal step, in ms. */
  readonly workMs?: number;
  /** Work time of a `slow` step, in ms; it heartbeats every `heartbeatMs` meanwhile. */
  readonly slowMs?: number;
  readonly heartbeatMs?: number;
  readonly concurrency?: number;
}

/** The workers of examples/employee-onboarding.yaml: identity, iam, mail, workspace, chat. */
export function createOnboardingWorkers(options: ExampleWorkerOptions): Worker[] {
  const workMs = options.workMs ?? 50;
  const simulated = (produce: (ctx: StepContext) => unknown): StepHandler => async (ctx) => {
    await simulate(ctx, workMs, options.slowMs ?? 4000, options.heartbeatMs ?? 1000);
    return produce(ctx);
  };
  const field = (ctx: StepContext, name: string): string => String((ctx.input as Record<string, unknown> | null)?.[name] ?? '');
  const handlers: Record<string, Record<string, StepHandler>> = {
    identity: {
      execute: simulated((ctx) => ({ accountId: `acc-${digest(field(ctx, 'email'))}`, email: field(ctx, 'email') })),
      'delete-account': simulated((ctx) => ({ deleted: (ctx.input as { output?: { accountId?: string } }).output?.accountId ?? null })),
    },
    iam: { execute: simulated(() => ({ roles: ['employee'] })) },
    mail: { execute: simulated((ctx) => ({ messageId: `msg-${digest(ctx.idempotencyKey)}`, to: field(ctx, 'to') })) },
    workspace: {
      execute: simulated((ctx) => ({ workspaceId: `ws-${digest(field(ctx, 'owner'))}` })),
      'delete-workspace': simulated((ctx) => ({ deleted: (ctx.input as { output?: { workspaceId?: string } }).output?.workspaceId ?? null })),
    },
    chat: { execute: simulated((ctx) => ({ posted: true, message: field(ctx, 'message') })) },
  };
  return Object.entries(handlers).map(([name, hs]) => createWorker({ name, bus: options.bus, handlers: hs, concurrency: options.concurrency ?? 64, ...(options.ledger ? { ledger: options.ledger } : {}) }));
}

async function simulate(ctx: StepContext, workMs: number, slowMs: number, heartbeatMs: number): Promise<void> {
  const spec = (ctx.input as { simulate?: Record<string, Simulation> } | null)?.simulate ?? {};
  const mode = spec[ctx.phase === 'compensate' ? `compensate:${ctx.stepId}` : ctx.stepId];
  const { signal } = ctx;
  switch (mode) {
    case 'fail-once':
      await pause(workMs, signal);
      if (ctx.attempt === 1) throw new RetryableError('simulated failure on the first attempt', 'SIMULATED.FAIL_ONCE');
      return;
    case 'fail-always':
      await pause(workMs, signal);
      throw new RetryableError('simulated failure on every attempt', 'SIMULATED.FAIL_ALWAYS');
    case 'fail-terminal':
      await pause(workMs, signal);
      throw new TerminalError('simulated terminal failure', 'SIMULATED.TERMINAL');
    case 'hang':
      // Silent: no heartbeat, no answer. The orchestrator's timeouts must notice.
      await pause(10 * 60_000, signal);
      throw new RetryableError('hung attempt gave up', 'SIMULATED.HANG');
    case 'slow':
      for (let left = slowMs; left > 0; left -= heartbeatMs) {
        await pause(Math.min(heartbeatMs, left), signal);
        await ctx.heartbeat();
      }
      return;
    default:
      await pause(workMs, signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return ms <= 0 ? Promise.resolve() : sleep(ms, undefined, { signal });
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}
