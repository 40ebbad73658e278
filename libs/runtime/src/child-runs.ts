import { OrchestronError } from '@orchestron/errors';
import { childOutcomeOf, isStarted, isTerminalRun } from '@orchestron/workflow-core';
import type { ChildOutcome, Command, RunData, RunState, StartChildData } from '@orchestron/workflow-core';
import type { CompiledDefinition } from '@orchestron/definitions';
import { describeError } from './ports.ts';
import type { Clock, Logger } from './ports.ts';
import type { Applied } from './run-commands.ts';

/** Who the runtime says applied the commands it sends between parent and child runs. */
export const PARENT_ACTOR = 'system:parent';
export const CHILD_ACTOR = 'system:child';
/**
 * A step between runs (a start, a report) that failed for a reason other than the domain's (the store unreachable)
 * is tried again while the engine runs, after a delay doubling from this, up to the cap; past `WARN_AFTER` tries
 * each failure is logged. Recovery of the parent repeats it after a restart.
 */
const RETRY_DELAY_MS = 200;
const RETRY_DELAY_CAP_MS = 30_000;
const WARN_AFTER = 5;

export interface ChildRunsDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Governance is configured: a child run has every task step checked, as its parent has. */
  readonly governed: boolean;
  /** The definition in the tenant (reading its stream first when this process has not seen it). */
  readonly resolve: (id: string, version: number | 'latest', tenant: string) => Promise<CompiledDefinition>;
  /** The run as its stream has it now. */
  readonly load: (runId: string) => Promise<RunState>;
  readonly apply: (runId: string, command: Command) => Promise<Applied>;
}

/**
 * Carries out the effects between a parent run and its children: starts a child (idempotent by its derived run
 * id), cancels or compensates it, and reports its outcome to the parent. Each is done in the background: the
 * effect comes from one run's queue and the work goes into another's, which may be waiting for the first.
 * A failure is retried while the engine runs; recovery of the parent repeats what it still waits for after a restart.
 */
export class ChildRuns {
  private readonly deps: ChildRunsDeps;
  private readonly pending = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  constructor(deps: ChildRunsDeps) {
    this.deps = deps;
  }

  start(parent: RunData, child: StartChildData): void {
    this.background('start a child run', parent.runId, child.stepId, () => this.startNow(parent, child));
  }

  cancel(parent: RunData, stepId: string, childRunId: string): void {
    this.background('cancel a child run', parent.runId, stepId, async () => {
      const reason = `its parent run ${parent.runId} stopped waiting for step "${stepId}" (${parent.status})`;
      await this.applyIfLive(childRunId, { type: 'Cancel', data: { reason } });
    });
  }

  compensate(parent: RunData, stepId: string, childRunId: string): void {
    this.background('compensate a child run', parent.runId, stepId, async () => {
      const child = await this.deps.load(childRunId);
      if (!isStarted(child)) {
        // Unreachable unless the child's stream was lost: say so to the parent rather than wait forever.
        await this.report(parent.runId, { stepId, childRunId, status: 'not_started', error: missing(childRunId) });
        return;
      }
      if (child.status === 'completed') {
        const reason = `its parent run ${parent.runId} compensates step "${stepId}"`;
        await this.deps.apply(
          childRunId,
          this.command({ type: 'CompensateForParent', data: { reason } }, PARENT_ACTOR),
        );
      } else if (isTerminalRun(child.status)) await this.report(parent.runId, childOutcomeOf(child));
      // Compensating already: it reports when it is done.
    });
  }

  /** A child ended: its parent's step takes the outcome. */
  reportToParent(parentRunId: string, outcome: ChildOutcome): void {
    this.background('report a child run to its parent', parentRunId, outcome.stepId, () =>
      this.report(parentRunId, outcome),
    );
  }

  /**
   * A child run taken over by recovery: if its parent no longer waits for it (the parent ended, or moved on, and a
   * crash lost the cancel), it is cancelled now when its policy says so.
   */
  closeIfOrphaned(child: RunData): void {
    const link = child.parent;
    if (link === null || link === undefined || link.closePolicy !== 'cancel') return;
    this.background('check a child run against its parent', link.runId, link.stepId, async () => {
      const parent = await this.deps.load(link.runId);
      const step = isStarted(parent) ? parent.steps[link.stepId] : undefined;
      const waited = step?.status === 'waiting_child' && step.childRunId === child.runId;
      if (waited || (isStarted(parent) && parent.compensations[link.stepId]?.status === 'running')) return;
      const reason = `its parent run ${link.runId} no longer waits for it`;
      await this.applyIfLive(child.runId, { type: 'Cancel', data: { reason } });
    });
  }

  /** Takes no more work, and lets what is under way finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    await Promise.allSettled([...this.pending]);
  }

  private async startNow(parent: RunData, child: StartChildData): Promise<void> {
    const { stepId, childRunId } = child;
    let definition: CompiledDefinition;
    try {
      definition = await this.deps.resolve(child.definitionId, child.version ?? 'latest', parent.tenant);
    } catch (error) {
      if (!isTerminal(error)) throw error;
      await this.report(parent.runId, { stepId, childRunId, status: 'not_started', error: stepErrorOf(error) });
      return;
    }
    const start: Command = this.command(
      {
        type: 'StartRun',
        data: {
          runId: childRunId,
          definition,
          input: child.input,
          idempotencyKey: `child:${parent.runId}/${stepId}/${childRunId}`,
          tenant: parent.tenant,
          governEveryStep: this.deps.governed,
          parent: { runId: parent.runId, stepId, depth: child.depth, closePolicy: child.parentClosePolicy },
        },
      },
      `${PARENT_ACTOR}:${parent.runId}`,
    );
    let state: RunState;
    try {
      ({ state } = await this.deps.apply(childRunId, start));
    } catch (error) {
      if (!isTerminal(error)) throw error;
      await this.report(parent.runId, { stepId, childRunId, status: 'not_started', error: stepErrorOf(error) });
      return;
    }
    // Started before (a repeat after a crash or on recovery) and over already: its report may have been lost.
    if (isStarted(state) && isTerminalRun(state.status)) await this.report(parent.runId, childOutcomeOf(state));
  }

  private async report(parentRunId: string, outcome: ChildOutcome): Promise<void> {
    await this.deps.apply(parentRunId, this.command({ type: 'RecordChildOutcome', data: outcome }, CHILD_ACTOR));
  }

  /** A command to a child that may have ended meanwhile: one that ended needs nothing more. */
  private async applyIfLive(runId: string, command: Omit<Extract<Command, { type: 'Cancel' }>, 'metadata'>) {
    const state = await this.deps.load(runId);
    if (!isStarted(state) || isTerminalRun(state.status)) return;
    try {
      await this.deps.apply(runId, this.command(command, PARENT_ACTOR));
    } catch (error) {
      if (!(error instanceof OrchestronError && error.code === 'RUN.ALREADY_TERMINAL')) throw error;
    }
  }

  private command<C extends Command>(command: Omit<C, 'metadata'>, actor: string): C {
    return { ...command, metadata: { now: this.deps.clock.now(), actor } } as C;
  }

  private background(what: string, runId: string, stepId: string, work: () => Promise<void>): void {
    if (this.stopped) return;
    const run = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await work();
        } catch (error) {
          if (this.stopped || isTerminal(error)) throw error;
          if (attempt >= WARN_AFTER)
            this.deps.logger.warn(`could not ${what} yet; trying again`, {
              runId,
              stepId,
              attempt,
              error: describeError(error),
            });
          await this.sleep(Math.min(RETRY_DELAY_CAP_MS, RETRY_DELAY_MS * 2 ** (attempt - 1)));
          if (this.stopped) throw error;
        }
      }
    };
    const done = run()
      .catch((error: unknown) =>
        this.deps.logger.error(`could not ${what}; it is tried again when the parent run is recovered`, {
          runId,
          stepId,
          error: describeError(error),
        }),
      )
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /** A delay that `stop` cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

/** An error of the domain's (a definition not found, an input that does not fit): trying again cannot help. */
function isTerminal(error: unknown): error is OrchestronError<string> {
  return error instanceof OrchestronError && !error.retryable;
}

function stepErrorOf(error: OrchestronError<string>) {
  return { code: error.code, message: error.message, retryable: false };
}

function missing(childRunId: string) {
  return { code: 'RUN.NOT_FOUND', message: `child run ${childRunId} does not exist`, retryable: false };
}
