import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StepHandler } from './worker.ts';

/** The action `orchestron worker-check` sends: a worker that has a handler for it can be checked against the contract. */
export const WORKER_CHECK_ACTION = 'worker-check';

/** The most `sleepMs` the handler honours: worker-check never asks for more, and hostile input cannot park a handler. */
const MAX_SLEEP_MS = 60_000;

/**
 * The handler of WORKER_CHECK_ACTION, for both phases: waits `input.sleepMs` (while the worker heartbeats), then
 * completes with `{ nonce: input.nonce, execution: <a fresh id> }`. A fresh id per run of the handler is what lets
 * worker-check tell a stored outcome sent again (same id) from an attempt executed twice (two ids).
 * Add it to a worker's handlers: `{ ...mine, [WORKER_CHECK_ACTION]: workerCheckHandler }`.
 */
export const workerCheckHandler: StepHandler = async (ctx) => {
  const input = (typeof ctx.input === 'object' && ctx.input !== null ? ctx.input : {}) as Record<string, unknown>;
  const sleepMs = Number.isInteger(input['sleepMs'])
    ? Math.min(Math.max(input['sleepMs'] as number, 0), MAX_SLEEP_MS)
    : 0;
  if (sleepMs > 0) await sleep(sleepMs, undefined, { signal: ctx.signal });
  return { nonce: input['nonce'] ?? null, execution: randomUUID() };
};
