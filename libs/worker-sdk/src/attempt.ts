import { parseStepCommandMessage, WireFormatError } from '@orchestron/bus';
import type { StepCommandMessage } from '@orchestron/bus';
import type { AttemptCancelledError } from './errors.ts';
import type { Outcome } from './ledger.ts';

type StepError = Extract<Outcome, { ok: false }>['error'];

/** The command, or a WireFormatError naming the worker and every bad field: the bus then dead-letters it, where an operator sees it. */
export function parseStepCommand(value: unknown, worker: string): StepCommandMessage {
  try {
    return parseStepCommandMessage(value);
  } catch (error) {
    throw error instanceof WireFormatError ? new WireFormatError(`worker "${worker}" got ${error.message}`) : error;
  }
}

/**
 * How a thrown value is reported: a TerminalError (or anything with `retryable: false`) does not retry, every
 * other error does. A code is kept when the error has a string one.
 */
export function toStepError(error: unknown): StepError {
  if (error !== null && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown; retryable?: unknown };
    return {
      code: typeof e.code === 'string' && e.code !== '' ? e.code : 'STEP.FAILED',
      message: typeof e.message === 'string' ? e.message : String(error),
      retryable: e.retryable !== false,
    };
  }
  return { code: 'STEP.FAILED', message: String(error), retryable: true };
}

/**
 * The outcome of a handler that threw after its deadline aborted it. A terminal error the handler chose to throw
 * stands; anything else (most likely the abort itself) is the deadline.
 */
export function deadlineOutcome(error: unknown, reason: AttemptCancelledError): Outcome {
  const thrown = toStepError(error);
  if (!thrown.retryable && !isAbort(error, reason)) return { ok: false, error: thrown };
  return { ok: false, error: { code: reason.code, message: reason.message, retryable: true } };
}

function isAbort(error: unknown, reason: AttemptCancelledError): boolean {
  return error === reason || (error instanceof Error && (error.name === 'AbortError' || error.cause === reason));
}

/** A handler's return value as an outcome: JSON only, since it crosses the wire and the ledger. */
export function successOutcome(output: unknown, worker: string): Outcome {
  const value = output === undefined ? null : output;
  let encoded: string | undefined;
  try {
    encoded = JSON.stringify(value);
  } catch (error) {
    return {
      ok: false,
      error: {
        code: 'WORKER.OUTPUT_NOT_JSON',
        message: `worker "${worker}" returned output that does not encode as JSON: ${error instanceof Error ? error.message : String(error)}`,
        retryable: false,
      },
    };
  }
  if (encoded === undefined)
    return {
      ok: false,
      error: {
        code: 'WORKER.OUTPUT_NOT_JSON',
        message: `worker "${worker}" returned a ${typeof value}, which is not JSON`,
        retryable: false,
      },
    };
  return { ok: true, output: JSON.parse(encoded) as unknown };
}

// setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days); a far deadline is waited for in chunks.
const MAX_DELAY = 2 ** 31 - 1;

/** Calls `fire` when the clock passes `deadline` (epoch ms); returns the cancel. */
export function atDeadline(deadline: number, fire: () => void, now: () => number = Date.now): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const left = deadline - now();
    if (left <= 0) {
      fire();
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_DELAY));
  };
  arm();
  return () => clearTimeout(timer);
}

/** Whether every promise settles within `ms`. */
export async function settlesWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled([...promises]).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The `step.started` report of one attempt. With `afterMs` 0 it goes at once; otherwise only once the handler
 * has run that long, so a quick attempt is told by its outcome alone (one message and one stored event fewer).
 * `settled()` stops the clock and waits for a report already sent; one that failed is logged, not thrown: the
 * outcome that follows says what happened.
 */
export function startedReport(
  afterMs: number,
  send: () => Promise<void>,
  onError: (error: unknown) => void,
): { readonly sent: Promise<void> | undefined; settled(): Promise<void> } {
  let sent: Promise<void> | undefined;
  const go = (): void => {
    sent = send().catch(onError);
  };
  const timer = afterMs > 0 ? setTimeout(go, afterMs) : undefined;
  if (afterMs <= 0) go();
  return {
    get sent() {
      return sent;
    },
    async settled() {
      clearTimeout(timer);
      await sent;
    },
  };
}

/**
 * Heartbeats of one attempt, every `intervalMs` (the command's `heartbeatIntervalMs`) until stopped; none for a null
 * interval. Beats do not overlap: one still in flight when the next is due makes that one wait for the next tick. A
 * failed beat is logged, not thrown: the next one may get through, and the orchestrator tolerates two lost.
 */
export function heartbeats(
  intervalMs: number | null,
  send: () => Promise<void>,
  onError: (error: unknown) => void,
): { stop(): Promise<void> } {
  if (intervalMs === null) return { stop: async () => undefined };
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    inFlight ??= send()
      .catch(onError)
      .finally(() => {
        inFlight = undefined;
      });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
