import { OrchestronError } from '@orchestron/errors';
import { isTerminalRun } from '@orchestron/workflow-core';
import type { RunData } from '@orchestron/workflow-core';
import type { RunIndex, RunSummary } from './run-index.ts';

/** The longest a wait may ask for, and the default when it does not say. */
export const MAX_WAIT_MS = 60_000;
export const DEFAULT_WAIT_MS = 30_000;
/** Waits one process keeps open at once; past it a wait is refused with a retryable SERVER.BUSY. */
export const MAX_OPEN_WAITS = 10_000;

export interface RunWaitRequest {
  /** Give up after this long (ms, 0 to MAX_WAIT_MS). */
  readonly timeoutMs: number;
  /** Return at the run's first change past this global position instead of waiting for its end. */
  readonly after?: number;
  /** The caller went away: stop waiting. */
  readonly signal?: AbortSignal;
}

export interface RunWaitResult {
  /** The run as the read model has it when the wait ended; undefined if the run is not known. */
  readonly summary: RunSummary | undefined;
  /** The run has ended (completed, failed, compensated or cancelled). */
  readonly ended: boolean;
  /** The wait ran out of time before what it waited for. */
  readonly timedOut: boolean;
  /** The run itself, at least as new as `summary`, where the service had it at hand (no read of the store). */
  readonly run?: RunData;
}

export class ServerBusyError extends OrchestronError<'SERVER.BUSY'> {
  declare readonly details: Readonly<Record<string, unknown>>;
  constructor(message: string, details: Record<string, unknown>) {
    super('SERVER.BUSY', message, { details });
    this.name = 'ServerBusyError';
  }
}

interface Waiting {
  readonly done: (summary: RunSummary) => boolean;
  readonly finish: (timedOut: boolean) => void;
}

/**
 * Long polls on the run index: a wait ends when the run ends (or changes past `after`), when its time is up, or
 * when the caller aborts. Nothing polls: the read side tells `notice(runId)` after each event it projects.
 */
export class RunWaits {
  private readonly index: RunIndex;
  private readonly waiting = new Map<string, Set<Waiting>>();
  private open = 0;

  constructor(index: RunIndex) {
    this.index = index;
  }

  get openWaits(): number {
    return this.open;
  }

  async wait(runId: string, request: RunWaitRequest): Promise<RunWaitResult> {
    const done = (summary: RunSummary): boolean =>
      isTerminalRun(summary.status) || (request.after !== undefined && summary.position > request.after);
    // A run still moving is in memory; one that is not may have ended and gone to the archive. Memory is asked
    // again after the archive answers, and nothing awaits from there until the wait is registered: an event
    // projected meanwhile is seen either way.
    let now = this.index.get(runId);
    if (now === undefined) {
      const archived = await this.index.find(runId);
      now = this.index.get(runId) ?? archived;
    }
    const result = (timedOut: boolean): RunWaitResult => {
      const summary = this.index.get(runId) ?? now;
      return { summary, ended: summary !== undefined && isTerminalRun(summary.status), timedOut };
    };
    if ((now !== undefined && done(now)) || request.timeoutMs <= 0 || request.signal?.aborted)
      return result(!(now !== undefined && done(now)));
    if (this.open >= MAX_OPEN_WAITS)
      throw new ServerBusyError(`this server holds ${MAX_OPEN_WAITS} waits already: try again shortly`, {
        limit: 'openWaits',
        max: MAX_OPEN_WAITS,
      });
    return new Promise((resolve) => {
      const set = this.waiting.get(runId) ?? new Set<Waiting>();
      this.waiting.set(runId, set);
      this.open++;
      const finish = (timedOut: boolean): void => {
        if (!set.delete(entry)) return;
        this.open--;
        if (set.size === 0) this.waiting.delete(runId);
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', abort);
        resolve(result(timedOut));
      };
      const entry: Waiting = { done, finish };
      const abort = (): void => finish(true);
      const timer = setTimeout(() => finish(true), request.timeoutMs);
      timer.unref?.();
      request.signal?.addEventListener('abort', abort, { once: true });
      set.add(entry);
    });
  }

  /** The read side projected an event of this run. */
  notice(runId: string): void {
    const set = this.waiting.get(runId);
    if (set === undefined) return;
    const summary = this.index.get(runId);
    if (summary === undefined) return;
    for (const entry of [...set]) if (entry.done(summary)) entry.finish(false);
  }

  /** Ends every wait now (the process is stopping); each answers with what the index has. */
  close(): void {
    for (const set of [...this.waiting.values()]) for (const entry of [...set]) entry.finish(true);
  }
}
