import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsOptions {
  /** Added as the `service` label on every series, e.g. `orchestrator`. */
  readonly service: string;
  /** Process metrics (CPU, memory, event-loop lag, GC) from prom-client; on unless false. */
  readonly defaultMetrics?: boolean;
}

/** Breaker states as the `orchestron_breaker_state` gauge encodes them. */
export const BREAKER_STATE_VALUE = { closed: 0, open: 1, 'half-open': 2 } as const;
export type BreakerStateName = keyof typeof BREAKER_STATE_VALUE;

/** Step latencies run from a few milliseconds (a lookup) to minutes (an LLM call, a payment). */
export const STEP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface Metrics {
  readonly registry: Registry;
  /** Runs currently in each status (label `status`), set from the run index. */
  /** Runs by `status` and `tenant`. */
  readonly runsByStatus: Gauge<'status' | 'tenant'>;
  /** Step attempt latency in seconds, by `worker` and `outcome` (completed, failed, timed-out, ...). */
  readonly stepDuration: Histogram<'worker' | 'outcome'>;
  readonly stepRetries: Counter<'worker'>;
  /** 0 closed, 1 open, 2 half-open: use `setBreakerState`. */
  readonly breakerState: Gauge<'worker'>;
  readonly workerInflight: Gauge<'worker'>;
  /** The concurrency limit a worker currently allows itself. */
  readonly workerLimit: Gauge<'worker'>;
  /** Attempts flow control holds for a worker (breaker open, at its limit or its rate): runs waiting, not failing. */
  readonly heldAttempts: Gauge<'worker'>;
  /** The same, by the `reason` each was held for (breaker_open, concurrency_limit, rate_limit). */
  readonly heldAttemptsByReason: Gauge<'worker' | 'reason'>;
  /** Attempts per second a worker is allowed (its token bucket's rate); -1 for no limit. */
  readonly workerRate: Gauge<'worker'>;
  readonly consumerLag: Gauge<'group' | 'topic' | 'partition'>;
  readonly governanceDecisions: Counter<'outcome' | 'policy'>;
  readonly messagesHandled: Counter<'topic' | 'outcome'>;
  /** Tokens workers reported (`kind`: input or output), by definition and model. */
  readonly usageTokens: Counter<'definition' | 'model' | 'kind'>;
  /** Cost workers reported, by definition and currency. */
  readonly usageCost: Counter<'definition' | 'currency'>;
  /** Runs that passed their budget and stopped, by definition. */
  readonly budgetsExceeded: Counter<'definition'>;
  setBreakerState(worker: string, state: BreakerStateName): void;
  /** The Prometheus text exposition of every series in the registry. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** Orchestron's metrics in a registry of their own, so two services (or tests) in one process do not collide. */
export function createMetrics(options: MetricsOptions): Metrics {
  if (typeof options.service !== 'string' || options.service === '')
    throw new Error('createMetrics: service must be a non-empty string');
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const breakerState = new Gauge({
    name: 'orchestron_breaker_state',
    help: 'Circuit breaker state per worker: 0 closed, 1 open, 2 half-open',
    labelNames: ['worker'] as const,
    registers,
  });
  return {
    registry,
    runsByStatus: new Gauge({
      name: 'orchestron_runs',
      help: 'Runs currently in each status, per tenant',
      labelNames: ['status', 'tenant'] as const,
      registers,
    }),
    stepDuration: new Histogram({
      name: 'orchestron_step_duration_seconds',
      help: 'Step attempt latency from dispatch to report',
      labelNames: ['worker', 'outcome'] as const,
      buckets: STEP_DURATION_BUCKETS,
      registers,
    }),
    stepRetries: new Counter({
      name: 'orchestron_step_retries_total',
      help: 'Step attempts scheduled after a failed one',
      labelNames: ['worker'] as const,
      registers,
    }),
    breakerState,
    workerInflight: new Gauge({
      name: 'orchestron_worker_inflight',
      help: 'Step attempts a worker is running now',
      labelNames: ['worker'] as const,
      registers,
    }),
    workerLimit: new Gauge({
      name: 'orchestron_worker_limit',
      help: 'Concurrency limit a worker currently allows itself',
      labelNames: ['worker'] as const,
      registers,
    }),
    heldAttempts: new Gauge({
      name: 'orchestron_held_attempts',
      help: 'Step attempts held by flow control (breaker open, concurrency limit or rate limit)',
      labelNames: ['worker'] as const,
      registers,
    }),
    heldAttemptsByReason: new Gauge({
      name: 'orchestron_held_attempts_by_reason',
      help: 'Step attempts held by flow control, by the reason they were held for',
      labelNames: ['worker', 'reason'] as const,
      registers,
    }),
    workerRate: new Gauge({
      name: 'orchestron_worker_rate',
      help: 'Step attempts per second a worker is allowed (token bucket rate); -1 for no limit',
      labelNames: ['worker'] as const,
      registers,
    }),
    consumerLag: new Gauge({
      name: 'orchestron_consumer_lag',
      help: 'Messages between the committed offset and the end of the partition',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers,
    }),
    governanceDecisions: new Counter({
      name: 'orchestron_governance_decisions_total',
      help: 'Governance verdicts by outcome and deciding policy',
      labelNames: ['outcome', 'policy'] as const,
      registers,
    }),
    usageTokens: new Counter({
      name: 'orchestron_usage_tokens_total',
      help: 'Tokens workers reported with their outcomes (kind: input or output)',
      labelNames: ['definition', 'model', 'kind'] as const,
      registers,
    }),
    usageCost: new Counter({
      name: 'orchestron_usage_cost_total',
      help: 'Cost workers reported with their outcomes, in each currency',
      labelNames: ['definition', 'currency'] as const,
      registers,
    }),
    budgetsExceeded: new Counter({
      name: 'orchestron_budget_exceeded_total',
      help: 'Runs that passed their budget and stopped for an operator',
      labelNames: ['definition'] as const,
      registers,
    }),
    messagesHandled: new Counter({
      name: 'orchestron_messages_handled_total',
      help: 'Bus messages handled by topic and outcome',
      labelNames: ['topic', 'outcome'] as const,
      registers,
    }),
    setBreakerState: (worker, state) => {
      const value = BREAKER_STATE_VALUE[state];
      if (value === undefined)
        throw new Error(`setBreakerState: unknown state "${String(state)}" (expected closed, open or half-open)`);
      breakerState.set({ worker }, value);
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
