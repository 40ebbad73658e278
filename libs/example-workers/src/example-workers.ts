import { createWorker, WORKER_CHECK_ACTION, workerCheckHandler } from '@orchestron/worker-sdk';
import type { IdempotencyLedger, StepHandler, Worker, WorkerLogger } from '@orchestron/worker-sdk';
import type { MessageBus } from '@orchestron/bus';
import { onboardingHandlers } from './onboarding.ts';
import { paymentsHandlers } from './payments.ts';
import { llmHandlers, modelFromEnv } from './llm.ts';
import type { LanguageModel } from './llm.ts';
import { recordsHandlers } from './records.ts';
import { simulatedWith } from './simulate.ts';

/** Every example worker, in the order they start. */
export const EXAMPLE_WORKER_NAMES = [
  'identity',
  'iam',
  'mail',
  'workspace',
  'chat',
  'payments',
  'records',
  'llm',
] as const;
export type ExampleWorkerName = (typeof EXAMPLE_WORKER_NAMES)[number];

/** The workers of examples/employee-onboarding.yaml. */
export const ONBOARDING_WORKER_NAMES: readonly ExampleWorkerName[] = ['identity', 'iam', 'mail', 'workspace', 'chat'];

export interface ExampleWorkerOptions {
  readonly bus: MessageBus;
  /** Shared by all the workers started here (keys never collide across workers: they name the run and step). */
  readonly ledger?: IdempotencyLedger;
  /** Which to start; default all of EXAMPLE_WORKER_NAMES (createOnboardingWorkers: the onboarding five). */
  readonly workers?: readonly string[];
  readonly instance?: string;
  /** Work time of a normal step, in ms (default 50). */
  readonly workMs?: number;
  /** Work time of a `slow` step, in ms (default 4000); it heartbeats every `heartbeatMs` (default 1000) meanwhile. */
  readonly slowMs?: number;
  readonly heartbeatMs?: number;
  readonly concurrency?: number;
  readonly shutdownGraceMs?: number;
  /** When each attempt reports step.started (see WorkerOptions.reportStartedAfterMs; default at once). */
  readonly reportStartedAfterMs?: number;
  readonly logger?: WorkerLogger;
  /** The `llm` worker's model; default modelFromEnv() (an OpenAI-compatible API with OPENAI_API_KEY, else the stand-in). */
  readonly model?: LanguageModel;
}

/** The example workers named in `options.workers` (all by default), not yet started. An unknown name is an error that lists the known ones. */
export function createExampleWorkers(options: ExampleWorkerOptions): Worker[] {
  const names = options.workers ?? EXAMPLE_WORKER_NAMES;
  const unknown = names.filter((name) => !isExampleWorkerName(name));
  if (unknown.length > 0)
    throw new Error(
      `unknown example worker ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${EXAMPLE_WORKER_NAMES.join(', ')}`,
    );
  if (new Set(names).size !== names.length) throw new Error(`example workers named twice: ${names.join(', ')}`);
  const simulated = simulatedWith({
    workMs: options.workMs ?? 50,
    slowMs: options.slowMs ?? 4000,
    heartbeatMs: options.heartbeatMs ?? 1000,
  });
  const handlers: Record<ExampleWorkerName, Record<string, StepHandler>> = {
    ...onboardingHandlers(simulated),
    payments: paymentsHandlers(simulated),
    records: recordsHandlers(simulated),
    llm: llmHandlers(options.model ?? modelFromEnv()),
  };
  return names.map((name) =>
    createWorker({
      name,
      bus: options.bus,
      // Every example worker can be checked against the contract with `orchestron worker-check`.
      handlers: { ...handlers[name as ExampleWorkerName], [WORKER_CHECK_ACTION]: workerCheckHandler },
      concurrency: options.concurrency ?? 64,
      ...(options.ledger ? { ledger: options.ledger } : {}),
      ...(options.instance !== undefined ? { instance: options.instance } : {}),
      ...(options.shutdownGraceMs !== undefined ? { shutdownGraceMs: options.shutdownGraceMs } : {}),
      ...(options.reportStartedAfterMs !== undefined ? { reportStartedAfterMs: options.reportStartedAfterMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    }),
  );
}

/** The workers of examples/employee-onboarding.yaml: identity, iam, mail, workspace, chat (or the subset `options.workers` names). */
export function createOnboardingWorkers(options: ExampleWorkerOptions): Worker[] {
  return createExampleWorkers({ ...options, workers: options.workers ?? ONBOARDING_WORKER_NAMES });
}

export function isExampleWorkerName(name: string): name is ExampleWorkerName {
  return (EXAMPLE_WORKER_NAMES as readonly string[]).includes(name);
}
