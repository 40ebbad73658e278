import { createHash } from 'node:crypto';
import type { StepCommandMessage } from '@orchestron/bus';

/** What worker-check puts in every command it sends: a step and definition no real run has. */
export const CHECK_STEP = 'check';
export const CHECK_DEFINITION = 'worker-check';
/** The action a worker must handle to be checked (WORKER_CHECK_ACTION of the SDK; the CLI does not load the SDK). */
export const CHECK_ACTION = 'worker-check';

/** One report as the kit read it from the step-events topic. */
export interface Report {
  readonly key: string;
  readonly partition: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: unknown;
  /** Epoch ms when the kit read it. */
  readonly at: number;
}

/** A command the kit sent, and the trace it sent it in. */
export interface Sent {
  readonly command: StepCommandMessage;
  readonly traceparent: string;
}

export interface CommandSpec {
  readonly runId: string;
  readonly worker: string;
  readonly attempt: number;
  readonly phase: 'execute' | 'compensate';
  readonly deadline: number | null;
  readonly heartbeatIntervalMs: number | null;
  readonly sleepMs: number;
  readonly nonce: string;
}

/** The command, with the idempotency key the contract derives from it. */
export function checkCommand(spec: CommandSpec): StepCommandMessage {
  return {
    type: spec.phase === 'compensate' ? 'step.compensate' : 'step.execute',
    runId: spec.runId,
    stepId: CHECK_STEP,
    attempt: spec.attempt,
    worker: spec.worker,
    action: CHECK_ACTION,
    input: { sleepMs: spec.sleepMs, nonce: spec.nonce },
    idempotencyKey: idempotencyKey(spec.runId, spec.phase, spec.attempt),
    deadline: spec.deadline,
    heartbeatIntervalMs: spec.heartbeatIntervalMs,
    definitionId: CHECK_DEFINITION,
  };
}

export function idempotencyKey(runId: string, phase: 'execute' | 'compensate', attempt: number): string {
  return phase === 'compensate' ? `${runId}/${CHECK_STEP}/compensate/${attempt}` : `${runId}/${CHECK_STEP}/${attempt}`;
}

/**
 * The traceparent the orchestrator puts on a dispatch: the run's trace (the first 32 hex digits of sha256(runId)),
 * the span derived from the idempotency key. A worker that traces puts its span in the run's trace, so the kit must
 * send exactly this. The rule is telemetry's `traceparentForRun(runId, key)` (a spec holds them equal); it is
 * repeated here because loading the tracing libraries would slow every CLI command.
 */
export function dispatchTraceparent(runId: string, key: string): string {
  const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
  const nonZero = (hex: string): string => (/^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex);
  return `00-${nonZero(sha(runId).slice(0, 32))}-${nonZero(sha(key).slice(0, 16))}-01`;
}

export function traceIdOf(traceparent: string): string | undefined {
  return /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent)?.[1];
}

export function phaseOf(command: StepCommandMessage): 'execute' | 'compensate' {
  return command.type === 'step.compensate' ? 'compensate' : 'execute';
}
