import { Topics } from '@orchestron/bus';
import type { BusSubscription, MessageBus, StepCommandMessage, StepEventMessage } from '@orchestron/bus';

export interface StepContext {
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly phase: 'execute' | 'compensate';
  readonly action: string | null;
  readonly input: unknown;
  readonly idempotencyKey: string;
  readonly deadline: number | null;
  /** Tells the orchestrator the attempt is alive; call it more often than the step's heartbeatTimeout. */
  heartbeat(): Promise<void>;
  /** Aborted when the worker shuts down. */
  readonly signal: AbortSignal;
}

export type StepHandler = (context: StepContext) => Promise<unknown>;

export type Outcome = { readonly ok: true; readonly output: unknown } | { readonly ok: false; readonly error: { code: string; message: string; retryable: boolean } };

/**
 * Where a worker remembers what it has done, by idempotency key. `claim` is atomic: it returns the stored
 * outcome of a key already done, or undefined and lets the caller do the work. The worker records the outcome
 * only after the handler returns, so a crash in between means the work is done again: make handlers that
 * need exactly-once effects record their effect and outcome together through `record`.
 */
export interface IdempotencyLedger {
  lookup(key: string): Outcome | undefined;
  record(key: string, outcome: Outcome, context: { runId: string; stepId: string; attempt: number; phase: string; worker: string }): void;
}

export interface WorkerOptions {
  readonly name: string;
  readonly bus: MessageBus;
  /** Handlers by action; `execute` and `compensate` are the defaults for steps and compensations without one. */
  readonly handlers: Readonly<Record<string, StepHandler>>;
  readonly concurrency?: number;
  readonly ledger?: IdempotencyLedger;
  readonly group?: string;
  readonly onError?: (error: unknown, context: { runId: string; stepId: string }) => void;
}

export interface Worker {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createWorker(options: WorkerOptions): Worker {
  const abort = new AbortController();
  let subscription: BusSubscription | undefined;

  const handle = async (command: StepCommandMessage, headers: Readonly<Record<string, string>>): Promise<void> => {
    // Reports carry the dispatch's trace context back, so the run stays one trace.
    const traced: Record<string, string> = headers.traceparent ? { traceparent: headers.traceparent } : {};
    const report = (message: StepEventMessage): Promise<void> => options.bus.publish(Topics.stepEvents, [{ key: message.runId, value: message, headers: traced }]);
    const phase = command.type === 'step.compensate' ? 'compensate' : 'execute';
    const base = { runId: command.runId, stepId: command.stepId, attempt: command.attempt, phase } as const;
    const done = options.ledger?.lookup(command.idempotencyKey);
    if (done) return report(done.ok ? { type: 'step.completed', ...base, output: done.output } : { type: 'step.failed', ...base, error: done.error });
    const handler = options.handlers[command.action ?? phase] ?? options.handlers[phase];
    let outcome: Outcome;
    if (!handler) {
      outcome = { ok: false, error: { code: 'WORKER.NO_HANDLER', message: `worker "${options.name}" has no handler for ${command.action ?? phase}`, retryable: false } };
    } else {
      await report({ type: 'step.started', ...base });
      try {
        const output = await handler({
          ...base, action: command.action, input: command.input, idempotencyKey: command.idempotencyKey, deadline: command.deadline, signal: abort.signal,
          heartbeat: () => report({ type: 'step.heartbeat', ...base }),
        });
        outcome = { ok: true, output: output ?? null };
      } catch (error) {
        if (abort.signal.aborted) return; // shutting down: the orchestrator re-sends the attempt after its timeout
        outcome = { ok: false, error: toStepError(error) };
        options.onError?.(error, base);
      }
    }
    options.ledger?.record(command.idempotencyKey, outcome, { ...base, worker: options.name });
    await report(outcome.ok ? { type: 'step.completed', ...base, output: outcome.output } : { type: 'step.failed', ...base, error: outcome.error });
  };

  return {
    async start() {
      subscription = await options.bus.subscribe(
        { topics: [Topics.commands(options.name)], group: options.group ?? `orchestron-worker-${options.name}`, concurrency: options.concurrency ?? 16 },
        (message) => handle(message.value as StepCommandMessage, message.headers ?? {}),
      );
    },
    async stop() {
      abort.abort();
      await subscription?.close();
    },
  };
}

function toStepError(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error !== null && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown; retryable?: unknown };
    return { code: typeof e.code === 'string' ? e.code : 'STEP.FAILED', message: typeof e.message === 'string' ? e.message : String(error), retryable: e.retryable !== false };
  }
  return { code: 'STEP.FAILED', message: String(error), retryable: true };
}
