import { hostname } from 'node:os';
import { Topics } from '@orchestron/bus';
import { currentTraceparent, withSpan } from '@orchestron/telemetry';
import type { Logger } from '@orchestron/telemetry';
import type { BusSubscription, MessageBus, StepCommandMessage, StepEventMessage, StepUsage } from '@orchestron/bus';
import {
  atDeadline,
  deadlineOutcome,
  heartbeats,
  parseStepCommand,
  settlesWithin,
  startedReport,
  successOutcome,
  toStepError,
} from './attempt.ts';
import { AttemptCancelledError } from './errors.ts';
import { UsageMeter } from './usage.ts';
import { createMemoryLedger } from './ledger.ts';
import { ledgerUnavailable, patientLedger } from './patient-ledger.ts';
import type { LedgerRetry } from './patient-ledger.ts';
import type { ClaimContext, ClaimResult, IdempotencyLedger, Outcome } from './ledger.ts';

export interface StepContext {
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly phase: 'execute' | 'compensate';
  readonly action: string | null;
  readonly input: unknown;
  /** `runId/stepId/attempt` (`runId/stepId/compensate/attempt` for a compensation): stable across redeliveries of this attempt only. */
  readonly idempotencyKey: string;
  /** Epoch ms after which the orchestrator gives up on this attempt, or null. */
  readonly deadline: number | null;
  /**
   * How often the orchestrator wants `step.heartbeat` for this attempt (from the command), or null when it watches
   * for none. The worker sends them at this pace while the handler runs (see WorkerOptions.autoHeartbeat).
   */
  readonly heartbeatIntervalMs: number | null;
  readonly definitionId: string;
  readonly worker: string;
  readonly instance: string;
  /** The W3C trace context the dispatch carried, for a handler that starts spans of its own. */
  readonly traceparent: string | null;
  /**
   * Tells the orchestrator the attempt is alive, now. The worker already heartbeats at `heartbeatIntervalMs` while
   * the handler runs; a handler with `autoHeartbeat: false` calls this at that pace, when it makes progress.
   */
  heartbeat(): Promise<void>;
  /**
   * Reports what this attempt used (an LLM call's model, tokens and cost), sent with its outcome, success or failure.
   * Call it once per model call: the attempt's calls are summed. Throws a TypeError naming a bad field.
   */
  reportUsage(usage: StepUsage): void;
  /**
   * Aborts when the attempt's deadline passes, or when the worker stops and the shutdown grace period is over.
   * `signal.reason` is an AttemptCancelledError whose `kind` says which.
   */
  readonly signal: AbortSignal;
}

export type StepHandler = (context: StepContext) => Promise<unknown>;

/** Structurally the runtime's Logger. */
export type WorkerLogger = Logger;

export interface WorkerOptions {
  readonly name: string;
  readonly bus: MessageBus;
  /** Handlers by action; `execute` and `compensate` are the defaults for steps and compensations without one. */
  readonly handlers: Readonly<Record<string, StepHandler>>;
  /** Commands handled at once (default 16). */
  readonly concurrency?: number;
  /** Shared by every instance of this worker name; default: one in this process's memory (no protection across instances). */
  readonly ledger?: IdempotencyLedger;
  readonly group?: string;
  /** Names this process among the instances of the worker (default `<hostname>-<pid>`). */
  readonly instance?: string;
  /** How long `stop()` lets running handlers finish before it aborts them (default 10 s). */
  readonly shutdownGraceMs?: number;
  readonly logger?: WorkerLogger;
  /** Called with every error a handler throws, before it is reported. */
  readonly onError?: (error: unknown, context: { runId: string; stepId: string; attempt: number }) => void;
  /**
   * When `step.started` goes out: only if the handler is still running this many ms after it began (default 100),
   * so an attempt that finishes sooner is told by its outcome alone, which spares the orchestrator a report and a
   * stored event. 0: as the handler starts, always.
   */
  readonly reportStartedAfterMs?: number;
  /**
   * Sends `step.heartbeat` every `heartbeatIntervalMs` of the command while the handler runs (default true), so the
   * orchestrator knows the process is alive without each handler keeping time. false: only the handler's own
   * `heartbeat()` calls go out, for a handler that should prove progress, not just life.
   */
  readonly autoHeartbeat?: boolean;
  /**
   * How a failed ledger call is tried again in place before the attempt is reported as WORKER.LEDGER_UNAVAILABLE
   * (default LEDGER_RETRY: 5 retries, 100 ms doubling to 2 s, with jitter; about 6 s in all).
   */
  readonly ledgerRetry?: LedgerRetry;
}

export interface Worker {
  readonly name: string;
  readonly instance: string;
  /** Handlers running now. */
  readonly running: number;
  start(): Promise<void>;
  /** Takes no new commands, lets running handlers finish within the grace period, then aborts the rest. */
  stop(): Promise<void>;
}

/** How long stopping waits for handlers after aborting them; one that ignores its signal is left behind. */
const ABORTED_WAIT_MS = 2_000;

/** See WorkerOptions.reportStartedAfterMs. */
export const DEFAULT_REPORT_STARTED_AFTER_MS = 100;

const silent: WorkerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function createWorker(options: WorkerOptions): Worker {
  if (!/^[A-Za-z0-9._-]+$/.test(options.name))
    throw new TypeError(
      `createWorker: name must be letters, digits, ".", "_" or "-" (it names a topic), got ${JSON.stringify(options.name)}`,
    );
  const graceMs = options.shutdownGraceMs ?? 10_000;
  const reportStartedAfterMs = options.reportStartedAfterMs ?? DEFAULT_REPORT_STARTED_AFTER_MS;
  if (!Number.isFinite(reportStartedAfterMs) || reportStartedAfterMs < 0)
    throw new TypeError(
      `createWorker: reportStartedAfterMs must be a number of ms, 0 or more; got ${String(options.reportStartedAfterMs)}`,
    );
  if (!Number.isFinite(graceMs) || graceMs < 0)
    throw new TypeError(
      `createWorker: shutdownGraceMs must be a non-negative number, got ${String(options.shutdownGraceMs)}`,
    );
  const name = options.name;
  const instance = options.instance ?? `${hostname()}-${process.pid}`;
  const logger = options.logger ?? silent;
  const ledger = patientLedger(
    options.ledger ?? createMemoryLedger(),
    (call, key, error) =>
      logger.warn('idempotency ledger call failed; trying again', {
        worker: name,
        call,
        idempotencyKey: key,
        error: describe(error),
      }),
    options.ledgerRetry,
  );
  const inFlight = new Set<Promise<void>>();
  const attempts = new Set<AbortController>();
  let subscription: BusSubscription | undefined;
  let state: 'new' | 'started' | 'stopping' = 'new';
  let stopped: Promise<void> | undefined;

  const handle = async (command: StepCommandMessage, headers: Readonly<Record<string, string>>): Promise<void> => {
    // Reports carry this attempt's span (a child of the dispatch's), so the run stays one trace.
    const parent = currentTraceparent() ?? headers.traceparent;
    const traced: Record<string, string> = parent ? { traceparent: parent } : {};
    const phase = command.type === 'step.compensate' ? 'compensate' : 'execute';
    const base = { runId: command.runId, stepId: command.stepId, attempt: command.attempt, phase } as const;
    const fields = { worker: name, instance, ...base, idempotencyKey: command.idempotencyKey };
    const report = (message: StepEventMessage): Promise<void> =>
      options.bus.publish(Topics.stepEvents, [{ key: message.runId, value: message, headers: traced }]);
    const reportOutcome = (outcome: Outcome): Promise<void> => {
      const used = outcome.usage !== undefined ? { usage: outcome.usage } : {};
      return report(
        outcome.ok
          ? { type: 'step.completed', ...base, output: outcome.output, ...used }
          : { type: 'step.failed', ...base, error: outcome.error, ...used },
      );
    };
    const claimContext: ClaimContext = { ...base, worker: name, instance };

    let claim: ClaimResult;
    try {
      claim = await ledger.claim(command.idempotencyKey, claimContext);
    } catch (error) {
      // Nothing ran, and nobody owns the key: a retryable failure lets the orchestrator back off and try again.
      logger.error('idempotency ledger claim failed', { ...fields, error: describe(error) });
      await reportOutcome(ledgerUnavailable(name, 'claim', error));
      return;
    }
    if (claim.state === 'done') {
      await reportOutcome(claim.outcome);
      return;
    }
    if (claim.state === 'running') {
      logger.info('attempt already claimed elsewhere; delivery ignored', fields);
      return;
    }

    const began = Date.now();
    const recorded = claim.executionRecorded === true;
    const outcome = await execute(command, phase, base, claimContext, traced, report, fields, recorded);
    if (outcome === undefined) return;
    logger.info('step attempt finished', {
      ...fields,
      ok: outcome.ok,
      ...(outcome.ok ? {} : { code: outcome.error.code, retryable: outcome.error.retryable }),
      ms: Date.now() - began,
    });
    // Side by side: the order does not matter. A redelivery after the report finds the key running (or done) and
    // stays silent (or repeats the same outcome); if completing fails, the report still goes out.
    const completed = ledger.complete(command.idempotencyKey, outcome).catch((error: unknown) => {
      logger.error('idempotency ledger complete failed', { ...fields, error: describe(error) });
    });
    await Promise.all([completed, reportOutcome(outcome)]);
  };

  /** Runs the handler of a claimed attempt; undefined when the attempt was cut short by shutdown and goes unreported. */
  const execute = async (
    command: StepCommandMessage,
    phase: 'execute' | 'compensate',
    base: { runId: string; stepId: string; attempt: number; phase: 'execute' | 'compensate' },
    claimContext: ClaimContext,
    traced: Record<string, string>,
    report: (message: StepEventMessage) => Promise<void>,
    fields: Record<string, unknown>,
    executionRecorded: boolean,
  ): Promise<Outcome | undefined> => {
    if (command.deadline !== null && Date.now() >= command.deadline) {
      // The orchestrator has given up on this attempt and may be running the next: doing it now could do the work twice.
      return {
        ok: false,
        error: {
          code: 'STEP.DEADLINE_EXCEEDED',
          message: `attempt ${command.attempt} of "${command.stepId}" arrived after its deadline`,
          retryable: true,
        },
      };
    }
    // A named action never falls back to the phase's default handler: running `execute` for a `refund` would do the opposite.
    const handler = Object.hasOwn(options.handlers, command.action ?? phase)
      ? options.handlers[command.action ?? phase]
      : undefined;
    if (!handler) {
      return {
        ok: false,
        error: {
          code: 'WORKER.NO_HANDLER',
          message: `worker "${name}" has no handler for ${command.action ?? phase}`,
          retryable: false,
        },
      };
    }
    const controller = new AbortController();
    const meter = new UsageMeter();
    const metered = (outcome: Outcome): Outcome =>
      meter.total === undefined ? outcome : { ...outcome, usage: meter.total };
    const cancelDeadline =
      command.deadline === null
        ? () => undefined
        : atDeadline(command.deadline, () =>
            controller.abort(
              new AttemptCancelledError(
                'deadline',
                `attempt ${command.attempt} of "${command.stepId}" passed its deadline`,
              ),
            ),
          );
    attempts.add(controller);
    let finished = false;
    let started: ReturnType<typeof startedReport> | undefined;
    let beats: ReturnType<typeof heartbeats> | undefined;
    try {
      started = startedReport(
        reportStartedAfterMs,
        () => report({ type: 'step.started', ...base }),
        (error) => logger.warn('step.started report failed', { ...fields, error: describe(error) }),
      );
      beats = heartbeats(
        options.autoHeartbeat === false ? null : command.heartbeatIntervalMs,
        () => report({ type: 'step.heartbeat', ...base }),
        (error) => logger.warn('step.heartbeat report failed', { ...fields, error: describe(error) }),
      );
      const [unrecorded] = await Promise.all([
        (executionRecorded ? undefined : ledger.recordExecution?.(command.idempotencyKey, claimContext))?.then(
          () => undefined,
          (error: unknown) => error ?? new Error('recordExecution failed'),
        ),
        started.sent,
      ]);
      if (unrecorded !== undefined) {
        // The handler has not run: an infrastructure failure, not the step's.
        logger.error('idempotency ledger recordExecution failed', { ...fields, error: describe(unrecorded) });
        return ledgerUnavailable(name, 'record the execution of', unrecorded);
      }
      const output = await handler({
        ...base,
        action: command.action,
        input: command.input ?? null,
        idempotencyKey: command.idempotencyKey,
        deadline: command.deadline,
        heartbeatIntervalMs: command.heartbeatIntervalMs,
        definitionId: command.definitionId,
        worker: name,
        instance,
        traceparent: traced.traceparent ?? null,
        signal: controller.signal,
        heartbeat: async () => {
          if (!finished && !controller.signal.aborted) await report({ type: 'step.heartbeat', ...base });
        },
        reportUsage: (usage) => {
          try {
            meter.add(usage);
          } catch (error) {
            throw new TypeError(`reportUsage: ${error instanceof Error ? error.message : String(error)}`, {
              cause: error,
            });
          }
        },
      });
      return metered(successOutcome(output, name));
    } catch (error) {
      const reason = controller.signal.reason as unknown;
      if (controller.signal.aborted && reason instanceof AttemptCancelledError && reason.kind === 'shutdown') {
        logger.warn('attempt aborted by shutdown; not reported, the orchestrator times it out', fields);
        return undefined;
      }
      options.onError?.(error, { runId: base.runId, stepId: base.stepId, attempt: base.attempt });
      if (controller.signal.aborted && reason instanceof AttemptCancelledError)
        return metered(deadlineOutcome(error, reason));
      return metered({ ok: false, error: toStepError(error) });
    } finally {
      finished = true;
      await Promise.all([started?.settled(), beats?.stop()]);
      cancelDeadline();
      attempts.delete(controller);
    }
  };

  const track = (work: Promise<void>): Promise<void> => {
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };

  return {
    name,
    instance,
    get running() {
      return attempts.size;
    },
    async start() {
      if (state !== 'new')
        throw new Error(
          `worker "${name}" was already ${state === 'started' ? 'started' : 'stopped'}; create a new one`,
        );
      state = 'started';
      let joined: BusSubscription;
      try {
        joined = await options.bus.subscribe(
          {
            topics: [Topics.commands(name)],
            group: options.group ?? Topics.group(`orchestron-worker-${name}`),
            concurrency: options.concurrency ?? 16,
            // The ledger deduplicates by attempt, so a run's steps (one key) need not wait for each other.
            orderByKey: false,
          },
          (message) =>
            track(
              (async () => {
                const command = parseStepCommand(message.value, name);
                const attributes = {
                  'orchestron.step.id': command.stepId,
                  'orchestron.attempt': command.attempt,
                  'orchestron.worker': name,
                  'orchestron.worker.instance': instance,
                };
                await withSpan(
                  `worker ${name} ${command.action ?? (command.type === 'step.compensate' ? 'compensate' : 'execute')}`,
                  { headers: message.headers ?? {}, runId: command.runId, kind: 'consumer', attributes },
                  () => handle(command, message.headers ?? {}),
                );
              })(),
            ),
        );
      } catch (error) {
        state = 'new';
        throw error;
      }
      // stop() may have run while the group was joining: it had no subscription to close, so close it here.
      if (state !== 'started') {
        await joined.close();
        return;
      }
      subscription = joined;
    },
    stop() {
      stopped ??= (async () => {
        state = 'stopping';
        // Closing the subscription first stops new deliveries; the bus lets the handlers it started finish.
        const closing = subscription?.close() ?? Promise.resolve();
        subscription = undefined;
        let drained = await settlesWithin(inFlight, graceMs);
        if (!drained) {
          logger.warn('shutdown grace period over; aborting running attempts', {
            worker: name,
            instance,
            running: attempts.size,
            graceMs,
          });
          for (const controller of attempts)
            controller.abort(new AttemptCancelledError('shutdown', `worker "${name}" is shutting down`));
          drained = await settlesWithin(inFlight, ABORTED_WAIT_MS);
        }
        if (drained) {
          await closing;
        } else {
          logger.error('handlers ignored their abort signal; stopping without them', {
            worker: name,
            instance,
            running: attempts.size,
          });
          closing.catch((error: unknown) =>
            logger.error('closing the subscription failed', { worker: name, error: describe(error) }),
          );
        }
      })();
      return stopped;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
