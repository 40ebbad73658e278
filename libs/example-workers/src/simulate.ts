import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RetryableError, TerminalError } from '@orchestron/worker-sdk';
import type { StepContext, StepHandler } from '@orchestron/worker-sdk';

/** What `input.simulate[<stepId>]` (or `input.simulate["compensate:<stepId>"]`) makes a worker do. */
export type Simulation = 'fail-once' | 'fail-always' | 'fail-terminal' | 'hang' | 'slow';

export interface Timing {
  /** Work time of a normal step, in ms. */
  readonly workMs: number;
  /** Work time of a `slow` step, in ms; it heartbeats every `heartbeatMs` meanwhile. */
  readonly slowMs: number;
  readonly heartbeatMs: number;
}

/** Wraps what a step produces in the simulated work and failures its input asks for. */
export type Simulated = (produce: (ctx: StepContext) => unknown) => StepHandler;

export function simulatedWith(timing: Timing): Simulated {
  return (produce) => async (ctx) => {
    await simulate(ctx, timing);
    return produce(ctx);
  };
}

async function simulate(ctx: StepContext, { workMs, slowMs, heartbeatMs }: Timing): Promise<void> {
  const mode = simulationFor(ctx);
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
    case undefined:
      await pause(workMs, signal);
      return;
  }
}

/**
 * A step's input carries `simulate` itself; a compensation's default input is `{ input, output }` of the step it
 * undoes, so its `simulate` is one level down.
 */
function simulationFor(ctx: StepContext): Simulation | undefined {
  const input = ctx.input as {
    simulate?: Record<string, Simulation>;
    input?: { simulate?: Record<string, Simulation> };
  } | null;
  const spec = input?.simulate ?? (ctx.phase === 'compensate' ? input?.input?.simulate : undefined) ?? {};
  const mode = spec[ctx.phase === 'compensate' ? `compensate:${ctx.stepId}` : ctx.stepId];
  return mode !== undefined && SIMULATIONS.includes(mode) ? mode : undefined;
}

const SIMULATIONS: readonly Simulation[] = ['fail-once', 'fail-always', 'fail-terminal', 'hang', 'slow'];

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return ms <= 0 ? Promise.resolve() : sleep(ms, undefined, { signal });
}

/** A short stable id part derived from text: the same input gives the same id, on every instance. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

/** A string field of an object input, or '' when it is absent. */
export function field(input: unknown, name: string): string {
  const value = (input as Record<string, unknown> | null)?.[name];
  return value === undefined || value === null ? '' : String(value);
}
